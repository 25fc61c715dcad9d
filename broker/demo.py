"""The demo: the whole chain on the synthetic Zwolle population, every role played in turn.

Demo only: nothing here is used outside `broker demo`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from partner_agent.extract import read_extract
from partner_agent.validate import Validated, validate
from schemas import get_schema
from schemas.synthetic import generate


@dataclass(frozen=True)
class PartnerResult:
    """What one partner's check found."""

    schema_ref: str
    path: Path
    rows: int
    validated: Validated


def run_demo(workdir: Path, seed: int, say: Callable[[str], None]) -> list[PartnerResult]:
    """Generate the partners' extracts in `workdir/extracts` and check each as its partner would."""
    say(f"generating the synthetic Zwolle population (seed {seed}) …")
    paths = generate(workdir / "extracts", seed=seed)
    results = []
    for schema_id, path in paths.items():
        schema = get_schema(schema_id)
        ex = read_extract(path)
        results.append(
            PartnerResult(
                schema.ref, path, len(ex.table), validate(ex.table, schema, ex.first_line)
            )
        )
    return results

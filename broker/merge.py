"""Merge: open the current packages in memory, re-key them (stage 2), link them.

Nothing decrypted is written anywhere: payloads are decrypted into memory, their P1 pseudonyms
replaced by P2 = HMAC(broker pseudonym key, P1) before DuckDB sees them, and linked in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from broker.link import SOURCES, Linked, Linker
from broker.store import Store
from keys.identity import Identity
from keys.package import open_package
from keys.pseudonym import PSEUDONYM_TYPE, hmac_column
from partner_agent.minimise import minimise
from partner_agent.validate import validate
from schemas import get_schema
from schemas.errors import UsageError


@dataclass(frozen=True)
class Merged:
    """The linked data of one merge, and which packages went in."""

    linked: Linked
    reference_date: dt.date
    packages: list[dict[str, Any]]


def rekey(table: pa.Table, pseudonym_key: bytes) -> pa.Table:
    """Replace every P1 pseudonym column by P2 = HMAC(broker key, P1)."""
    for i, f in enumerate(table.schema):
        if f.type == PSEUDONYM_TYPE:
            table = table.set_column(i, f.name, hmac_column(table.column(i), pseudonym_key))
    return table


def empty_table(schema_id: str) -> pa.Table:
    """The (empty) table a partner that sent nothing would have sent, with the right types."""
    schema = get_schema(schema_id)
    raw = pd.DataFrame({c.name: pd.Series([], dtype="string") for c in schema.columns})
    return minimise(validate(raw, schema), raw, schema, dt.date(2000, 1, 1), b"\0" * 32).table


def _open(store: Store, package_id: str, broker: Identity) -> pa.Table:
    path = store.accepted_dir / f"{package_id}.kixpkg"
    out = io.BytesIO()
    with path.open("rb") as f:
        open_package(f, path.stat().st_size, store.keyring(), broker, out)
    return pq.read_table(io.BytesIO(out.getvalue()))


def merge(
    store: Store,
    broker: Identity,
    pseudonym_key: bytes,
    geo: pd.DataFrame,
    step: Callable[[str], None] = lambda _: None,
) -> Merged:
    """Open, re-key and link every current package of the store."""
    current = store.state().current()
    brp = [d for d in current if d["schema"] == "brp"]
    if not brp:
        raise UsageError(
            "no BRP package in the store: the population comes from the BRP",
            hint="ingest the gemeente's package first",
        )
    reference = max(d["reference_date"] for d in brp)
    used = [d for d in current if d["reference_date"] == reference]
    parts: dict[str, list[pa.Table]] = {s: [] for s in SOURCES}
    for d in used:
        step(f"opening {d['partner']} {d['schema']}")
        parts[d["schema"]].append(rekey(_open(store, d["package_id"], broker), pseudonym_key))
    tables = {s: pa.concat_tables(p) if p else empty_table(s) for s, p in parts.items()}
    step("linking")
    ref = dt.date.fromisoformat(reference)
    linked = Linker().link(tables, geo, ref)
    return Merged(linked, ref, used)

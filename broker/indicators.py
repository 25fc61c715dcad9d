"""The indicator spec (data, in schemas/indicators/) and the counts it asks for.

An indicator is a numerator over a population (its denominator), in a theme, with a direction.
Expressions are a small SQL subset checked against the linked table's columns: names, AND / OR /
NOT, comparisons with whole numbers, BETWEEN, IS [NOT] NULL, parentheses. Nothing else passes, so
a spec cannot read anything but the linked table.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from broker.link import LINKED_COLUMNS
from keys import crypto

SPEC_PATH = Path(__file__).parent.parent / "schemas" / "indicators" / "kinderindex.v1.json"
SPEC_ID = "kinderindex@v1"
LEVELS = ("buurt", "wijk", "gemeente")
LINKAGE_THEME = "koppeling"  # linkage-quality figures: released and protected, not in the index
_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|<>|=|<|>|\(|\)))")
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IS", "NULL", "TRUE", "FALSE"}


def check_expression(expr: str) -> str:
    """`expr` unchanged if it only uses linked columns and the allowed SQL subset."""
    pos = 0
    while pos < len(expr.rstrip()):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"not allowed in an indicator expression at {pos}: {expr[pos:]!r}")
        name = m.group(2)
        if name and name.upper() not in _KEYWORDS and name not in LINKED_COLUMNS:
            raise ValueError(f"{name!r} is not a column of the linked table")
        pos = m.end()
    return expr


class Population(BaseModel):
    """A denominator: who is counted."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str
    where: str
    _check = field_validator("where")(check_expression)


class Indicator(BaseModel):
    """One indicator."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    theme: str
    direction: Literal["risk", "protective"]
    population: str
    numerator: str
    label: str
    _check = field_validator("numerator")(check_expression)


class Band(BaseModel):
    """A band of the composite index."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    below: float | None
    label: str


class Composite(BaseModel):
    """How the composite kinderindex is formed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min_indicators_per_theme: int
    min_themes: int
    bands: tuple[Band, ...]


class Spec(BaseModel):
    """The versioned indicator spec."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    version: int
    title: str
    populations: dict[str, Population]
    themes: dict[str, str]
    indicators: tuple[Indicator, ...]
    composite: Composite

    @model_validator(mode="after")
    def _references(self) -> Spec:
        for ind in self.indicators:
            if ind.population not in self.populations or ind.theme not in self.themes:
                raise ValueError(f"indicator {ind.id}: unknown population or theme")
        if not 12 <= len(self.index_indicators()) <= 18:
            raise ValueError("a kinderindex has 12 to 18 indicators")
        if len({i.id for i in self.indicators}) != len(self.indicators):
            raise ValueError("indicator ids must be unique")
        return self

    def index_indicators(self) -> list[Indicator]:
        """The indicators of the kinderindex (not the linkage-quality ones)."""
        return [i for i in self.indicators if i.theme != LINKAGE_THEME]


@cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """The spec in use."""
    return Spec(**json.loads(path.read_text(encoding="utf-8")))


def spec_sha256(path: Path = SPEC_PATH) -> str:
    """Hash of the spec file: what the officer's policy approves."""
    return crypto.sha256(path.read_bytes()).hex()


def counts_sql(spec: Spec) -> str:
    """Per buurt: each population's size and each indicator's numerator."""
    parts = [
        f'count(*) FILTER (WHERE {p.where}) AS "d:{pid}"' for pid, p in spec.populations.items()
    ]
    parts += [
        f"count(*) FILTER (WHERE ({spec.populations[i.population].where}) AND ({i.numerator})) "
        f'AS "n:{i.id}"'
        for i in spec.indicators
    ]
    return f"SELECT buurtcode, {', '.join(parts)} FROM gekoppeld GROUP BY buurtcode"


def counts(linked: pa.Table, spec: Spec, geo: pd.DataFrame) -> pd.DataFrame:
    """Long table of counts at every level: level, code, parent, kind (d/n), key, value.

    `key` is the population id for a denominator and the indicator id for a numerator. Buurten
    without any child still get a row (zeros), so that sums over the hierarchy hold.
    """
    con = duckdb.connect(":memory:", config={"temp_directory": ""})
    con.register("gekoppeld", linked)
    per_buurt = con.execute(counts_sql(spec)).df()
    wide = (
        geo[["buurtcode", "wijkcode", "gemeentecode"]]
        .merge(per_buurt, on="buurtcode", how="left")
        .fillna(0)
    )
    value_cols = [c for c in wide.columns if ":" in c]
    frames = []
    for level, code, parent in (
        ("buurt", "buurtcode", "wijkcode"),
        ("wijk", "wijkcode", "gemeentecode"),
        ("gemeente", "gemeentecode", None),
    ):
        g = wide.groupby(code, as_index=False)[value_cols].sum()
        parents = wide.drop_duplicates(code).set_index(code)[parent] if parent else None
        long = g.melt(id_vars=code, var_name="cell", value_name="value")
        long["level"] = level
        long["code"] = long.pop(code)
        long["parent"] = long["code"].map(parents) if parents is not None else None
        frames.append(long)
    out = pd.concat(frames, ignore_index=True)
    out[["kind", "key"]] = out.pop("cell").str.split(":", expand=True)
    out["value"] = out["value"].astype(int)
    return out[["level", "code", "parent", "kind", "key", "value"]]

"""Minimise and pseudonymise a validated extract into the table that leaves the partner.

Pure: takes the validated table, the schema, the reference date and the link key; returns an
Arrow table and the facts about what was dropped (counts and column names, never values).

- only schema columns go in; the others are listed as dropped;
- a birth date (or due date) becomes `leeftijd_maanden` at the reference date (negative before
  birth); other dates keep only their month; no address column exists in any schema;
- every identifier becomes a keyed pseudonym, P1 = HMAC-SHA256(link key, domain ‖ value), with a
  domain per identifier type, so a BSN and an onderwijsnummer with the same digits differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from keys.pseudonym import distinct, hmac_column
from partner_agent.validate import Validated
from schemas.checkdigits import onderwijsnummer_mask
from schemas.model import SourceSchema

AGE_COLUMN = "leeftijd_maanden"
DOMAINS = {"bsn": b"bsn:v1:", "onderwijsnummer": b"onr:v1:", "huishouden_id": b"huishouden:v1:"}


@dataclass(frozen=True)
class Minimised:
    """The table that will be sealed, and what minimisation did."""

    table: pa.Table
    dropped_columns: list[str]
    rows_in_extract: int
    rows_dropped: int  # rows whose required identifier was invalid (only with drop_invalid)
    identifiers_blanked: dict[str, int] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        """The manifest's `details`: counts and names, no values."""
        return {
            "rows_in_extract": self.rows_in_extract,
            "rows_dropped_invalid_identifier": self.rows_dropped,
            "optional_identifiers_blanked": self.identifiers_blanked,
            "dropped_columns": self.dropped_columns,
            "pseudonym": "HMAC-SHA256(link key, domain || value), domains "
            + ", ".join(d.decode() for d in DOMAINS.values()),
        }


def pseudonyms(values: pd.Series, kind: str, link_key: bytes) -> pa.Array:
    """P1 pseudonyms of `values` (nulls stay null); each distinct value is hashed once.

    `kind` is the identifier kind: a `leerling_id` is hashed in the onderwijsnummer domain when it
    is one, else in the BSN domain.
    """
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    if kind != "leerling_id":
        domain = DOMAINS["huishouden_id" if kind == "huishouden_id" else "bsn"]
        return hmac_column(arr, link_key, domain)
    uniques = distinct(arr).dictionary
    is_onr = onderwijsnummer_mask(uniques.to_pandas())
    domains = np.where(is_onr, DOMAINS["onderwijsnummer"], DOMAINS["bsn"]).tolist()
    return hmac_column(arr, link_key, pa.array(domains, type=pa.binary()))


def months_between(born: pd.Series, reference: dt.date) -> pd.Series:
    """Age in completed months at `reference`, rounded down (so −5 for a birth 4½ months ahead)."""
    ref = pd.Timestamp(reference)
    months = (ref.year - born.dt.year) * 12 + (ref.month - born.dt.month)
    return (months - (born.dt.day > ref.day).astype(int)).astype("Int64")


def minimise(
    validated: Validated,
    raw: pd.DataFrame,
    schema: SourceSchema,
    reference_date: dt.date,
    link_key: bytes,
    drop_invalid: bool = False,
) -> Minimised:
    """The table that leaves the partner: schema columns only, minimised, pseudonymised."""
    keep = np.ones(len(raw), dtype=bool)
    blanked: dict[str, int] = {}
    text = {c.name: raw[c.name] for c in schema.columns if c.name in raw.columns}
    if drop_invalid:
        for col in schema.columns:
            if not col.identifier or col.name not in text:
                continue
            bad = _bad_rows(validated, col.name)
            if col.required:
                keep &= ~bad
            elif bad.any():
                text[col.name] = text[col.name].mask(bad)
                blanked[col.name] = int(bad.sum())
    arrays: dict[str, pa.Array] = {}
    for col in schema.columns:
        if col.name not in text:
            continue
        if col.identifier:
            arrays[col.name] = pseudonyms(text[col.name][keep], col.kind, link_key)
        elif col.kind == "birth_date":
            ages = months_between(validated.parsed[col.name][keep], reference_date)
            arrays[AGE_COLUMN] = pa.array(ages, type=pa.int32(), from_pandas=True)
        elif col.kind == "date":
            month = validated.parsed[col.name][keep].dt.to_period("M").dt.start_time
            arrays[col.name] = pa.array(month.dt.date, type=pa.date32(), from_pandas=True)
        elif col.kind == "integer":
            arrays[col.name] = pa.array(
                validated.parsed[col.name][keep], type=pa.int32(), from_pandas=True
            )
        elif col.kind == "number":
            arrays[col.name] = pa.array(
                validated.parsed[col.name][keep], type=pa.float64(), from_pandas=True
            )
        elif col.kind == "boolean":
            arrays[col.name] = pa.array(
                validated.parsed[col.name][keep], type=pa.bool_(), from_pandas=True
            )
        else:  # category, buurtcode, brin: kept as text
            arrays[col.name] = pa.array(text[col.name][keep], type=pa.string(), from_pandas=True)
    known = {c.name for c in schema.columns}
    return Minimised(
        table=pa.table(arrays),
        dropped_columns=[str(c) for c in raw.columns if c not in known],
        rows_in_extract=len(raw),
        rows_dropped=int((~keep).sum()),
        identifiers_blanked=blanked,
    )


def _bad_rows(validated: Validated, column: str) -> npt.NDArray[np.bool_]:
    """Rows where `column` broke a rule (missing where required, or a failed check)."""
    return validated.bad_rows.get(column, np.zeros(len(validated.parsed), dtype=bool))

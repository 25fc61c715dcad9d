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

from keys import crypto
from partner_agent.validate import Validated
from schemas.checkdigits import onderwijsnummer_mask
from schemas.model import Column, SourceSchema

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


def pseudonyms(values: pd.Series, domains: pd.Series | bytes, link_key: bytes) -> pa.Array:
    """32-byte pseudonyms of `values` (nulls stay null); each distinct value is hashed once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if isinstance(domains, bytes):
        messages = [domains + v.encode("ascii") for v in uniques]
    else:
        first = pd.Series(np.arange(len(values)), index=values.index).groupby(codes).first()
        dom = domains.to_numpy()[first.drop(-1, errors="ignore").to_numpy()]
        messages = [d + v.encode("ascii") for d, v in zip(dom, uniques, strict=True)]
    digests = crypto.hmac_sha256_many(link_key, messages)
    table = pa.array(digests, type=pa.binary(32))
    return table.take(pa.array(codes, mask=codes < 0))


def months_between(born: pd.Series, reference: dt.date) -> pd.Series:
    """Age in completed months at `reference`, rounded down (so −5 for a birth 4½ months ahead)."""
    ref = pd.Timestamp(reference)
    months = (ref.year - born.dt.year) * 12 + (ref.month - born.dt.month)
    return (months - (born.dt.day > ref.day).astype(int)).astype("Int64")


def _identifier(col: Column, text: pd.Series, link_key: bytes) -> pa.Array:
    if col.kind == "leerling_id":
        is_onr = pd.Series(onderwijsnummer_mask(text), index=text.index)
        domains = is_onr.map({True: DOMAINS["onderwijsnummer"], False: DOMAINS["bsn"]})
        return pseudonyms(text, domains, link_key)
    return pseudonyms(
        text, DOMAINS["huishouden_id" if col.kind == "huishouden_id" else "bsn"], link_key
    )


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
            arrays[col.name] = _identifier(col, text[col.name][keep], link_key)
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

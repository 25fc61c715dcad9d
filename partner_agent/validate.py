"""Check an extract against its schema: every problem at once, with rows and column.

Pure: takes a table of strings and a schema, returns the parsed table and the problems. A problem
names the rule, the column and the rows; it never carries a cell's value, so nothing printed or
written from it can leak a BSN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from schemas.checkdigits import bsn_mask, onderwijsnummer_mask
from schemas.model import FALSE_WORDS, PATTERNS, TRUE_WORDS, Column, SourceSchema

# Each format with its text length and where its month digits are.
DATE_FORMATS = {"%Y-%m-%d": (10, 5), "%d-%m-%Y": (10, 3), "%Y%m%d": (8, 4), "%d/%m/%Y": (10, 3)}
Mask = npt.NDArray[np.bool_]


class Problem(BaseModel):
    """One rule broken in one column, with every row (as the user numbers them) that breaks it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    severity: Literal["error", "warning"]
    column: str | None
    message: str
    count: int
    rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class Validated:
    """The outcome of validation: typed columns (where they parsed) and the problems."""

    parsed: pd.DataFrame
    problems: list[Problem]
    bad_rows: dict[str, Mask]  # per column, the rows that broke one of its rules

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the extract from leaving."""
        return [p for p in self.problems if p.severity == "error"]


def parse_dates(text: pd.Series) -> pd.Series:
    """Dates in any partner format (ISO, dd-mm-yyyy, yyyymmdd, dd/mm/yyyy); NaT where none fits.

    Strict: zero-padded, and the month in the text must be the parsed month (Arrow's parser alone
    turns 31-02-2019 into 3 March); the year must lie in 1900–2099.
    """
    arr = pa.array(text, type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    out = pa.nulls(len(arr), type=pa.timestamp("s"))
    for fmt in _likely_first(arr):
        todo = pc.and_(pc.is_null(out), pc.is_valid(arr))
        if not pc.any(todo).as_py():
            break
        rest = arr.filter(todo)
        parsed = pc.strptime(rest, format=fmt, unit="s", error_is_null=True)
        length, at = DATE_FORMATS[fmt]
        month = pc.utf8_lpad(pc.cast(pc.month(parsed), pa.string()), 2, "0")
        year = pc.year(parsed)
        ok = pc.and_(
            pc.and_(
                pc.equal(pc.utf8_length(rest), length),
                pc.equal(pc.utf8_slice_codeunits(rest, at, at + 2), month),
            ),
            pc.and_(pc.greater_equal(year, 1900), pc.less(year, 2100)),
        )
        out = pc.replace_with_mask(out, todo, pc.if_else(ok, parsed, None))
    return pd.Series(out.to_numpy(zero_copy_only=False), index=text.index, dtype="datetime64[s]")


def _likely_first(arr: pa.Array) -> list[str]:
    """DATE_FORMATS with the one that fits the first value in front: most columns use one."""
    sample = pc.drop_null(arr)[:1]
    fits = [
        f
        for f in DATE_FORMATS
        if len(sample) and pc.strptime(sample, format=f, unit="s", error_is_null=True)[0].is_valid
    ]
    return fits[:1] + [f for f in DATE_FORMATS if f not in fits[:1]]


def parse_numbers(text: pd.Series) -> pd.Series:
    """Numbers with a decimal point or a decimal comma; NaN where not a number."""
    arr = pa.array(text, type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.replace_substring(pc.utf8_trim_whitespace(arr), ",", ".")
    numeric = pc.match_substring_regex(arr, r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
    values = pc.cast(pc.if_else(numeric, arr, None), pa.float64())
    return pd.Series(values.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def _check_column(text: pd.Series, col: Column) -> tuple[pd.Series, list[tuple[str, Mask, str]]]:
    """Parse one column; return the parsed values and (rule, failing rows, message) triples."""
    present = text.notna().to_numpy(dtype=bool)
    fails: list[tuple[str, Mask, str]] = []
    if col.required:
        fails.append(("required", ~present, "required value is missing"))
    parsed: pd.Series = text
    if col.kind == "bsn":
        bad = present & ~bsn_mask(text)
        fails.append(("bsn", bad, "not a valid BSN (nine digits, elfproef)"))
    elif col.kind == "leerling_id":
        bad = present & ~(bsn_mask(text) | onderwijsnummer_mask(text))
        fails.append(("leerling_id", bad, "neither a valid BSN nor a valid onderwijsnummer"))
    elif col.kind in PATTERNS:
        ok = text.str.fullmatch(PATTERNS[col.kind].pattern).to_numpy(dtype=bool, na_value=False)
        fails.append(("format", present & ~ok, f"does not match {PATTERNS[col.kind].pattern}"))
    elif col.kind in {"birth_date", "date"}:
        parsed = parse_dates(text)
        bad = present & parsed.isna().to_numpy()
        fails.append(("date", bad, "not a date (yyyy-mm-dd, dd-mm-yyyy or yyyymmdd)"))
    elif col.kind == "category":
        assert col.values is not None
        ok = text.isin(col.values).to_numpy(dtype=bool)
        fails.append(("value_list", present & ~ok, "not one of " + ", ".join(col.values)))
    elif col.kind == "boolean":
        low = text.str.strip().str.lower()
        parsed = pd.Series(pd.NA, index=text.index, dtype="boolean")
        parsed[low.isin(TRUE_WORDS)] = True
        parsed[low.isin(FALSE_WORDS)] = False
        bad = present & parsed.isna().to_numpy()
        fails.append(("boolean", bad, "not ja/nee, true/false or 1/0"))
    else:  # integer, number
        parsed = parse_numbers(text)
        nan = parsed.isna().to_numpy()
        fails.append(
            ("number", present & nan, f"not a{'n integer' if col.kind == 'integer' else ' number'}")
        )
        values = parsed.to_numpy(dtype=float, na_value=np.nan)
        if col.kind == "integer":
            whole = np.isnan(values) | (values == np.round(values))
            fails.append(("integer", present & ~nan & ~whole, "not a whole number"))
        lo = -np.inf if col.minimum is None else col.minimum
        hi = np.inf if col.maximum is None else col.maximum
        with np.errstate(invalid="ignore"):
            out = present & ~nan & ((values < lo) | (values > hi))
        fails.append(("range", out, f"outside {col.minimum:g}–{col.maximum:g}"))
        if col.kind == "integer":
            parsed = parsed.round().astype("Int64")
    return parsed, fails


def validate(table: pd.DataFrame, schema: SourceSchema, first_line: int = 2) -> Validated:
    """Every problem of `table` against `schema` at once; rows numbered from `first_line`."""
    problems: list[Problem] = []
    names = set(table.columns)
    line = np.arange(first_line, first_line + len(table))
    bad_rows: dict[str, Mask] = {}
    parsed: dict[str, pd.Series] = {}

    def add(
        rule: str,
        column: str | None,
        message: str,
        mask: Mask | None = None,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        rows = tuple(int(r) for r in line[mask]) if mask is not None else ()
        count = len(rows) if mask is not None else 1
        if mask is None or count:
            problems.append(
                Problem(
                    rule=rule,
                    severity=severity,
                    column=column,
                    message=message,
                    count=count,
                    rows=rows,
                )
            )

    for col in schema.columns:
        if col.name not in names:
            if col.required:
                add("missing_column", col.name, "required column is missing")
            continue
        values, fails = _check_column(table[col.name], col)
        parsed[col.name] = values
        bad_rows[col.name] = np.zeros(len(table), dtype=bool)
        for rule, mask, message in fails:
            add(rule, col.name, message, mask)
            bad_rows[col.name] |= mask
    known = {c.name for c in schema.columns}
    for name in table.columns:
        if name not in known:
            add(
                "unknown_column",
                str(name),
                "not in the schema: dropped, never leaves the partner",
                severity="warning",
            )
    dup = table.duplicated(keep="first").to_numpy()
    add("duplicate_row", None, "repeats an earlier row exactly", dup, severity="warning")
    return Validated(pd.DataFrame(parsed, index=table.index), problems, bad_rows)

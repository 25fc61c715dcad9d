"""Read a partner's extract as it really comes: CSV (any common dialect), XLSX or Parquet.

Every cell comes back as a string (or missing), so that validation sees what the partner wrote.
Row numbers are kept as the user sees them: for CSV and XLSX the file line / sheet row (the header
is line 1), for Parquet the 1-based row.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from schemas.errors import UsageError

DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written."""

    encoding: str
    delimiter: str
    decimal: str

    def describe(self) -> str:
        """One line for the data officer."""
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        return (
            f"{self.encoding}, {names.get(self.delimiter, repr(self.delimiter))}-separated, "
            f"decimal {'comma' if self.decimal == ',' else 'point'}"
        )


@dataclass(frozen=True)
class Extract:
    """An extract read into strings, with where its rows are in the file."""

    path: Path
    format: str  # csv | xlsx | parquet
    table: pd.DataFrame
    first_line: int  # the line/row number of the first data row as the user sees it
    dialect: Dialect | None = None


def detect_encoding(head: bytes) -> str:
    """utf-8-sig with a BOM, utf-8 when it decodes, else Windows-1252."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


def detect_delimiter(header: str, path: Path) -> str:
    """The delimiter that splits the header line into the most fields, if that is unambiguous."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts.values())
    winners = [d for d, c in counts.items() if c == best]
    if best == 0 or len(winners) > 1:
        raise UsageError(
            f"{path}: line 1: cannot tell the column separator from the header",
            hint="name it with --delimiter ';' (or ',', 'tab', '|')",
        )
    return winners[0]


def detect_dialect(
    path: Path, encoding: str | None, delimiter: str | None, decimal: str | None
) -> Dialect:
    """Detect what the user did not state; what the user states wins."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    enc = encoding or detect_encoding(head)
    try:
        text = head.decode(enc, errors="strict" if len(head) < (1 << 16) else "ignore")
    except (UnicodeDecodeError, LookupError) as e:
        raise UsageError(f"{path}: cannot decode as {enc}", hint="set --encoding") from e
    header = text.splitlines()[0] if text else ""
    delim = delimiter or detect_delimiter(header, path)
    # A semicolon file comes from a Dutch Excel: its decimals are commas.
    dec = decimal or ("," if delim == ";" else ".")
    return Dialect(enc, delim, dec)


def _csv(path: Path, dialect: Dialect) -> pd.DataFrame:
    enc = "utf-8" if dialect.encoding == "utf-8-sig" else dialect.encoding
    with path.open(encoding=dialect.encoding, newline="") as f:
        header = next(csv.reader(f, delimiter=dialect.delimiter), [])
    if not header:
        raise UsageError(f"{path}: the file is empty")
    header[0] = header[0].lstrip("\ufeff")
    if len(set(header)) != len(header):
        raise UsageError(f"{path}: line 1: a column name appears twice")
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=enc, column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=dialect.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as e:
        # pyarrow says e.g. "CSV parse error: Expected 9 columns, got 10: …<row text>".
        # The row text may hold a BSN, so keep only the part before it.
        reason = str(e).split(":", 2)[:2]
        raise UsageError(
            f"{path}: cannot read as {dialect.describe()}: {':'.join(reason).strip()}",
            hint="check --delimiter and --encoding",
        ) from None
    return table.to_pandas()


def _to_text(series: pd.Series) -> pd.Series:
    """Cells as the user wrote them: dates ISO, booleans true/false, whole floats without .0."""
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "true", False: "false"}).astype("string")
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").astype("string")
    if series.dtype == object:

        def cell(v: object) -> str | None:
            if v is None or (isinstance(v, float) and pd.isna(v)):
                return None
            if isinstance(v, dt.datetime | dt.date):
                return v.strftime("%Y-%m-%d")
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        return series.map(cell).astype("string")
    if pd.api.types.is_float_dtype(series):
        text = series.map(
            lambda v: None if pd.isna(v) else (str(int(v)) if v.is_integer() else str(v))
        )
        return text.astype("string")
    return series.astype("string")


def read_extract(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    sheet: str | int = 0,
) -> Extract:
    """Read `path` (by extension) into a table of strings."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        dialect = detect_dialect(path, encoding, delimiter, decimal)
        table = _csv(path, dialect)
        return Extract(path, "csv", table.astype("string"), 2, dialect)
    if suffix in {".xlsx", ".xlsm"}:
        try:
            raw = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
        except (ValueError, KeyError, OSError) as e:
            raise UsageError(f"{path}: cannot read as XLSX: {type(e).__name__}") from None
        return Extract(path, "xlsx", raw.apply(_to_text), 2, None)
    if suffix == ".parquet":
        try:
            raw = pq.read_table(path).to_pandas()
        except (pa.ArrowInvalid, OSError) as e:
            raise UsageError(f"{path}: cannot read as Parquet: {type(e).__name__}") from None
        return Extract(path, "parquet", raw.apply(_to_text), 1, None)
    raise UsageError(
        f"{path}: unknown extract format {suffix!r}", hint="use .csv, .xlsx or .parquet"
    )

import pandas as pd
import pytest

from partner_agent.extract import read_extract
from schemas.errors import UsageError

ROWS = [["111222333", "BU01931000", "0,3"], ["123456782", "BU01931010", "1,2"]]


def write(path, text, encoding):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("text", "encoding", "expect"),
    [
        ("a,b,c\n1,2,3\n", "utf-8", ("utf-8", ",", ".")),
        ("a;b;c\n1;2;3\n", "utf-8-sig", ("utf-8-sig", ";", ",")),
        ("a;b;straat\n1;2;Thomas à Kempisstraat\n", "cp1252", ("cp1252", ";", ",")),
        ("a\tb\tc\n1\t2\t3\n", "utf-8", ("utf-8", "\t", ".")),
    ],
)
def test_csv_dialects_are_detected(tmp_path, text, encoding, expect):
    ex = read_extract(write(tmp_path / "x.csv", text, encoding))
    d = ex.dialect
    assert (d.encoding, d.delimiter, d.decimal) == expect
    assert list(ex.table.columns) == ["a", "b", text.split("\n")[0][4:]]
    assert ex.first_line == 2
    if encoding == "cp1252":
        assert ex.table.iloc[0, 2] == "Thomas à Kempisstraat"


def test_user_override_wins(tmp_path):
    path = write(tmp_path / "x.csv", "a;b\n1,5;2\n", "utf-8")
    ex = read_extract(path, delimiter=";", decimal=".")
    assert ex.dialect.decimal == "."
    assert ex.table.iloc[0, 0] == "1,5"


def test_ambiguous_delimiter_is_a_clear_error(tmp_path):
    path = write(tmp_path / "x.csv", "a;b,c\n1;2,3\n", "utf-8")
    with pytest.raises(UsageError, match="cannot tell the column separator") as e:
        read_extract(path)
    assert "--delimiter" in e.value.hint


def test_parse_error_does_not_echo_row(tmp_path):
    path = write(tmp_path / "x.csv", "a,b\n111222333,2,3\n", "utf-8")
    with pytest.raises(UsageError) as e:
        read_extract(path)
    assert "111222333" not in str(e.value)


def test_empty_cells_are_missing(tmp_path):
    ex = read_extract(write(tmp_path / "x.csv", "a,b\n,2\n", "utf-8"))
    assert ex.table["a"].isna().all()


def test_xlsx_and_parquet_become_strings(tmp_path):
    df = pd.DataFrame(
        {"bsn": ["111222333"], "d": [pd.Timestamp("2023-05-01")], "flag": [True], "n": [3]}
    )
    df.to_excel(tmp_path / "x.xlsx", index=False)
    df.to_parquet(tmp_path / "x.parquet")
    for name, first in (("x.xlsx", 2), ("x.parquet", 1)):
        ex = read_extract(tmp_path / name)
        assert ex.first_line == first
        assert ex.table.iloc[0].tolist() == ["111222333", "2023-05-01", "true", "3"]


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(UsageError, match="unknown extract format"):
        read_extract(write(tmp_path / "x.json", "{}", "utf-8"))
    with pytest.raises(UsageError, match="no such file"):
        read_extract(tmp_path / "nope.csv")

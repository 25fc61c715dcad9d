import pandas as pd
import pytest

from partner_agent.extract import read_extract
from partner_agent.validate import parse_dates, validate
from schemas import get_schema

BSN = "111222333"
BAD_BSN = "111222334"


def brp_table(overrides=None):
    row = {
        "bsn_kind": BSN,
        "geboortedatum": "20190501",
        "geslacht": "V",
        "buurtcode": "BU01931000",
        "huishoudnummer": "0193123",
        "bsn_ouder1": "123456782",
        "bsn_ouder2": None,
        "aantal_ouders_huishouden": "1",
        "verhuizingen_24m": "0",
    }
    rows = [dict(row) for _ in range(4)]
    for (i, col), value in (overrides or {}).items():
        rows[i][col] = value
    return pd.DataFrame(rows).astype("string")


def rules(result):
    return {(p.rule, p.column): p.rows for p in result.problems}


def test_clean_table_has_no_problems():
    r = validate(brp_table(), get_schema("brp"))
    assert r.problems == [r.problems[0]] and r.problems[0].rule == "duplicate_row"
    assert r.errors == []


@pytest.mark.parametrize(
    ("row", "column", "value", "rule"),
    [
        (1, "bsn_kind", BAD_BSN, "bsn"),
        (2, "bsn_ouder1", "12345", "bsn"),
        (0, "bsn_kind", None, "required"),
        (3, "geslacht", "X", "value_list"),
        (1, "buurtcode", "BU0193", "format"),
        (2, "geboortedatum", "31-02-2019", "date"),
        (0, "aantal_ouders_huishouden", "drie", "number"),
        (0, "aantal_ouders_huishouden", "1,5", "integer"),
        (3, "verhuizingen_24m", "99", "range"),
    ],
)
def test_each_rule_names_row_and_column(row, column, value, rule):
    r = validate(brp_table({(row, column): value}), get_schema("brp"), first_line=2)
    assert rules(r)[(rule, column)] == (row + 2,)
    assert r.errors
    for p in r.problems:  # never the value of the cell
        assert value is None or value not in p.message


def test_every_problem_at_once_and_identifier_rows_flagged():
    table = brp_table({(0, "bsn_kind"): BAD_BSN, (2, "geslacht"): "?", (3, "bsn_ouder2"): "1"})
    r = validate(table, get_schema("brp"))
    assert {("bsn", "bsn_kind"), ("value_list", "geslacht"), ("bsn", "bsn_ouder2")} <= set(rules(r))
    assert list(r.bad_rows["bsn_kind"]) == [True, False, False, False]
    assert list(r.bad_rows["bsn_ouder2"]) == [False, False, False, True]


def test_missing_and_unknown_columns():
    table = brp_table().drop(columns=["buurtcode"]).assign(straatnaam="Kamperstraat")
    r = validate(table, get_schema("brp"))
    kinds = {(p.rule, p.column, p.severity) for p in r.problems}
    assert ("missing_column", "buurtcode", "error") in kinds
    assert ("unknown_column", "straatnaam", "warning") in kinds


def test_dates_in_every_partner_format_and_decimal_commas():
    table = pd.DataFrame(
        {
            "leerling_id": [BSN, "101234564", "123456782"],
            "brin_vestiging": ["12AB00"] * 3,
            "schoolsoort": ["BO", "SBO", "SO"],
            "groep": ["8", "4", "1"],
            "schooladvies": ["HAVO", None, None],
            "gewicht_achterstand": ["0,3", "1.2", "0"],
        }
    ).astype("string")
    r = validate(table, get_schema("duo"))
    assert r.errors == []
    assert list(r.parsed["gewicht_achterstand"]) == [0.3, 1.2, 0.0]
    j = validate(
        pd.DataFrame(
            {
                "bsn_kind": [BSN] * 3,
                "zorgvorm": ["JEUGD_GGZ"] * 3,
                "begindatum": ["2023-01-31", "31-01-2023", "20230131"],
                "einddatum": [None, None, "31/01/2023"],
            }
        ).astype("string"),
        get_schema("jeugdhulp"),
    )
    assert j.errors == []
    assert j.parsed["begindatum"].nunique() == 1


@pytest.mark.parametrize(
    "text", ["31-02-2019", "20190231", "2019-2-3", "0019-02-01", "2019-02-01T00:00", "gisteren"]
)
def test_dates_are_strict(text):
    assert parse_dates(pd.Series([text], dtype="string")).isna().all()


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2019-02-28", "2019-02-28"),
        ("28-02-2019", "2019-02-28"),
        ("20190228", "2019-02-28"),
        ("28/02/2019", "2019-02-28"),
    ],
)
def test_dates_in_each_format(text, iso):
    assert str(parse_dates(pd.Series([text], dtype="string"))[0].date()) == iso


def test_generated_extracts_carry_the_expected_mess(extract_files):
    """The generator's mess is found by the validator, and only that."""
    found = {}
    for sid, path in extract_files.items():
        ex = read_extract(path)
        found[sid] = {(p.rule, p.column) for p in validate(ex.table, get_schema(sid)).problems}
    assert found["brp"] == {("unknown_column", "straatnaam"), ("unknown_column", "huisnummer")}
    assert found["duo"] == {("duplicate_row", None)}
    assert found["ggd_jgz"] == {("required", "bsn_kind")}  # missing BSNs
    assert found["jeugdhulp"] == {("bsn", "bsn_kind")}  # mistyped BSNs
    assert found["ggd_prenataal"] == found["inkomen"] == set()

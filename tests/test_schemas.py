import datetime as dt
import json

import pytest
from pydantic import ValidationError

from schemas import SCHEMAS, UnknownSchema, get_schema
from schemas.export import JSON_DIR, rendered
from schemas.model import Column, SourceSchema

GOOD = {
    "brp": {
        "bsn_kind": "111222333",
        "geboortedatum": dt.date(2019, 5, 1),
        "geslacht": "V",
        "buurtcode": "BU01931000",
        "huishoudnummer": "0193123",
        "bsn_ouder1": "123456782",
        "aantal_ouders_huishouden": 1,
        "verhuizingen_24m": 0,
    },
    "duo": {
        "leerling_id": "101234564",
        "brin_vestiging": "12AB00",
        "schoolsoort": "BO",
        "groep": 8,
        "schooladvies": "HAVO_VWO",
        "gewicht_achterstand": 0.3,
    },
}


def test_every_schema_has_id_version_and_an_identifier():
    assert set(SCHEMAS) == {"brp", "duo", "ggd_jgz", "ggd_prenataal", "jeugdhulp", "inkomen"}
    for s in SCHEMAS.values():
        assert s.version >= 1
        assert any(c.identifier for c in s.columns)
        assert s.model_config["frozen"] and s.model_config["extra"] == "forbid"


@pytest.mark.parametrize("schema_id", ["brp", "duo"])
def test_good_record_passes(schema_id):
    model = get_schema(schema_id).record_model()
    record = model(**GOOD[schema_id])
    with pytest.raises(ValidationError):  # frozen
        record.groep = 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("schema_id", "change", "field"),
    [
        ("brp", {"bsn_kind": "111222334"}, "bsn_kind"),  # elfproef
        ("brp", {"bsn_ouder1": "12345678"}, "bsn_ouder1"),  # length
        ("brp", {"geslacht": "X"}, "geslacht"),  # value list
        ("brp", {"buurtcode": "0193100"}, "buurtcode"),  # pattern
        ("brp", {"aantal_ouders_huishouden": 3}, "aantal_ouders_huishouden"),  # range
        ("brp", {"straatnaam": "Kamperstraat"}, "straatnaam"),  # unknown column
        ("duo", {"leerling_id": "201234564"}, "leerling_id"),  # neither BSN nor onderwijsnummer
        ("duo", {"schooladvies": "GYMNASIUM"}, "schooladvies"),
        ("duo", {"groep": 9}, "groep"),
    ],
)
def test_bad_record_fails_on_its_field(schema_id, change, field):
    model = get_schema(schema_id).record_model()
    with pytest.raises(ValidationError) as e:
        model(**{**GOOD[schema_id], **change})
    assert [err["loc"][0] for err in e.value.errors()] == [field]
    # The message must not echo an identifier's value.
    assert "111222334" not in str(e.value).split("input_value")[0]


def test_required_field_missing():
    model = get_schema("brp").record_model()
    record = {k: v for k, v in GOOD["brp"].items() if k != "buurtcode"}
    with pytest.raises(ValidationError) as e:
        model(**record)
    assert e.value.errors()[0]["type"] == "missing"


def test_json_schema_files_are_up_to_date():
    expected = rendered()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in JSON_DIR.glob("*.json")}
    assert on_disk == expected, "run `python -m schemas.export` and commit schemas/json/"


def test_json_schema_marks_identifiers():
    s = json.loads(rendered()["brp.v1.schema.json"])
    marked = {k for k, v in s["properties"].items() if v["x-identifier"]}
    assert marked == {"bsn_kind", "huishoudnummer", "bsn_ouder1", "bsn_ouder2"}
    assert s["additionalProperties"] is False
    assert s["x-schema-id"] == "brp" and s["x-schema-version"] == 1


def test_get_schema_by_ref_and_unknown():
    assert get_schema("duo@v1") is SCHEMAS["duo"]
    with pytest.raises(UnknownSchema):
        get_schema("duo@v2")
    with pytest.raises(UnknownSchema):
        get_schema("cbs")


def test_schema_definitions_are_checked():
    with pytest.raises(ValidationError):
        Column(name="x", kind="category", description="no values")
    with pytest.raises(ValidationError):
        SourceSchema(
            id="x",
            version=1,
            partner="p",
            title="t",
            description="d",
            columns=(Column(name="a", kind="boolean", description="no identifier"),),
        )

import hashlib

import numpy as np
import pandas as pd

from partner_agent.extract import read_extract
from schemas.checkdigits import bsn_mask
from schemas.geography import population
from schemas.synthetic import FILE_NAMES, generate


def test_children_per_buurt_and_age_band_follow_the_reference(tables):
    brp = tables["brp"]
    ref = population().set_index("buurtcode")
    birth = pd.to_datetime(brp["geboortedatum"], format="%Y%m%d")
    age_years = (pd.Timestamp("2024-01-01") - birth).dt.days / 365.25
    band = np.where(age_years < 4, "a_0_3", "a_4_11")
    counts = pd.crosstab(brp["buurtcode"], band).reindex(ref.index, fill_value=0)
    for b in ("a_0_3", "a_4_11"):
        expected, got = ref[b], counts[b]
        assert (abs(got - expected) <= np.maximum(1, 0.02 * expected)).all(), b
    assert len(brp) == ref[["a_0_3", "a_4_11"]].to_numpy().sum()  # 17,219


def test_bsns_are_valid_and_unique_in_the_brp(tables):
    brp = tables["brp"]
    assert bsn_mask(brp["bsn_kind"].astype("string")).all()
    assert brp["bsn_kind"].is_unique
    parents = pd.concat([brp["bsn_ouder1"], brp["bsn_ouder2"]])
    parents = parents[parents != ""].astype("string")
    assert bsn_mask(parents).all()
    assert not set(parents) & set(brp["bsn_kind"])


def test_income_gradient_follows_the_buurt(population):
    hh = population.households.merge(
        population.children[["huishouden", "deprivation"]].drop_duplicates("huishouden"),
        on="huishouden",
    )
    poor = hh[hh["deprivation"] > 1]["inkomen_onder_120_sm"].mean()
    rich = hh[hh["deprivation"] < -0.5]["inkomen_onder_120_sm"].mean()
    assert poor > 1.5 * rich


def test_unborn_children_have_one_prenatal_record_per_mother(tables):
    pre = tables["ggd_prenataal"]
    assert pre["bsn_moeder"].is_unique
    assert 500 < len(pre) < 1500  # about ¾ of a year-cohort of ~1,400


def test_same_seed_gives_identical_files(tmp_path):
    a = generate(tmp_path / "a", seed=3)
    b = generate(tmp_path / "b", seed=3)
    c = generate(tmp_path / "c", seed=4)

    def digest(p):  # XLSX zips carry a timestamp: compare their content
        if p.suffix == ".xlsx":
            return hashlib.sha256(read_extract(p).table.to_csv().encode()).hexdigest()
        return hashlib.sha256(p.read_bytes()).hexdigest()

    assert set(a) == set(FILE_NAMES)
    assert all(digest(a[k]) == digest(b[k]) for k in a)
    assert digest(a["brp"]) != digest(c["brp"])


def test_without_mess_every_extract_is_valid(population):
    from partner_agent.validate import validate
    from schemas import get_schema
    from schemas.synthetic import extracts

    for sid, table in extracts(population, seed=7, mess=False).items():
        text = table.astype(str).replace({"": None, "None": None, "nan": None}).astype("string")
        errors = validate(text, get_schema(sid)).errors
        assert errors == [], (sid, [(p.rule, p.column) for p in errors])


def test_national_scale_geography():
    from schemas.synthetic import NATIONAL_SCALE, geography_for

    geo = geography_for(NATIONAL_SCALE)
    children = (geo["a_0_3"] + geo["a_4_11"]).sum()
    assert 2_200_000 < children < 2_400_000  # the Netherlands: about 2.3 million aged 0–11
    assert geo["gemeentecode"].nunique() == NATIONAL_SCALE == 340
    assert 12_000 < len(geo) < 15_000 and 2_500 < geo["wijkcode"].nunique() < 3_200
    assert geo["buurtcode"].is_unique
    assert geo.equals(geography_for(NATIONAL_SCALE))  # deterministic

"""Reference geography and population counts (Zwolle, CBS codes), shipped with the package."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

REFERENCE_DIR = Path(__file__).parent / "reference" / "zwolle"
BOUNDARIES = REFERENCE_DIR / "zwolle_buurten_2024_wgs84.geojson"
ATTRIBUTION = "Buurtgrenzen en inwonertallen: Gemeente Zwolle, cijfersoverzwolle.nl"
POPULATION_YEAR = 2024


@cache
def buurten() -> pd.DataFrame:
    """The 78 buurten: buurtcode, buurtnaam, wijkcode, wijknaam, gemeentecode, gemeentenaam."""
    cols = ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam"]
    return pd.read_csv(REFERENCE_DIR / "zwolle_buurten.csv", dtype=str)[cols]


@cache
def population(year: int = POPULATION_YEAR) -> pd.DataFrame:
    """Per buurt: children aged 0–3 and 4–11 on 1 January of `year`, and a deprivation score.

    `pct_low_income` is the latest published share of households below 105 % of the social
    minimum (2015–2021; a buurt without one gets its wijk's mean, else the municipal mean).
    `deprivation` is that share standardised over the buurten (mean 0, sd 1).
    """
    raw = pd.read_csv(REFERENCE_DIR / "zwolle_buurten_bevolking_2015_2024.csv")
    counts = raw.loc[raw["jaar"] == year, ["buurtcode", "a_0_3", "a_4_11"]]
    low = (
        raw.dropna(subset=["pct_hh_onder_105pct_sociaal_minimum"])
        .sort_values("jaar")
        .groupby("buurtcode")["pct_hh_onder_105pct_sociaal_minimum"]
        .last()
        .rename("pct_low_income")
    )
    out = buurten()[["buurtcode", "wijkcode"]].merge(counts, on="buurtcode", how="left")
    out = out.merge(low, on="buurtcode", how="left")
    wijk_mean = out.groupby("wijkcode")["pct_low_income"].transform("mean")
    out["pct_low_income"] = (
        out["pct_low_income"].fillna(wijk_mean).fillna(out["pct_low_income"].mean())
    )
    pct = out["pct_low_income"]
    out["deprivation"] = (pct - pct.mean()) / pct.std()
    return out.drop(columns="wijkcode").astype({"a_0_3": int, "a_4_11": int})

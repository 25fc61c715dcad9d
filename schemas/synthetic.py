"""Synthetic Zwolle population and the extract each partner would really send.

Children from −9 months to 12 years live in households in the 78 real buurten, as many per buurt and
age band as the reference counts say; prevalences are plausible for the Netherlands and follow the
buurt's income gradient. Each partner's extract comes in the format that partner would really have:
the gemeente a semicolon CSV in Windows-1252 with BRP dates (yyyymmdd) and address columns the agent
must drop; DUO a semicolon CSV with BOM and decimal commas; the GGD two XLSX workbooks; youth care a
UTF-8 CSV with Dutch dates; income a Parquet file. The mess of real data is in: pupils and clients
who don't live in the municipality, pupils with an onderwijsnummer, duplicate rows, missing and
mistyped BSNs. Every BSN is synthetic (random, elfproef-valid). Deterministic for a seed; `scale`
copies the municipality into that many synthetic gemeenten, for national-size benchmarks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from schemas.checkdigits import complete_bsn, complete_onderwijsnummer
from schemas.geography import buurten, population

REFERENCE_DATE = dt.date(2024, 1, 1)  # the reference counts are on 1 January 2024
NATIONAL_SCALE = 340  # gemeenten: ≈ 2.3 million children 0–11 (see geography_for)
STREETS = (
    "Assendorperstraat",
    "Diezerstraat",
    "Thomas à Kempisstraat",
    "Rhijnvis Feithlaan",
    "Kamperstraat",
    "Ceintuurbaan",
    "Palestrinastraat",
    "Zeven Alleetjes",
)

Rng = np.random.Generator
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Population:
    """The synthetic truth: one row per child (unborn included) and one per household."""

    children: pd.DataFrame
    households: pd.DataFrame
    reference_date: dt.date


def _p(base: float, slope: float, z: FloatArray) -> FloatArray:
    """Probability with logit(base) shifted by `slope` per unit of deprivation `z`."""
    logit = np.log(base / (1 - base)) + slope * z
    return np.asarray(1 / (1 + np.exp(-logit)), dtype=np.float64)


def _bsns(rng: Rng, n: int) -> IntArray:
    """`n` distinct random valid BSNs (as integers)."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        prefix = rng.integers(10_000_000, 70_000_000, size=int((n - len(out)) * 1.25) + 16)
        out = np.unique(np.concatenate([out, complete_bsn(prefix)]))
        out = out[out >= 0]
    return rng.permutation(out)[:n]


def geography_for(scale: int, seed: int = 2019) -> pd.DataFrame:
    """Buurten with their children per age band: Zwolle, plus `scale` − 1 synthetic gemeenten.

    A synthetic gemeente (GM9001…) is made of 5 to 12 of Zwolle's wijken drawn at random, with
    74 % of their children: Dutch gemeenten are smaller than Zwolle and their buurten hold fewer
    children. With `scale` = NATIONAL_SCALE (340 gemeenten) that gives about 14,000 buurten in
    2,900 wijken with 2.3 million children, close to the Netherlands.
    """
    base = buurten().merge(population(), on="buurtcode")
    rng = np.random.default_rng(seed + 11)
    wijken = base["wijkcode"].unique()
    parts = [base]
    for i in range(1, scale):
        chosen = rng.choice(wijken, size=rng.integers(5, 13), replace=False)
        g = base[base["wijkcode"].isin(chosen)].copy()
        gm = f"{9000 + i:04d}"
        g["gemeentecode"] = "GM" + gm
        g["gemeentenaam"] = f"Synthetische gemeente {i}"
        g["buurtcode"] = "BU" + gm + g["buurtcode"].str[6:]
        g["wijkcode"] = "WK" + gm + g["wijkcode"].str[6:]
        for band in ("a_0_3", "a_4_11"):
            g[band] = np.round(g[band] * 0.74).astype(int)
        parts.append(g)
    return pd.concat(parts, ignore_index=True)


def generate_population(
    seed: int = 2019, scale: int = 1, reference_date: dt.date = REFERENCE_DATE
) -> Population:
    """Children 0–11 per the reference counts, unborn children, households and parents."""
    rng = np.random.default_rng(seed)
    geo = geography_for(scale)
    n03, n411 = geo["a_0_3"].to_numpy(), geo["a_4_11"].to_numpy()
    n_unborn = rng.binomial(n03, 0.75 / 4)  # births in the next 9 months ≈ ¾ of one year-cohort
    # Children: band 0–3 covers ages 0–47 months, band 4–11 ages 48–143, unborn −9…−1.
    buurt_idx = np.concatenate([np.repeat(np.arange(len(geo)), n) for n in (n03, n411, n_unborn)])
    age = np.concatenate(
        [
            rng.integers(0, 48, n03.sum()),
            rng.integers(48, 144, n411.sum()),
            rng.integers(-9, 0, n_unborn.sum()),
        ]
    )
    order = np.lexsort((age, buurt_idx))  # per buurt, the unborn first
    buurt_idx, age = buurt_idx[order], age[order]
    n = len(age)
    z = geo["deprivation"].to_numpy()[buurt_idx]
    # Households: a new one starts with probability 1/1.8 (geometric sizes, mean 1.8 children),
    # always at the first child of a buurt and at every unborn child (one pregnancy per mother);
    # older children may follow an unborn child into its household.
    first = np.r_[True, buurt_idx[1:] != buurt_idx[:-1]]
    starts = first | (age < 0) | (rng.random(n) < 1 / 1.8)
    hh = np.cumsum(starts) - 1
    n_hh = hh[-1] + 1
    hh_buurt = buurt_idx[starts]
    hz = z[starts]
    single = rng.random(n_hh) < _p(0.14, 0.45, hz)
    low_income = rng.random(n_hh) < _p(0.09, 0.75, hz) + single * 0.12
    bijstand = low_income & (rng.random(n_hh) < 0.45)
    schulden = rng.random(n_hh) < _p(0.012, 0.6, hz)
    parents = _bsns(rng, 2 * n_hh + n).reshape(-1)
    p1, p2 = parents[:n_hh], parents[n_hh : 2 * n_hh]
    child_bsn = parents[2 * n_hh :]
    edu_p = np.stack([_p(0.18, 0.6, hz), _p(0.42, 0.0, hz)], axis=1)
    u1, u2 = rng.random(n_hh), rng.random(n_hh)
    edu = np.array(["LAAG", "MIDDEN", "HOOG"])
    households = pd.DataFrame(
        {
            "huishouden": hh_ids(n_hh, seed),
            "buurtcode": geo["buurtcode"].to_numpy()[hh_buurt],
            "bsn_ouder1": p1,
            "bsn_ouder2": np.where(single & (rng.random(n_hh) < 0.4), -1, p2),
            "aantal_ouders": np.where(single, 1, 2),
            "inkomen_onder_120_sm": low_income,
            "bijstand": bijstand,
            "schuldsanering": schulden,
            "opleiding_ouder1": edu[_band(u1, edu_p)],
            "opleiding_ouder2": edu[_band(u2, edu_p)],
        }
    )
    children = pd.DataFrame(
        {
            "bsn": child_bsn,
            "huishouden": households["huishouden"].to_numpy()[hh],
            "buurtcode": geo["buurtcode"].to_numpy()[buurt_idx],
            "leeftijd_maanden": age,
            "geslacht": np.where(rng.random(n) < 0.512, "M", "V"),
            "deprivation": z,
        }
    )
    return Population(children, households, reference_date)


def hh_ids(n: int, seed: int) -> npt.NDArray[np.str_]:
    """Opaque household numbers as the BRP would have them (address object ids)."""
    rng = np.random.default_rng(seed + 1)
    ids = rng.choice(9_000_000_000, size=n, replace=False) + 1_000_000_000
    return np.char.add("0193", ids.astype(str))


def _band(u: FloatArray, cum_p: FloatArray) -> IntArray:
    """Index of the band that `u` falls in, given cumulative probabilities per row."""
    return np.asarray((u[:, None] > np.cumsum(cum_p, axis=1)).sum(axis=1), dtype=np.int64)


def _birth_dates(rng: Rng, age_months: IntArray, ref: dt.date) -> pd.Series:
    """A date `age_months` months (and a random part of a month) before `ref`."""
    days = age_months * 30.44 + rng.integers(0, 30, len(age_months))
    return pd.Series(pd.Timestamp(ref) - pd.to_timedelta(days.astype(int), unit="D"))


def _typo(rng: Rng, values: IntArray, rate: float) -> IntArray:
    """Change the last digit of a few BSNs so that they fail the elfproef."""
    hit = rng.random(len(values)) < rate
    last = values % 10
    return np.where(hit, values - last + (last + 1) % 10, values)


def _s(values: IntArray) -> npt.NDArray[np.str_]:
    """Nine-digit strings; −1 (absent) becomes empty."""
    if len(values) == 0:
        return np.array([], dtype=str)
    out = np.char.zfill(values.astype(str), 9)
    return np.where(values < 0, "", out)


def extracts(pop: Population, seed: int = 2019, mess: bool = True) -> dict[str, pd.DataFrame]:
    """Per schema id, the table that partner would export (strings and dates as they have them)."""
    rng = np.random.default_rng(seed + 7)
    ch, hh, ref = pop.children, pop.households, pop.reference_date
    rate = 1.0 if mess else 0.0
    born = ch[ch["leeftijd_maanden"] >= 0].reset_index(drop=True)
    unborn = ch[ch["leeftijd_maanden"] < 0].reset_index(drop=True)
    z = born["deprivation"].to_numpy()
    n = len(born)
    hh_of = hh.set_index("huishouden").loc[born["huishouden"]].reset_index()
    births = _birth_dates(rng, born["leeftijd_maanden"].to_numpy(), ref)

    brp = pd.DataFrame(
        {
            "bsn_kind": _s(born["bsn"].to_numpy()),
            "geboortedatum": births.dt.strftime("%Y%m%d"),
            "geslacht": born["geslacht"],
            "buurtcode": born["buurtcode"],
            "huishoudnummer": born["huishouden"],
            "bsn_ouder1": _s(hh_of["bsn_ouder1"].to_numpy()),
            "bsn_ouder2": _s(hh_of["bsn_ouder2"].to_numpy()),
            "aantal_ouders_huishouden": hh_of["aantal_ouders"].to_numpy(),
            "verhuizingen_24m": rng.poisson(0.25 + 0.1 * np.clip(z, 0, None)),
            "straatnaam": rng.choice(STREETS, n),  # an address the agent must not let out
            "huisnummer": rng.integers(1, 250, n),
        }
    )

    # DUO: pupils aged 4–11; groep follows age; some from outside the municipality.
    pupils = born[born["leeftijd_maanden"] >= 48].reset_index(drop=True)
    pz = pupils["deprivation"].to_numpy()
    m = len(pupils)
    groep = np.clip(pupils["leeftijd_maanden"].to_numpy() // 12 - 3, 1, 8)
    soort = np.array(["BO", "SBO", "SO"])[
        _band(rng.random(m), np.c_[_p(0.95, -0.3, pz), 0.025 + 0 * pz])
    ]
    advies_cats = np.array(
        ["VSO", "PRO", "VMBO_B", "VMBO_BK", "VMBO_K", "VMBO_KGT", "VMBO_GT", "VMBO_GT_HAVO",
         "HAVO", "HAVO_VWO", "VWO", "ADVIES_NIET_MOGELIJK"]
    )  # fmt: skip
    advies_p = np.array([1, 2, 8, 4, 8, 3, 14, 7, 17, 12, 23, 1], dtype=float)
    shift = np.clip(0.5 + 0.15 * pz, 0.1, 0.9)[:, None]  # deprived buurten lean to lower advice
    rank = np.linspace(1.4, 0.6, 12)[None, :] ** (shift * 4 - 1)
    weights = advies_p[None, :] * rank
    weights /= weights.sum(axis=1, keepdims=True)
    advies = advies_cats[_band(rng.random(m), weights[:, :-1])]
    g8 = groep == 8
    lezen = np.array(["<1F", "1F", "2F"])[
        _band(rng.random(m), np.c_[_p(0.02, 0.5, pz), 0.25 + 0 * pz])
    ]
    rekenen = np.array(["<1F", "1F", "1S"])[
        _band(rng.random(m), np.c_[_p(0.10, 0.5, pz), 0.48 + 0 * pz])
    ]
    gewicht = np.array(["0", "0,3", "1,2"])[
        _band(rng.random(m), np.c_[_p(0.89, -0.7, pz), 0.07 + 0 * pz])
    ]
    leerling = pupils["bsn"].to_numpy().copy()
    onr = rng.random(m) < 0.01 * rate  # pupils without a BSN get an onderwijsnummer
    leerling[onr] = complete_onderwijsnummer(rng.integers(10_000_000, 10_999_999, onr.sum()))
    leerling[leerling < 0] = pupils["bsn"].to_numpy()[leerling < 0]
    # Two schools per wijk: BRIN (2 digits, 2 letters) + location 00.
    letters = np.array(list("ABCDEFGHJKLMNPRSTVWXZ"))
    schools = np.array(
        [f"{rng.integers(10, 99)}{''.join(rng.choice(letters, 2))}00" for _ in range(40)]
    )
    wijk_of = pupils["buurtcode"].str[:8].to_numpy()
    school = schools[pd.factorize(wijk_of)[0] * 2 % 40 + rng.integers(0, 2, m)]
    duo = pd.DataFrame(
        {
            "leerling_id": _s(leerling),
            "brin_vestiging": school,
            "schoolsoort": soort,
            "groep": groep,
            "schooladvies": np.where(g8, advies, ""),
            "referentieniveau_lezen": np.where(g8, lezen, ""),
            "referentieniveau_rekenen": np.where(g8, rekenen, ""),
            "gewicht_achterstand": gewicht,
        }
    )
    outsiders = duo.sample(frac=0.06 * rate, random_state=seed)
    outsiders["leerling_id"] = _s(_bsns(np.random.default_rng(seed + 3), len(outsiders)))
    duo = pd.concat([duo, outsiders, duo.sample(frac=0.004 * rate, random_state=seed + 1)])
    duo = duo.sample(frac=1, random_state=seed + 2).reset_index(drop=True)

    # GGD youth health care: the latest contact of the ~93 % of children the JGZ has seen.
    seen = rng.random(n) < 0.93
    g = born[seen].reset_index(drop=True)
    gz = g["deprivation"].to_numpy()
    k = len(g)
    preterm = rng.random(k) < _p(0.07, 0.2, gz)
    weeks = np.where(preterm, rng.integers(28, 37, k), rng.integers(37, 43, k))
    grams = np.clip(rng.normal(3450, 480, k) - preterm * 900 - 60 * gz, 400, 6000).astype(int)
    contact_days = rng.integers(0, 365 * 2, k)
    contact = pd.Timestamp(ref) - pd.to_timedelta(contact_days, unit="D")
    bsn_ggd = _s(_typo(rng, g["bsn"].to_numpy(), 0.0))
    bsn_ggd[rng.random(k) < 0.003 * rate] = ""  # registered before the BSN was known
    ggd_jgz = pd.DataFrame(
        {
            "bsn_kind": bsn_ggd,
            "contactdatum": contact.normalize(),
            "signaal_taalontwikkeling": rng.random(k) < _p(0.08, 0.45, gz),
            "gewichtsklasse": np.array(["ONDERGEWICHT", "GEZOND", "OVERGEWICHT", "OBESITAS"])[
                _band(
                    rng.random(k),
                    np.c_[0.05 + 0 * gz, 1 - 0.05 - _p(0.13, 0.4, gz), _p(0.10, 0.4, gz)],
                )
            ],
            "vaccinatiestatus": np.array(["VOLLEDIG", "ONVOLLEDIG", "GEEN"])[
                _band(rng.random(k), np.c_[_p(0.90, -0.2, gz), 0.06 + 0 * gz])
            ],
            "vve_indicatie": (rng.random(k) < _p(0.10, 0.8, gz))
            & (g["leeftijd_maanden"] < 60).to_numpy(),
            "geboortegewicht_gram": grams,
            "zwangerschapsduur_weken": weeks,
            "meeroken": rng.random(k) < _p(0.04, 0.6, gz),
        }
    )

    # Prenatal records: the unborn children, keyed by the mother's BSN.
    un_hh = hh.set_index("huishouden").loc[unborn["huishouden"]].reset_index()
    due = _birth_dates(rng, unborn["leeftijd_maanden"].to_numpy(), ref)
    ggd_prenataal = pd.DataFrame(
        {
            "bsn_moeder": _s(un_hh["bsn_ouder1"].to_numpy()),
            "verwachte_bevallingsdatum": due.dt.normalize(),
            "buurtcode": unborn["buurtcode"],
            "roken_zwangerschap": rng.random(len(unborn))
            < _p(0.05, 0.7, unborn["deprivation"].to_numpy()),
        }
    )

    # Youth care: ~11 % of children have a trajectory, some two; a few non-residents and typos.
    has = rng.random(n) < _p(0.10, 0.45, z) * np.clip(
        born["leeftijd_maanden"].to_numpy() / 100, 0.2, 1.4
    )
    idx = np.flatnonzero(has)
    idx = np.concatenate([idx, idx[rng.random(len(idx)) < 0.2]])
    j = len(idx)
    start_days = rng.integers(0, 365 * 3, j)
    begin = pd.Timestamp(ref) - pd.to_timedelta(start_days, unit="D")
    ended = rng.random(j) < 0.55
    end = begin + pd.to_timedelta(rng.integers(30, 700, j), unit="D")
    jbsn = _typo(rng, born["bsn"].to_numpy()[idx], 0.002 * rate)
    jeugdhulp = pd.DataFrame(
        {
            "bsn_kind": _s(jbsn),
            "zorgvorm": np.array(
                [
                    "JEUGDHULP_ZONDER_VERBLIJF",
                    "JEUGD_GGZ",
                    "JEUGDHULP_MET_VERBLIJF",
                    "JEUGDBESCHERMING",
                ]
            )[_band(rng.random(j), np.tile([0.62, 0.25, 0.05], (j, 1)))],
            "begindatum": begin.strftime("%d-%m-%Y"),
            "einddatum": np.where(ended & (end < pd.Timestamp(ref)), end.strftime("%d-%m-%Y"), ""),
        }
    )
    outside = jeugdhulp.sample(frac=0.03 * rate, random_state=seed + 4)
    outside["bsn_kind"] = _s(_bsns(np.random.default_rng(seed + 5), len(outside)))
    jeugdhulp = pd.concat([jeugdhulp, outside]).sample(frac=1, random_state=seed + 6)

    # Income and benefits: one row per parent, household flags on both parents.
    parents = pd.concat(
        [
            hh[
                [
                    "bsn_ouder1",
                    "inkomen_onder_120_sm",
                    "bijstand",
                    "schuldsanering",
                    "opleiding_ouder1",
                ]
            ].set_axis(
                ["bsn", "inkomen_onder_120_sm", "bijstand", "schuldsanering", "opleiding"], axis=1
            ),
            hh.loc[
                hh["bsn_ouder2"] >= 0,
                [
                    "bsn_ouder2",
                    "inkomen_onder_120_sm",
                    "bijstand",
                    "schuldsanering",
                    "opleiding_ouder2",
                ],
            ].set_axis(
                ["bsn", "inkomen_onder_120_sm", "bijstand", "schuldsanering", "opleiding"], axis=1
            ),
        ]
    )
    inkomen = pd.DataFrame(
        {
            "bsn_persoon": _s(parents["bsn"].to_numpy()),
            "inkomen_onder_120_sm": parents["inkomen_onder_120_sm"].to_numpy(),
            "bijstand": parents["bijstand"].to_numpy(),
            "schuldsanering": parents["schuldsanering"].to_numpy(),
            "opleidingsniveau": parents["opleiding"]
            .mask(rng.random(len(parents)) < 0.04)  # not known for every parent
            .to_numpy(),
        }
    )
    return {
        "brp": brp.reset_index(drop=True),
        "duo": duo,
        "ggd_jgz": ggd_jgz,
        "ggd_prenataal": ggd_prenataal,
        "jeugdhulp": jeugdhulp.reset_index(drop=True),
        "inkomen": inkomen.sample(frac=1, random_state=seed + 8).reset_index(drop=True),
    }


FILE_NAMES = {
    "brp": "brp_kinderen.csv",
    "duo": "duo_leerlingen.csv",
    "ggd_jgz": "ggd_jgz.xlsx",
    "ggd_prenataal": "ggd_prenataal.xlsx",
    "jeugdhulp": "jeugdhulp_trajecten.csv",
    "inkomen": "inkomen_ouders.parquet",
}


def write_extracts(
    tables: dict[str, pd.DataFrame], outdir: Path, native: bool = True
) -> dict[str, Path]:
    """Write each partner's extract as that partner would; `native=False` writes Parquet only."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for schema_id, table in tables.items():
        name = FILE_NAMES[schema_id]
        if not native:
            name = Path(name).with_suffix(".parquet").name
        path = outdir / name
        tmp = path.with_name(path.name + ".tmp")
        if not native or name.endswith(".parquet"):
            table.replace({"": None}).to_parquet(tmp, index=False)  # Parquet has real nulls
        elif schema_id == "brp":
            table.to_csv(tmp, sep=";", index=False, encoding="cp1252")
        elif schema_id == "duo":
            table.to_csv(tmp, sep=";", index=False, encoding="utf-8-sig")
        elif name.endswith(".xlsx"):
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                table.to_excel(xl, index=False, sheet_name="export")
        else:
            table.to_csv(tmp, sep=",", index=False, encoding="utf-8")
        tmp.replace(path)
        paths[schema_id] = path
    return paths


def generate(
    outdir: Path, seed: int = 2019, scale: int = 1, mess: bool = True, native: bool = True
) -> dict[str, Path]:
    """Generate the population and write every partner's extract into `outdir`."""
    pop = generate_population(seed=seed, scale=scale)
    return write_extracts(extracts(pop, seed=seed, mess=mess), outdir, native=native)

"""Release: the published table, the composite kinderindex, and the files that leave the broker.

`release()` accepts only a `SafeTable` (which only `suppress()` makes) and writes nothing that is
not derived from its published cells: hidden values are empty, and the composite uses published
figures only — the municipal mean and spread included — so it cannot reveal a hidden one.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from broker.indicators import LINKAGE_THEME, Spec
from broker.suppress import SafeTable
from keys import crypto

COLUMNS = [
    "level",
    "code",
    "name",
    "indicator",
    "label",
    "theme",
    "numerator",
    "denominator",
    "value",
    "status",
]


@dataclass(frozen=True)
class Release:
    """What a release publishes, in memory."""

    table: pd.DataFrame  # long: one row per geography × indicator
    composite: pd.DataFrame  # per buurt: theme scores, kinderindex, band


def names(geo: pd.DataFrame) -> dict[str, str]:
    """Code → name for every buurt, wijk and gemeente."""
    out = dict(zip(geo["buurtcode"], geo["buurtnaam"], strict=True))
    out |= dict(zip(geo["wijkcode"], geo["wijknaam"], strict=False))
    out |= dict(zip(geo["gemeentecode"], geo["gemeentenaam"], strict=False))
    return out


def published_table(safe: SafeTable, spec: Spec, geo: pd.DataFrame) -> pd.DataFrame:
    """One row per geography × indicator; hidden figures empty."""
    if not isinstance(safe, SafeTable):
        raise TypeError("only a SafeTable from suppress() can be released")
    cells = safe.cells
    d = cells[cells["kind"] == "d"].set_index(["code", "key"])
    rows = []
    label = names(geo)
    for ind in spec.indicators:
        n = cells[(cells["kind"] == "n") & (cells["key"] == ind.id)]
        for r in n.itertuples():
            d_cell = d.loc[(r.code, ind.population)]
            shown = r.status == "published"
            d_shown = d_cell["status"] == "published"
            rows.append(
                {
                    "level": r.level,
                    "code": r.code,
                    "name": label.get(r.code, r.code),
                    "indicator": ind.id,
                    "label": ind.label,
                    "theme": ind.theme,
                    "numerator": r.value if shown else None,
                    "denominator": int(d_cell["value"]) if d_shown else None,
                    "value": round(100 * r.value / d_cell["value"], 1)
                    if shown and d_shown and d_cell["value"] > 0
                    else None,
                    "status": r.status,
                }
            )
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.astype({"numerator": "Int64", "denominator": "Int64", "value": "Float64"})


def composite(table: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Kinderindex per buurt from published buurt figures only.

    Per indicator: z = (buurt % − gemeente %) / spread of the published buurt percentages;
    score = 100 + 10 z, inverted for risk indicators so that higher is more favourable. Scores are
    averaged within themes (a theme needs `min_indicators_per_theme` published scores), themes are
    averaged (a buurt needs `min_themes`), then banded.
    """
    rule = spec.composite
    direction = {i.id: i.direction for i in spec.indicators}
    buurt = table[
        (table["level"] == "buurt") & (table["theme"] != LINKAGE_THEME) & table["value"].notna()
    ].copy()
    gemeente = table[table["level"] == "gemeente"].set_index("indicator")["value"].astype(float)
    buurt["value"] = buurt["value"].astype(float)
    spread = buurt.groupby("indicator")["value"].std()
    mean = buurt["indicator"].map(gemeente).astype(float)
    buurt["z"] = (buurt["value"] - mean) / buurt["indicator"].map(spread).astype(float)
    buurt["z"] *= np.where(buurt["indicator"].map(direction) == "risk", -1, 1)
    buurt["score"] = 100 + 10 * buurt["z"]
    buurt = buurt[np.isfinite(buurt["score"])]
    themes = buurt.groupby(["code", "theme"])["score"].agg(["mean", "count"]).reset_index()
    themes = themes[themes["count"] >= rule.min_indicators_per_theme]
    wide = themes.pivot(index="code", columns="theme", values="mean")
    all_buurten = table.loc[table["level"] == "buurt", ["code", "name"]].drop_duplicates("code")
    out = all_buurten.set_index("code").join(wide)
    theme_cols = [t for t in spec.themes if t != LINKAGE_THEME and t in out.columns]
    n_themes = out[theme_cols].notna().sum(axis=1)
    out["kinderindex"] = out[theme_cols].mean(axis=1).where(n_themes >= rule.min_themes)
    out["band"] = out["kinderindex"].map(lambda v: _band(v, spec))
    return out.reset_index().round(1)


def _band(value: float, spec: Spec) -> str | None:
    if pd.isna(value):
        return None
    for b in spec.composite.bands:
        if b.below is None or value < b.below:
            return b.label
    return None


def build_release(safe: SafeTable, spec: Spec, geo: pd.DataFrame) -> Release:
    """The published table and the composite."""
    table = published_table(safe, spec, geo)
    return Release(table, composite(table, spec))


def geojson(release: Release, boundaries: dict[str, Any]) -> dict[str, Any]:
    """Buurt boundaries with the kinderindex and every published buurt figure."""
    comp = release.composite.set_index("code")
    per = release.table[release.table["level"] == "buurt"]
    features = []
    for f in boundaries["features"]:
        code = f["properties"]["buurtcode"]
        props: dict[str, Any] = {
            "buurtcode": code,
            "buurtnaam": f["properties"]["buurtnaam"],
            "wijkcode": f["properties"]["wijkcode"],
        }
        if code in comp.index:
            v = comp.at[code, "kinderindex"]
            props["kinderindex"] = None if pd.isna(v) else float(v)
            props["band"] = comp.at[code, "band"]
        for r in per[per["code"] == code].itertuples():
            props[r.indicator] = None if pd.isna(r.value) else float(r.value)
            props[f"{r.indicator}_status"] = r.status
        features.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return {"type": "FeatureCollection", "features": features}


def write_release(
    release: Release,
    folder: Path,
    manifest: dict[str, Any],
    boundaries: dict[str, Any],
    report_html: str | None = None,
) -> dict[str, str]:
    """Write every file to a temporary folder, then rename it: all or nothing. Returns hashes."""
    if folder.exists():
        raise FileExistsError(folder)
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        files: dict[str, bytes] = {
            "kinderindex.csv": release.table.to_csv(index=False).encode("utf-8"),
            "kinderindex_samengesteld.csv": release.composite.to_csv(index=False).encode(),
            "kinderindex.geojson": json.dumps(
                geojson(release, boundaries), ensure_ascii=False
            ).encode("utf-8"),
        }
        buf = io.BytesIO()
        release.table.to_parquet(buf, index=False)
        files["kinderindex.parquet"] = buf.getvalue()
        if report_html is not None:
            files["rapport.html"] = report_html.encode("utf-8")
        hashes = {name: crypto.sha256(data).hex() for name, data in files.items()}
        files["manifest.json"] = (
            json.dumps({**manifest, "outputs": hashes}, indent=2, ensure_ascii=False) + "\n"
        ).encode()
        hashes["manifest.json"] = crypto.sha256(files["manifest.json"]).hex()
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return hashes


def release_id(now: dt.datetime) -> str:
    """A readable, unique-enough id: the time plus a random part."""
    return f"{now:%Y%m%dT%H%M%SZ}-{crypto.random_bytes(3).hex()}"

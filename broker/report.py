"""The release report: one self-contained HTML page (inline SVG map, no external resources).

Everything on the page comes from the release (the published table and the composite), never
from the linked data. Texts for policy makers and wijk teams are in Dutch.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from broker.indicators import LINKAGE_THEME, Spec
from broker.release import Release
from schemas.geography import ATTRIBUTION

WIDTH, HEIGHT = 760, 640
TEMPLATE = Path(__file__).with_name("report_template.html")  # str.format: braces doubled


def _project(boundaries: dict[str, Any]) -> tuple[Any, ...]:
    """An equirectangular projection fitted to the boundaries (fine at the scale of a town)."""
    xs, ys = [], []
    for f in boundaries["features"]:
        for ring in _rings(f["geometry"]):
            xs += [p[0] for p in ring]
            ys += [p[1] for p in ring]
    lat0 = math.radians((min(ys) + max(ys)) / 2)
    sx = math.cos(lat0)
    w, h = (max(xs) - min(xs)) * sx, max(ys) - min(ys)
    scale = min(WIDTH / w, HEIGHT / h) * 0.96
    return min(xs), max(ys), sx, scale


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for poly in geometry["coordinates"] for ring in poly]


def svg_paths(boundaries: dict[str, Any]) -> str:
    """One <path> per buurt, with its code as data attribute."""
    x0, y1, sx, scale = _project(boundaries)
    out = []
    for f in boundaries["features"]:
        d = " ".join(
            "M"
            + " L".join(
                f"{(x - x0) * sx * scale + 8:.1f},{(y1 - y) * scale + 8:.1f}" for x, y, *_ in ring
            )
            + " Z"
            for ring in _rings(f["geometry"])
        )
        code = html.escape(f["properties"]["buurtcode"])
        out.append(f'<path class="buurt" data-code="{code}" d="{d}"><title></title></path>')
    return "\n".join(out)


def page_data(release: Release, spec: Spec) -> dict[str, Any]:
    """The JSON the page script reads: published figures only."""
    t = release.table
    rows = []
    for r in t.itertuples():
        rows.append(
            [
                r.level,
                r.code,
                r.name,
                r.indicator,
                None if pd.isna(r.numerator) else int(r.numerator),
                None if pd.isna(r.denominator) else int(r.denominator),
                None if pd.isna(r.value) else float(r.value),
                r.status,
            ]
        )
    comp = release.composite
    theme_cols = [c for c in spec.themes if c in comp.columns]
    composite = {
        r["code"]: {
            "index": None if pd.isna(r["kinderindex"]) else float(r["kinderindex"]),
            "band": None if pd.isna(r["band"]) else r["band"],
            "themes": {t_: (None if pd.isna(r[t_]) else float(r[t_])) for t_ in theme_cols},
        }
        for _, r in comp.iterrows()
    }
    return {
        "indicators": [
            {
                "id": i.id,
                "label": i.label,
                "theme": spec.themes[i.theme],
                "risk": i.direction == "risk",
                "linkage": i.theme == LINKAGE_THEME,
            }
            for i in spec.indicators
        ],
        "themes": {k: v for k, v in spec.themes.items() if k != LINKAGE_THEME},
        "bands": [b.label for b in spec.composite.bands],
        "rows": rows,
        "composite": composite,
    }


def render_report(
    release: Release, meta: dict[str, Any], boundaries: dict[str, Any], spec: Spec
) -> str:
    """The whole page."""
    data = json.dumps(page_data(release, spec), ensure_ascii=False, allow_nan=False)
    data = data.replace("</", "<\\/")  # the JSON sits inside a <script> element
    s = meta["suppression"]
    info = (
        f"Release {html.escape(meta['release_id'])} · peildatum "
        f"{html.escape(meta['reference_date'])} · drempel k = {meta['k']} · "
        f"{s['published']} cellen gepubliceerd, {s['primary']} primair en "
        f"{s['secondary']} secundair onderdrukt · beleid {html.escape(meta['policy_id'])}"
    )
    options = '<option value="kinderindex">Kinderindex (samengesteld)</option>' + "".join(
        f'<option value="{html.escape(i.id)}">{html.escape(i.label)}</option>'
        for i in spec.indicators
    )
    return TEMPLATE.read_text(encoding="utf-8").format(
        info=info,
        options=options,
        paths=svg_paths(boundaries),
        data=data,
        width=WIDTH + 16,
        height=HEIGHT + 16,
        attribution=html.escape(ATTRIBUTION),
    )

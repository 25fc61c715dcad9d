"""Disclosure control: primary and secondary suppression, the independent gate, the composite."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.gate import check_release
from broker.indicators import load_spec
from broker.policy import Policy
from broker.release import build_release, published_table
from broker.suppress import SafeTable, suppress
from schemas.errors import ReleaseBlocked

SPEC = load_spec()
POP = "kinderen_inkomen"
INDICATORS = [i.id for i in SPEC.indicators if i.population == POP]  # three share the population
POPULATION_OF = {i.id: i.population for i in SPEC.indicators}
POLICY = Policy(
    policy_id="t",
    indicator_spec_id="x",
    indicator_spec_sha256="y",
    issued_at="z",
    officer_key_id="o",
)


def table(buurten: dict[str, dict[str, tuple[int, list[int]]]]) -> pd.DataFrame:
    """Counts for wijk → buurt → (denominator, numerators), with wijk and gemeente sums."""
    rows = []

    def add(level, code, parent, d, ns):
        rows.append(dict(level=level, code=code, parent=parent, kind="d", key=POP, value=d))
        for ind, n in zip(INDICATORS, ns, strict=False):
            rows.append(dict(level=level, code=code, parent=parent, kind="n", key=ind, value=n))

    g_d, g_n = 0, [0] * len(INDICATORS)
    for wijk, bs in buurten.items():
        w_d, w_n = 0, [0] * len(INDICATORS)
        for b, (d, ns) in bs.items():
            add("buurt", b, wijk, d, ns)
            w_d += d
            w_n = [a + x for a, x in zip(w_n, ns, strict=False)]
        add("wijk", wijk, "GM0001", w_d, w_n)
        g_d += w_d
        g_n = [a + x for a, x in zip(g_n, w_n, strict=False)]
    add("gemeente", "GM0001", None, g_d, g_n)
    return pd.DataFrame(rows)


GOLDEN = {"W1": {"B1": (40, [3]), "B2": (50, [20]), "B3": (60, [25]), "B4": (5, [1])}}


def test_golden_small_table():
    safe = suppress(table(GOLDEN), SPEC, POLICY)
    status = {
        (r.code, r.kind): r.status
        for r in safe.cells.itertuples()
        if r.kind == "d" or r.key == INDICATORS[0]
    }
    assert status == {
        ("B1", "d"): "suppressed-secondary",
        ("B1", "n"): "suppressed-primary",
        ("B2", "d"): "published",
        ("B2", "n"): "suppressed-secondary",
        ("B3", "d"): "published",
        ("B3", "n"): "published",
        ("B4", "d"): "suppressed-primary",
        ("B4", "n"): "suppressed-primary",
        ("W1", "d"): "published",
        ("W1", "n"): "published",
        ("GM0001", "d"): "published",
        ("GM0001", "n"): "published",
    }
    assert safe.stats["secondary"] == 2  # the fewest cells that protect both small ones


def test_hiding_only_the_small_cell_is_refused_by_the_gate():
    cells = table(GOLDEN)
    small = (cells["code"] == "B1") & (cells["kind"] == "n")
    naive = cells.assign(status="published")
    naive.loc[small, "status"] = "suppressed-primary"
    with pytest.raises(ReleaseBlocked, match="buurt B1") as e:
        check_release(naive, POPULATION_OF, 10)
    assert "at most 3" in str(e.value)  # the wijk total minus the published buurten


def test_safe_table_only_from_suppress():
    with pytest.raises(TypeError):
        SafeTable(table(GOLDEN).assign(status="published"), 10, "p", {})
    with pytest.raises(TypeError):
        published_table(table(GOLDEN), SPEC, pd.DataFrame())  # type: ignore[arg-type]


counts = st.integers(0, 60)
buurt = st.tuples(st.integers(0, 80), st.lists(st.integers(0, 80), min_size=3, max_size=3)).map(
    lambda t: (t[0], [min(n, t[0]) for n in t[1]])
)
hierarchy = st.dictionaries(
    st.sampled_from(["W1", "W2", "W3"]),
    st.lists(buurt, min_size=1, max_size=5),
    min_size=1,
    max_size=3,
).map(lambda ws: {w: {f"{w}B{i}": b for i, b in enumerate(bs)} for w, bs in ws.items()})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hierarchy)
def test_every_release_is_safe_and_passes_the_independent_gate(buurten):
    cells = table(buurten)
    safe = suppress(cells, SPEC, POLICY)
    out = safe.cells
    shown = out["status"] == "published"
    d = out[out["kind"] == "d"].set_index("code")["value"]
    for r in out[shown].itertuples():
        assert not 1 <= r.value < 10, r  # no small count published
        if r.kind == "n":
            assert not 1 <= d[r.code] - r.value < 10, r  # nor a small complement
            assert (
                out[(out["code"] == r.code) & (out["kind"] == "d")]["status"].iloc[0] == "published"
            )  # a published numerator has a published denominator
    check_release(out, POPULATION_OF, 10)  # raises if any hidden unsafe cell is recoverable


@settings(max_examples=10, deadline=None)
@given(hierarchy, st.integers(1, 5))
def test_composite_and_release_ignore_hidden_values(buurten, shift):
    """Changing a hidden value changes nothing that is published (composite included)."""
    safe = suppress(table(buurten), SPEC, POLICY)
    hidden = safe.cells["status"] != "published"
    geo = _geo(buurten)
    before = build_release(safe, SPEC, geo)
    moved = safe.cells.copy()
    moved.loc[hidden, "value"] += shift
    after = build_release(
        SafeTable(moved, safe.k, safe.policy_id, safe.stats, safe._token), SPEC, geo
    )
    pd.testing.assert_frame_equal(before.table, after.table)
    pd.testing.assert_frame_equal(before.composite, after.composite)


def _geo(buurten):
    return pd.DataFrame(
        [
            {
                "buurtcode": b,
                "buurtnaam": b,
                "wijkcode": w,
                "wijknaam": w,
                "gemeentecode": "GM0001",
                "gemeentenaam": "Test",
            }
            for w, bs in buurten.items()
            for b in bs
        ]
    )


def many_gemeenten(n: int, seed: int = 0) -> pd.DataFrame:
    """`n` independent gemeenten of 4 wijken × 6 buurten, random counts."""
    rng = np.random.default_rng(seed)
    frames = []
    for g in range(n):
        buurten = {
            f"G{g}W{w}": {
                f"G{g}W{w}B{b}": (int(d), [int(min(d, x)) for x in rng.integers(0, 40, 3)])
                for b, d in enumerate(rng.integers(0, 90, 6))
            }
            for w in range(4)
        }
        f = table(buurten)
        f[["code", "parent"]] = f[["code", "parent"]].replace("GM0001", f"GM{g:04d}")
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def test_many_components_in_parallel_give_the_serial_result(monkeypatch):
    import broker.suppress as suppression

    cells = many_gemeenten(50)
    parallel = suppress(cells, SPEC, POLICY)
    monkeypatch.setattr(suppression, "PARALLEL_FROM", 10**9)
    serial = suppress(cells, SPEC, POLICY)
    assert parallel.cells["status"].equals(serial.cells["status"])
    assert check_release(parallel.cells, POPULATION_OF, 10) > 0  # the gate, in parallel too
    naive = cells.assign(status="published")
    naive.loc[(cells["value"] >= 1) & (cells["value"] < 10), "status"] = "suppressed-primary"
    with pytest.raises(ReleaseBlocked, match="release refused: buurt") as e:
        check_release(naive, POPULATION_OF, 10)
    assert e.value.hint and "bug" in e.value.hint

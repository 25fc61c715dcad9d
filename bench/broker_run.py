"""The broker from packages to release figures, Zwolle size and national size.

    python -m bench.broker_run --scale 1      # Zwolle: 78 buurten, ~17,000 children
    python -m bench.broker_run --scale 340    # national: 14,162 buurten, ~2.3 million children

Preparation (not timed): the synthetic population at the scale (Zwolle and `scale` − 1 synthetic
gemeenten), the six partner extracts, sealed as the partners would. Timed, in a child process so
that its peak RSS is its own: ingest (verify and decrypt every package), merge (decrypt, stage-2
pseudonyms, DuckDB linkage), counts, secondary suppression of the whole buurt/wijk/gemeente
hierarchy for all indicators, and the independent gate. Baseline in the same command: the same
linkage written plainly in pandas (merges on the same decrypted, re-keyed tables).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.common import in_child, machine, measure

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PW = b"bench"


def prepare(workdir: Path, scale: int) -> None:
    """Population, extracts, keys, store, sealed packages."""
    from broker.store import Store
    from keys.identity import Identity, KdfParams, issue_link_key, unwrap_link_key
    from partner_agent.extract import read_extract
    from partner_agent.package import seal_extract
    from schemas import get_schema
    from schemas.synthetic import REFERENCE_DATE, extracts, generate_population, write_extracts

    paths = write_extracts(
        extracts(generate_population(seed=3, scale=scale), seed=3),
        workdir / "extracts",
        native=False,
    )
    store, broker = Store.create(
        workdir / "store", "b", PW, NOW, kdf=KdfParams(iterations=1, lanes=1, memory_kib=64)
    )
    fg = Identity.generate("officer", "fg", NOW)
    partner = Identity.generate("partner", "p", NOW)
    store.keyring().add(partner.public)
    _, wrapped = issue_link_key(fg, [partner.public], NOW)
    link = unwrap_link_key(partner, next(w for w in wrapped if w.recipient_name == "p"), None)
    for i, (schema_id, path) in enumerate(paths.items(), start=1):
        sealed = seal_extract(
            read_extract(path),
            get_schema(schema_id),
            reference_date=REFERENCE_DATE,
            link_key=link,
            link_key_id="l",
            signer=partner,
            broker=broker.public,
            sequence=i,
            now=NOW,
            out_path=workdir / "packages" / f"{schema_id}.kixpkg",
            drop_invalid=True,
        )
        assert sealed.manifest is not None, (schema_id, sealed.blocking)


def pandas_link(tables: dict[str, pd.DataFrame], geo: pd.DataFrame) -> pd.DataFrame:
    """The baseline: the linkage of broker.link written with pandas merges."""
    brp = tables["brp"].drop_duplicates("bsn_kind")
    brp = brp[brp["buurtcode"].isin(geo["buurtcode"])]
    ink = (
        tables["inkomen"]
        .groupby("bsn_persoon")
        .agg(laag=("inkomen_onder_120_sm", "max"), bijstand=("bijstand", "max"))
    )
    k = brp.merge(ink, left_on="bsn_ouder1", right_index=True, how="left")
    k = k.merge(ink, left_on="bsn_ouder2", right_index=True, how="left", suffixes=("", "_2"))
    ggd = tables["ggd_jgz"].sort_values("contactdatum").drop_duplicates("bsn_kind", keep="last")
    k = k.merge(ggd, on="bsn_kind", how="left")
    duo = tables["duo"].sort_values("groep").drop_duplicates("leerling_id", keep="last")
    k = k.merge(duo, left_on="bsn_kind", right_on="leerling_id", how="left")
    jh = tables["jeugdhulp"].groupby("bsn_kind")["zorgvorm"].agg(lambda z: set(z))
    return k.merge(jh, left_on="bsn_kind", right_index=True, how="left")


def child(step: str, workdir: Path, scale: int) -> dict[str, float]:
    """One timed step, in its own process."""
    from broker.gate import check_release
    from broker.indicators import counts, load_spec
    from broker.ingest import ingest
    from broker.link import Linker
    from broker.merge import _open, merge, rekey
    from broker.policy import Policy
    from broker.store import Store
    from broker.suppress import suppress
    from schemas.synthetic import geography_for

    store = Store.open(workdir / "store")
    broker, key = store.unlock(PW)
    geo = geography_for(scale)
    spec = load_spec()
    result: dict[str, float] = {}
    if step == "broker":
        packages = sorted((workdir / "packages").glob("*.kixpkg"))
        t0 = time.perf_counter()
        r = measure(lambda: ingest(store, packages, broker, NOW))
        result["ingest_s"] = r["wall_s"]
        holder: dict[str, object] = {}
        r = measure(lambda: holder.update(m=merge(store, broker, key, geo)))
        result["merge_s"] = r["wall_s"]
        linked = holder["m"].linked.table  # type: ignore[attr-defined]
        r = measure(lambda: holder.update(c=counts(linked, spec, geo)))
        result["counts_s"] = r["wall_s"]
        policy = Policy(
            policy_id="b",
            indicator_spec_id="x",
            indicator_spec_sha256="y",
            issued_at="z",
            officer_key_id="o",
        )
        r = measure(lambda: holder.update(s=suppress(holder["c"], spec, policy)))
        result["suppress_s"] = r["wall_s"]
        safe = holder["s"]
        result.update({k: float(v) for k, v in safe.stats.items()})  # type: ignore[attr-defined]
        pop = {i.id: i.population for i in spec.indicators}
        r = measure(lambda: check_release(safe.cells, pop, 10))  # type: ignore[attr-defined]
        result["gate_s"] = r["wall_s"]
        result["total_s"] = time.perf_counter() - t0
        result["children"] = float(linked.num_rows)
        levels = holder["c"]["level"]  # type: ignore[index]
        codes = holder["c"]["code"]  # type: ignore[index]
        result["buurten"] = float(codes[levels == "buurt"].nunique())
        result["wijken"] = float(codes[levels == "wijk"].nunique())
        result["peak_mib"] = r["peak_mib"]
        return result
    # the linkage alone, ours and the baseline, on the same opened and re-keyed tables
    current = store.state().current()
    tables = {}
    for d in current:
        tables[d["schema"]] = rekey(_open(store, d["package_id"], broker), key)
    r = measure(lambda: Linker().link(tables, geo, dt.date(2024, 1, 1)))
    result["duckdb_link_s"] = r["wall_s"]
    frames = {s: t.to_pandas() for s, t in tables.items()}
    r = measure(lambda: pandas_link(frames, geo))
    result["pandas_link_s"] = r["wall_s"]
    return result


def main() -> None:
    """Prepare, run the timed steps in children, print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--child")
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir, args.scale)))
        return
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        prepare(Path(d), args.scale)
        prep = time.perf_counter() - t
        run = in_child(
            "bench.broker_run", "--child", "broker", "--dir", d, "--scale", str(args.scale)
        )
        link = in_child(
            "bench.broker_run", "--child", "link", "--dir", d, "--scale", str(args.scale)
        )
    print(
        f"broker run at scale {args.scale} ({run['children']:,.0f} children and unborn, "
        f"{run['buurten']:,.0f} buurten in {run['wijken']:,.0f} wijken); {machine()}; "
        f"preparation {prep:.0f} s (not timed)"
    )
    for k in ("ingest_s", "merge_s", "counts_s", "suppress_s", "gate_s", "total_s"):
        print(f"  {k:<14} {run[k]:8.2f}")
    print(
        f"  cells: {run['published']:,.0f} published, {run['primary']:,.0f} primary, "
        f"{run['secondary']:,.0f} secondary suppressed; master iterations "
        f"{run['master_iterations']:,.0f}"
    )
    print(f"  peak RSS of the run: {run['peak_mib']:,.0f} MiB")
    print(
        f"  linkage alone: DuckDB {link['duckdb_link_s']:.2f} s, pandas baseline "
        f"{link['pandas_link_s']:.2f} s ({link['pandas_link_s'] / link['duckdb_link_s']:.1f}×)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""partner-agent seal of a 1,000,000-row BRP extract, against a straightforward baseline.

    python -m bench.seal_extract [--rows 1000000]

The extract is the gemeente's BRP export (semicolon CSV, Windows-1252) of a synthetic population
grown to the row count; it has four identifier columns (child, two parents, household). Both runs
start from the CSV file and end with an encrypted file:

- ours: `partner_agent.package.seal_extract` — read, full validation, minimisation, keyed
  pseudonyms, Parquet, sealed package;
- baseline: pandas `read_csv`, one `hmac.digest` per identifier value, birth date to age,
  `to_parquet`, then one AES-256-GCM encryption of the file. No validation at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hmac
import io
import tempfile
from pathlib import Path

import pandas as pd

from bench.common import machine, measure
from keys import crypto
from keys.identity import Identity
from partner_agent.extract import read_extract
from partner_agent.package import seal_extract
from schemas import get_schema
from schemas.synthetic import NATIONAL_SCALE, extracts, generate_population

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
REF = dt.date(2024, 1, 1)
IDS = ["bsn_kind", "bsn_ouder1", "bsn_ouder2", "huishoudnummer"]


def make_extract(rows: int, path: Path) -> int:
    """Write a BRP extract of about `rows` rows; returns the real row count."""
    scale = min(NATIONAL_SCALE, 2 + rows // 6_000)  # a synthetic gemeente has ~6,800 children
    brp = extracts(generate_population(seed=5, scale=scale), seed=5, mess=False)["brp"]
    brp = brp.iloc[:rows]
    brp.to_csv(path, sep=";", index=False, encoding="cp1252")
    return len(brp)


def ours(path: Path, out: Path) -> None:
    """The partner agent's whole sealing path."""
    partner = Identity.from_seeds("partner", "gemeente", NOW, b"p" * 32, b"q" * 32)
    broker = Identity.from_seeds("broker", "zwolle", NOW, b"b" * 32, b"c" * 32)
    result = seal_extract(
        read_extract(path),
        get_schema("brp"),
        reference_date=REF,
        link_key=b"k" * 32,
        link_key_id="bench",
        signer=partner,
        broker=broker.public,
        sequence=1,
        now=NOW,
        out_path=out,
    )
    assert result.manifest is not None


def baseline(path: Path, out: Path) -> None:
    """What one would write first: pandas and a hmac call per value."""
    key = b"k" * 32
    df = pd.read_csv(path, sep=";", dtype=str, encoding="cp1252", keep_default_na=False)
    for col in IDS:
        domain = b"huishouden:v1:" if col == "huishoudnummer" else b"bsn:v1:"
        df[col] = [hmac.digest(key, domain + v.encode(), "sha256") if v else None for v in df[col]]
    born = pd.to_datetime(df.pop("geboortedatum"), format="%Y%m%d")
    ref = pd.Timestamp(REF)
    df["leeftijd_maanden"] = (ref.year - born.dt.year) * 12 + (ref.month - born.dt.month)
    df = df.drop(columns=["straatnaam", "huisnummer"])
    buf = io.BytesIO()
    df.to_parquet(buf)
    out.write_bytes(crypto.Aead(b"d" * 32).encrypt(bytes(12), buf.getvalue(), b""))


def main() -> None:
    """Run both twice, alternating, and print the best of each with the ratio."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "brp.csv"
        n = make_extract(args.rows, path)
        results: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
        for _ in range(2):
            results["baseline"].append(measure(lambda: baseline(path, Path(d) / "b.bin")))
            results["ours"].append(measure(lambda: ours(path, Path(d) / "o.kixpkg")))
    best = {k: min(v, key=lambda r: r["wall_s"]) for k, v in results.items()}
    print(f"seal a {n:,}-row BRP extract (4 identifier columns, CSV cp1252); {machine()}")
    for name, r in best.items():
        print(
            f"{name:<9} wall {r['wall_s']:6.2f} s  cpu {r['cpu_s']:6.2f} s  "
            f"peak RSS {r['peak_mib']:6.0f} MiB (process so far)"
        )
    print(f"speed-up over baseline: {best['baseline']['wall_s'] / best['ours']['wall_s']:.2f}×")


if __name__ == "__main__":
    main()

"""Seal and open a 1 GiB payload, against the raw AEAD and SHA-256 speed measured in the same run.

    python -m bench.package_throughput [--mib 1024] [--dir /tmp]

Each step runs in its own child process so that its peak RSS is its own: memory must stay flat
(independent of the payload size) because the package is streamed in 64 KiB chunks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.common import in_child, machine, measure

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BLOCK = 1 << 20


def _ids():  # type: ignore[no-untyped-def]
    from keys.identity import Identity

    partner = Identity.from_seeds("partner", "duo", NOW, b"p" * 32, b"q" * 32)
    broker = Identity.from_seeds("broker", "zwolle", NOW, b"b" * 32, b"c" * 32)
    return partner, broker


def child(step: str, workdir: Path, mib: int) -> dict[str, float]:
    """One measured step, run inside a child process."""
    from keys import crypto
    from keys.identity import Keyring
    from keys.package import Manifest, open_file, seal

    partner, broker = _ids()
    payload, package, opened = workdir / "payload.bin", workdir / "p.kixpkg", workdir / "out.bin"
    if step == "aead":  # the raw AEAD over the same bytes, in the same chunking
        aead = crypto.Aead(b"k" * 32)
        nonce = bytes(12)

        def run() -> None:
            with payload.open("rb") as f:
                while chunk := f.read(64 * 1024):
                    aead.encrypt(nonce, chunk, b"h" * 32)

        return measure(run)
    if step == "copy":  # read and write the same bytes in the same chunks: the IO floor

        def run() -> None:
            with payload.open("rb") as f, opened.open("wb") as out:
                while chunk := f.read(64 * 1024):
                    out.write(chunk)

        return measure(run)
    if step == "sha256":

        def run() -> None:
            h = crypto.Hasher()
            with payload.open("rb") as f:
                while block := f.read(BLOCK):
                    h.update(block)
            h.digest()

        return measure(run)
    if step == "seal":
        m = Manifest(
            schema_id="duo",
            schema_version=1,
            partner="duo",
            package_id="bench",
            sequence=1,
            reference_date="2024-01-01",
            created_at=NOW.isoformat(),
            row_count=0,
            columns=(),
            payload_bytes=payload.stat().st_size,
            signer_key_id=partner.key_id,
            recipient_key_id=broker.key_id,
        )

        def run() -> None:
            with payload.open("rb") as src, package.open("wb") as out:
                seal(src, m, partner, broker.public, out)

        return measure(run)
    if step == "open":
        ring = Keyring(workdir / "ring")
        ring.add(partner.public)
        return measure(lambda: open_file(package, ring, broker, opened))
    raise SystemExit(f"unknown step {step}")


def main() -> None:
    """Run every step and print a table with ratios."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir, args.mib)))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        workdir = Path(d)
        with (workdir / "payload.bin").open("wb") as f:
            block = os.urandom(BLOCK)
            for _ in range(args.mib):
                f.write(block)
        rows = {}
        for step in ("aead", "sha256", "copy", "seal", "open"):
            rows[step] = in_child(
                "bench.package_throughput", "--child", step, "--dir", d, "--mib", str(args.mib)
            )
    base = rows["aead"]["wall_s"]
    print(f"package throughput, {args.mib} MiB payload; {machine()}")
    head = ("step", "wall s", "cpu s", "MiB/s", "× AEAD time", "peak RSS MiB")
    print(f"{head[0]:<8} {head[1]:>7} {head[2]:>7} {head[3]:>7} {head[4]:>11} {head[5]:>12}")
    for step, r in rows.items():
        print(
            f"{step:<8} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} {args.mib / r['wall_s']:>7.0f} "
            f"{r['wall_s'] / base:>11.1f} {r['peak_mib']:>12.0f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Run every benchmark in turn (`make bench`); each prints its own table."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    ["bench.package_throughput", "--mib", "1024"],
    ["bench.seal_extract", "--rows", "1000000"],
    ["bench.broker_run", "--scale", "1"],
    ["bench.broker_run", "--scale", "340"],  # national: NATIONAL_SCALE gemeenten
]


def main() -> None:
    """Run them, stop at the first failure."""
    for args in BENCHES:
        print(f"\n$ python -m {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, "-m", *args], check=True)


if __name__ == "__main__":
    main()

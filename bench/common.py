"""Measuring helpers: wall time, CPU time and peak memory of a step, in a child process."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], Any]) -> dict[str, float]:
    """Wall and CPU seconds of `fn()` and the peak RSS (MiB) of this process so far."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": wall, "cpu_s": cpu, "peak_mib": peak}


def in_child(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args…` and parse the JSON line it prints last."""
    out = subprocess.run(  # stderr passes through, so a failing child says why
        [sys.executable, "-m", module, *args], check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    """One line about the machine."""
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"

"""A progress display on stderr for the steps of a long run (silent when stderr is no terminal)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console


@contextlib.contextmanager
def progress_steps() -> Iterator[Callable[[str], None]]:
    """Yield `step(label)`: shows a spinner with the current step and its elapsed time."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda _label: None
        return
    start = time.perf_counter()
    with console.status("starting") as status:

        def step(label: str) -> None:
            status.update(f"{label} … ({time.perf_counter() - start:.1f} s)")

        yield step

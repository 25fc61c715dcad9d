"""Where a passphrase comes from: a prompt, or for automation a named variable or file."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from schemas.errors import UsageError


def passphrase_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add --passphrase-env and --passphrase-file to a command."""
    f = click.option(
        "--passphrase-file",
        type=click.Path(path_type=Path),
        help="Read the passphrase from this file (first line).",
    )(f)
    f = click.option(
        "--passphrase-env",
        metavar="NAME",
        help="Read the passphrase from environment variable NAME (for automation).",
    )(f)
    return f


def get_passphrase(
    env_name: str | None,
    file: Path | None,
    *,
    what: str,
    confirm: bool = False,
    environ: Mapping[str, str] | None = None,
) -> bytes:
    """The passphrase from the named variable, the named file, or a prompt (in that order)."""
    environ = os.environ if environ is None else environ
    if env_name and file:
        raise UsageError("give --passphrase-env or --passphrase-file, not both")
    if env_name:
        if env_name not in environ:
            raise UsageError(f"environment variable {env_name} is not set")
        value = environ[env_name]
    elif file:
        try:
            value = file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError):
            raise UsageError(f"{file}: cannot read a passphrase from it") from None
    else:
        value = click.prompt(
            f"Passphrase for {what}", hide_input=True, confirmation_prompt=confirm, err=True
        )
    if not value:
        raise UsageError("the passphrase is empty")
    return value.encode("utf-8")

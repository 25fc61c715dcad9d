"""User errors: one family, an exit code each, printed without a traceback.

Anything that is not a `UserError` is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click


class UserError(Exception):
    """A problem the user can fix; `hint` says how."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(UserError):
    """Bad arguments or a file that cannot be read."""

    exit_code = 2


class InvalidExtract(UserError):
    """The extract does not meet its schema."""

    exit_code = 10


class SealError(UserError):
    """A package, key or signature failed to verify or decrypt (deliberately opaque)."""

    exit_code = 11


class ReleaseBlocked(UserError):
    """The disclosure rules refuse a release."""

    exit_code = 12


class AuditMismatch(UserError):
    """The audit log or a release file does not match what was recorded."""

    exit_code = 13


EXIT_CODES = {
    "0": "success",
    "1": "other user error",
    "2": "usage error or unreadable input",
    "10": "invalid extract",
    "11": "seal, key or signature failure",
    "12": "release blocked by disclosure rules",
    "13": "audit mismatch",
}


def run(command: click.Command, prog: str, argv: Sequence[str] | None = None) -> int:
    """Run a click command, mapping user errors to `PROG: error:` lines and exit codes."""
    try:
        command.main(
            args=list(argv) if argv is not None else None, prog_name=prog, standalone_mode=False
        )
    except UserError as e:
        click.echo(f"{prog}: error: {e}", err=True)
        if e.hint:
            click.echo(f"{prog}: hint: {e.hint}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo(f"{prog}: error: aborted", err=True)
        return 1
    except click.ClickException as e:
        e.show(file=sys.stderr)
        return e.exit_code
    return 0

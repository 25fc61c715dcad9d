"""broker: run by the municipal analyst; audited by the privacy officer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from broker import keys_cli, store_cli
from broker.demo import run_demo, summary
from schemas.errors import EXIT_CODES, run

EXIT_HELP = "\b\nExit codes:\n" + "\n".join(f"  {k:>3}  {v}" for k, v in EXIT_CODES.items())


@click.group(epilog=EXIT_HELP)
@click.version_option(package_name="kinderindex")
def cli() -> None:
    """The kinderindex broker of the gemeente.

    The municipal analyst brings the partners' sealed packages together here and releases only
    protected aggregates per buurt and wijk. The privacy officer audits what the broker did.
    The broker never sees a BSN: partners pseudonymise before sealing.
    """


@cli.command()
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the demo's files (must not hold a demo yet).",
)
@click.option(
    "--seed", type=int, default=2019, show_default=True, help="Seed of the synthetic population."
)
def demo(workdir: Path, seed: int) -> None:
    """Run the whole chain on a synthetic Zwolle population, playing every role.

    Partners export and seal their extracts, the privacy officer issues the link key and signs
    the policy, the analyst ingests, merges and releases, the officer verifies the audit log.
    Non-interactive: keys are protected with a fixed demo passphrase (demo only).
    """
    result = run_demo(workdir, seed, lambda m: click.echo(m, err=True))
    click.echo(summary(result))


for command in (
    store_cli.init,
    store_cli.add_partner,
    store_cli.ingest_cmd,
    store_cli.merge_cmd,
    store_cli.release_cmd,
    store_cli.purge,
    store_cli.audit,
    store_cli.policy,
    keys_cli.officer,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    return run(cli, "broker", argv)


if __name__ == "__main__":
    raise SystemExit(main())

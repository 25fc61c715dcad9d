"""broker: run by the municipal analyst; audited by the privacy officer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from broker import keys_cli, store_cli
from broker.demo import run_demo
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
    help="Folder for the demo's files (created).",
)
@click.option(
    "--seed", type=int, default=2019, show_default=True, help="Seed of the synthetic population."
)
def demo(workdir: Path, seed: int) -> None:
    """Run the chain end to end on a synthetic Zwolle population.

    Generates the five partners' extracts (as each partner would export them) and checks each
    against its schema, as the partner's data officer would.
    """
    results = run_demo(workdir, seed, lambda m: click.echo(m, err=True))
    click.echo(f"{'schema':<18} {'rows':>7}  {'errors':>6}  {'warnings':>8}  file")
    for r in results:
        errors = sum(p.count for p in r.validated.errors)
        warnings = sum(p.count for p in r.validated.problems) - errors
        click.echo(f"{r.schema_ref:<18} {r.rows:>7,}  {errors:>6}  {warnings:>8}  {r.path}")
    click.echo(
        "Rows with errors (missing or mistyped BSNs) are the realistic mess a partner meets; "
        "`partner-agent check FILE --schema ID` shows where."
    )


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

"""partner-agent: run by a partner's data officer, on the partner's own machine."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from keys.identity import (
    Identity,
    load_identity,
    load_public,
    load_wrapped_link_key,
    refuse_existing,
    save_identity,
    unwrap_link_key,
)
from keys.package import read_manifest, verify_signature
from keys.passphrase import get_passphrase, passphrase_options
from partner_agent import report
from partner_agent.extract import Extract, read_extract
from partner_agent.package import seal_extract
from partner_agent.progress import progress_steps
from partner_agent.validate import validate
from schemas import SCHEMAS, SourceSchema, UnknownSchema, get_schema
from schemas.errors import EXIT_CODES, InvalidExtract, UsageError, run
from schemas.files import write_atomic

EXIT_HELP = "\b\nExit codes:\n" + "\n".join(f"  {k:>3}  {v}" for k, v in EXIT_CODES.items())


@click.group(epilog=EXIT_HELP)
@click.version_option(package_name="kinderindex")
def cli() -> None:
    """Prepare your institution's extract for the kinderindex broker.

    You are a data officer at a partner (gemeente/BRP, DUO, GGD, youth care, income). This tool
    runs on your machine: it checks an extract against the shared schema, keeps only the schema's
    columns, replaces every BSN by a keyed pseudonym and seals the result for the broker. No BSN,
    name, address or birth date leaves your building in the clear.
    """


def _dialect_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--sheet", default="0", show_default=True, help="XLSX sheet (name or index).")(
        f
    )
    f = click.option(
        "--decimal",
        type=click.Choice([".", ","]),
        help="Decimal mark (default: ',' for ';' files).",
    )(f)
    f = click.option(
        "--delimiter", help="CSV column separator (default: detected; 'tab' for a tab)."
    )(f)
    f = click.option("--encoding", help="CSV encoding, e.g. utf-8, cp1252 (default: detected).")(f)
    return f


def _schema(schema_id: str) -> SourceSchema:
    try:
        return get_schema(schema_id)
    except UnknownSchema as e:
        raise UsageError(str(e.args[0]), hint="`partner-agent schemas` lists them") from None


def _read(
    path: Path, encoding: str | None, delimiter: str | None, decimal: str | None, sheet: str
) -> Extract:
    delim = "\t" if delimiter == "tab" else delimiter
    return read_extract(
        path,
        encoding=encoding,
        delimiter=delim,
        decimal=decimal,
        sheet=int(sheet) if sheet.isdigit() else sheet,
    )


@cli.command()
@click.argument("extract", type=click.Path(path_type=Path))
@click.option("--schema", "schema_id", required=True, help="Schema id, e.g. duo or duo@v1.")
@_dialect_options
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="Write every problem with every row to this JSON file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
def check(
    extract: Path,
    schema_id: str,
    encoding: str | None,
    delimiter: str | None,
    decimal: str | None,
    sheet: str,
    report_path: Path | None,
    as_json: bool,
) -> None:
    """Validate EXTRACT against its schema; writes no package.

    Reports every problem at once, with the rows (as numbered in your file) and the column, and
    never the value of an identifier. Exit code 10 when the extract is invalid.
    """
    schema = _schema(schema_id)
    ex = _read(extract, encoding, delimiter, decimal, sheet)
    result = validate(ex.table, schema, ex.first_line)
    data = report.summary(ex, schema.ref, result)
    if report_path:
        write_atomic(report_path, report.report_json(data))
    click.echo(json.dumps(data) if as_json else report.render(ex, schema.ref, result))
    if result.errors:
        raise InvalidExtract(
            f"{extract}: does not meet schema {schema.ref}",
            hint=f"see {report_path} for every row"
            if report_path
            else "--report FILE lists every row",
        )


def _next_sequence(key: Path) -> int:
    """One more than the last sequence sealed with this key (kept next to the key file)."""
    state = key.with_name(key.name + ".sequence")
    try:
        return int(state.read_text().strip()) + 1
    except (OSError, ValueError):
        return 1


@cli.command("seal")
@click.argument("extract", type=click.Path(path_type=Path))
@click.option("--schema", "schema_id", required=True, help="Schema id, e.g. duo or duo@v1.")
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Your partner key file (NAME.key from keygen).",
)
@click.option(
    "--link-key",
    "link_key_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The link-key file the privacy officer issued to you (linkkey.NAME.json).",
)
@click.option(
    "--broker",
    "broker_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The broker's public key (broker.pub.json): the package is sealed for it.",
)
@click.option(
    "--officer",
    "officer_path",
    type=click.Path(path_type=Path),
    help="The officer's public key: check that the link-key file is signed by it.",
)
@click.option(
    "--reference-date",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Peildatum: ages are computed at this date (YYYY-MM-DD).",
)
@click.option(
    "--sequence",
    type=click.IntRange(min=1),
    help="Package sequence number (default: one more than the last with this key).",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    help="Package file (default: PARTNER-SCHEMA-DATE-SEQ.kixpkg here).",
)
@click.option(
    "--drop-invalid",
    is_flag=True,
    help="Drop rows whose identifier is missing or invalid (count goes in the manifest) "
    "instead of refusing the extract.",
)
@_dialect_options
@passphrase_options
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
def seal_cmd(
    extract: Path,
    schema_id: str,
    key_path: Path,
    link_key_path: Path,
    broker_path: Path,
    officer_path: Path | None,
    reference_date: dt.datetime,
    sequence: int | None,
    out_path: Path | None,
    drop_invalid: bool,
    encoding: str | None,
    delimiter: str | None,
    decimal: str | None,
    sheet: str,
    passphrase_env: str | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Validate, minimise, pseudonymise and seal EXTRACT into one package for the broker.

    Only the schema's columns go in; birth dates become age in months at the reference date;
    every BSN becomes a keyed pseudonym. The package is encrypted for the broker and signed with
    your key. A failed or interrupted run leaves no package behind. Exit code 10 when the
    extract is invalid.
    """
    schema = _schema(schema_id)
    broker = load_public(broker_path)
    officer = load_public(officer_path) if officer_path else None
    wrapped = load_wrapped_link_key(link_key_path)
    ex = _read(extract, encoding, delimiter, decimal, sheet)
    me = load_identity(
        key_path, get_passphrase(passphrase_env, passphrase_file, what=str(key_path))
    )
    link_key = unwrap_link_key(me, wrapped, officer)
    seq = sequence or _next_sequence(key_path)
    date = reference_date.date()
    out = out_path or Path(f"{me.public.name}-{schema.id}-{date.isoformat()}-{seq:04d}.kixpkg")
    with progress_steps() as step:
        result = seal_extract(
            ex,
            schema,
            reference_date=date,
            link_key=link_key,
            link_key_id=wrapped.link_key_id,
            signer=me,
            broker=broker,
            sequence=seq,
            now=dt.datetime.now(dt.UTC),
            out_path=out,
            drop_invalid=drop_invalid,
            step=step,
        )
    if result.manifest is None:
        click.echo(report.render(ex, schema.ref, result.validated))
        identifiers = {c.name for c in schema.columns if c.identifier}
        only_ids = all(p.column in identifiers for p in result.blocking)
        raise InvalidExtract(
            f"{extract}: does not meet schema {schema.ref}; no package written",
            hint="--drop-invalid drops the rows with an invalid identifier" if only_ids else None,
        )
    write_atomic(key_path.with_name(key_path.name + ".sequence"), f"{seq}\n".encode())
    click.echo(
        json.dumps(result.manifest.model_dump())
        if as_json
        else report.render_manifest(result.manifest, out)
    )


@cli.command()
@click.argument("package", type=click.Path(path_type=Path))
@click.option(
    "--signer",
    "signer_path",
    type=click.Path(path_type=Path),
    help="A public key file: also verify that this key signed the package.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def inspect(package: Path, signer_path: Path | None, as_json: bool) -> None:
    """Show what is inside PACKAGE without decrypting it (no key needed).

    Lists the partner, schema, row count and the exact columns with their types, what was
    dropped, and the key ids. With --signer, also verifies the signature.
    """
    if not package.is_file():
        raise UsageError(f"{package}: no such file")
    manifest = read_manifest(package)
    if signer_path:
        signer = load_public(signer_path)
        with package.open("rb") as f:
            verify_signature(f, package.stat().st_size, signer)
    if as_json:
        click.echo(json.dumps(manifest.model_dump(), indent=2))
        return
    click.echo(report.render_manifest(manifest, package))
    if signer_path:
        click.echo(f"signature: valid, by {signer.key_id} ({signer.role} {signer.name})")


@cli.command()
@click.option(
    "--name", required=True, help="Your partner id as the broker knows it, e.g. duo, ggd, gemeente."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for NAME.key (private, 0600) and NAME.pub.json.",
)
@passphrase_options
def keygen(
    name: str, out_dir: Path, passphrase_env: str | None, passphrase_file: Path | None
) -> None:
    """Create your partner identity: a signing key and a key to receive the link key.

    NAME.key holds the private keys, encrypted with your passphrase (Argon2id); keep it on this
    machine. Send NAME.pub.json to the broker (for its keyring) and to the privacy officer (who
    wraps the link key for it).
    """
    path = out_dir / f"{name}.key"
    refuse_existing(path)  # before asking for a passphrase
    passphrase = get_passphrase(passphrase_env, passphrase_file, what=str(path), confirm=True)
    identity = Identity.generate("partner", name, dt.datetime.now(dt.UTC))
    public = save_identity(identity, path, passphrase)
    click.echo(f"{identity.key_id}  partner {name}\n  private: {path}\n  public:  {public}")


@cli.command("schemas")
@click.argument("schema_id", required=False)
def schemas_cmd(schema_id: str | None) -> None:
    """List the shared schemas, or show the columns of one."""
    if schema_id is None:
        for s in SCHEMAS.values():
            click.echo(f"{s.ref:<18} {s.partner:<10} {s.title}")
        return
    s = _schema(schema_id)
    click.echo(f"{s.ref}: {s.title}\n{s.description}\n")
    for c in s.columns:
        flags = ("identifier → pseudonymised; " if c.identifier else "") + (
            "required" if c.required else "optional"
        )
        values = f" [{', '.join(c.values)}]" if c.values else ""
        click.echo(f"  {c.name:<28} {c.kind:<12} {flags}: {c.description}{values}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    return run(cli, "partner-agent", argv)


if __name__ == "__main__":
    raise SystemExit(main())

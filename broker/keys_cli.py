"""Key commands on the broker side: the broker's own keys, the keyring, the officer's tools."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from keys import crypto
from keys.identity import (
    Identity,
    Keyring,
    Role,
    issue_link_key,
    load_identity,
    load_public,
    load_wrapped_link_key,
    rewrap_link_key,
    save_identity,
    save_secret_key,
    wrapped_link_key_bytes,
)
from keys.passphrase import get_passphrase, passphrase_options
from schemas.errors import UsageError
from schemas.files import write_atomic

PSEUDONYM_KEY = "pseudonym"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_identity(role: Role, name: str, path: Path, passphrase: bytes) -> Identity:
    if path.exists():
        raise UsageError(
            f"{path}: exists; refusing to overwrite a key",
            hint="move it away first if you mean to rotate keys",
        )
    identity = Identity.generate(role, name, _now())
    save_identity(identity, path, passphrase)
    return identity


@click.command()
@click.option("--name", default="broker", show_default=True, help="Name of this broker.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the key files.",
)
@passphrase_options
def keygen(
    name: str, out_dir: Path, passphrase_env: str | None, passphrase_file: Path | None
) -> None:
    """Create the broker's keys (municipal analyst).

    NAME.key: the identity that partners seal packages to and that signs the audit log.
    NAME.pseudonym.key: the key of the second pseudonymisation stage. Both are encrypted with the
    passphrase. Give NAME.pub.json to the partners: they seal for its key id.
    """
    passphrase = get_passphrase(
        passphrase_env, passphrase_file, what=f"broker {name}", confirm=True
    )
    pseudonym_path = out_dir / f"{name}.pseudonym.key"
    if pseudonym_path.exists():
        raise UsageError(f"{pseudonym_path}: exists; refusing to overwrite a key")
    identity = _new_identity("broker", name, out_dir / f"{name}.key", passphrase)
    kid = save_secret_key(
        PSEUDONYM_KEY, crypto.random_bytes(crypto.KEY_BYTES), pseudonym_path, passphrase
    )
    click.echo(f"{identity.key_id}  broker {name}\n{kid}  pseudonym key ({pseudonym_path})")


@click.group()
def keyring() -> None:
    """The broker's keyring: public keys of partners and officer it trusts."""


@keyring.command("add")
@click.argument("public_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--keyring", "folder", type=click.Path(path_type=Path), required=True, help="Keyring folder."
)
def keyring_add(public_files: tuple[Path, ...], folder: Path) -> None:
    """Add public key files (NAME.pub.json) to the keyring."""
    ring = Keyring(folder)
    for f in public_files:
        public = load_public(f)
        ring.add(public)
        click.echo(f"added {public.key_id}  {public.role} {public.name}")


@keyring.command("list")
@click.option(
    "--keyring", "folder", type=click.Path(path_type=Path), required=True, help="Keyring folder."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keyring_list(folder: Path, as_json: bool) -> None:
    """List the keys in the keyring."""
    keys = list(Keyring(folder))
    if as_json:
        click.echo(json.dumps([k.model_dump() for k in keys], indent=2))
        return
    for k in keys:
        click.echo(f"{k.key_id}  {k.role:<8} {k.name:<12} created {k.created_at}")


@click.group()
def officer() -> None:
    """The privacy officer's keys and link-key issuing."""


@officer.command("keygen")
@click.option("--name", default="fg", show_default=True, help="Name of the officer's key.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for NAME.key and NAME.pub.json.",
)
@passphrase_options
def officer_keygen(
    name: str, out_dir: Path, passphrase_env: str | None, passphrase_file: Path | None
) -> None:
    """Create the privacy officer's signing key (policies, link keys, checkpoints)."""
    passphrase = get_passphrase(
        passphrase_env, passphrase_file, what=f"officer {name}", confirm=True
    )
    identity = _new_identity("officer", name, out_dir / f"{name}.key", passphrase)
    click.echo(f"{identity.key_id}  officer {name}")


@officer.command("issue-link-key")
@click.option(
    "--officer-key", type=click.Path(path_type=Path), required=True, help="The officer's NAME.key."
)
@click.option(
    "--partner",
    "partners",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="A partner's NAME.pub.json (repeat).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for one link-key file per partner (and the officer's own copy).",
)
@passphrase_options
def issue(
    officer_key: Path,
    partners: tuple[Path, ...],
    out_dir: Path,
    passphrase_env: str | None,
    passphrase_file: Path | None,
) -> None:
    """Generate the link key and wrap it for each partner; the broker never receives it.

    Writes linkkey.PARTNER.json per partner and linkkey.officer.json, the officer's own copy for
    partners that join later (see rewrap-link-key). Send each partner its own file.
    """
    me = load_identity(
        officer_key, get_passphrase(passphrase_env, passphrase_file, what=str(officer_key))
    )
    kid, wrapped = issue_link_key(me, [load_public(p) for p in partners], _now())
    for w in wrapped:
        name = "officer" if w.recipient_key_id == me.key_id else w.recipient_name
        path = out_dir / f"linkkey.{name}.json"
        write_atomic(path, wrapped_link_key_bytes(w))
        click.echo(f"{kid} → {w.recipient_name} ({w.recipient_key_id}): {path}")


@officer.command("rewrap-link-key")
@click.option(
    "--officer-key", type=click.Path(path_type=Path), required=True, help="The officer's NAME.key."
)
@click.option(
    "--own-copy",
    type=click.Path(path_type=Path),
    required=True,
    help="The officer's linkkey.officer.json.",
)
@click.option(
    "--partner",
    type=click.Path(path_type=Path),
    required=True,
    help="The new partner's NAME.pub.json.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the partner's link-key file.",
)
@passphrase_options
def rewrap(
    officer_key: Path,
    own_copy: Path,
    partner: Path,
    out_dir: Path,
    passphrase_env: str | None,
    passphrase_file: Path | None,
) -> None:
    """Wrap the existing link key for a partner that joins later."""
    me = load_identity(
        officer_key, get_passphrase(passphrase_env, passphrase_file, what=str(officer_key))
    )
    w = rewrap_link_key(me, load_wrapped_link_key(own_copy), load_public(partner), _now())
    path = out_dir / f"linkkey.{w.recipient_name}.json"
    write_atomic(path, wrapped_link_key_bytes(w))
    click.echo(f"{w.link_key_id} → {w.recipient_name} ({w.recipient_key_id}): {path}")

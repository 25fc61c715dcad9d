"""The officer's commands on the broker side: officer keys, link-key issuing, policy signing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from broker.policy import DEFAULT_K, DEFAULT_RETENTION_DAYS
from keys.identity import (
    Identity,
    issue_link_key,
    load_identity,
    load_public,
    load_wrapped_link_key,
    refuse_existing,
    rewrap_link_key,
    save_identity,
    wrapped_link_key_bytes,
)
from keys.passphrase import get_passphrase, passphrase_options
from schemas.files import write_atomic

OFFICER_KEY = click.option(
    "--officer-key", type=click.Path(path_type=Path), required=True, help="The officer's NAME.key."
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@click.group()
def officer() -> None:
    """The privacy officer's keys, link-key issuing and policy signing."""


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
    path = out_dir / f"{name}.key"
    refuse_existing(path)  # before asking for a passphrase
    passphrase = get_passphrase(
        passphrase_env, passphrase_file, what=f"officer {name}", confirm=True
    )
    identity = Identity.generate("officer", name, _now())
    save_identity(identity, path, passphrase)
    click.echo(f"{identity.key_id}  officer {name}")


@officer.command("issue-link-key")
@OFFICER_KEY
@click.argument("partners", nargs=-1, required=True, type=click.Path(path_type=Path))
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
    """Generate the link key and wrap it for each partner in PARTNERS (NAME.pub.json files).

    The broker never receives it.

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


@officer.command("sign-policy")
@OFFICER_KEY
@click.option("--policy-id", required=True, help="An id for this policy, e.g. 2024-1.")
@click.option(
    "--k",
    type=click.IntRange(min=3),
    default=DEFAULT_K,
    show_default=True,
    help="Minimum count, complement and denominator of a published cell.",
)
@click.option(
    "--min-rate-denominator",
    type=click.IntRange(min=1),
    help="No percentage on a smaller denominator (default: k).",
)
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    default=DEFAULT_RETENTION_DAYS,
    show_default=True,
    help="Delete accepted packages after this many days.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The signed policy file to give to the municipal analyst.",
)
@passphrase_options
def sign_policy_cmd(
    officer_key: Path,
    policy_id: str,
    k: int,
    min_rate_denominator: int | None,
    retention_days: int,
    out_path: Path,
    passphrase_env: str | None,
    passphrase_file: Path | None,
) -> None:
    """Sign the release policy; it approves the indicator spec in use (by id and hash)."""
    from broker.indicators import SPEC_ID, spec_sha256
    from broker.policy import policy_bytes, sign_policy

    me = load_identity(
        officer_key, get_passphrase(passphrase_env, passphrase_file, what=str(officer_key))
    )
    policy = sign_policy(
        me,
        policy_id=policy_id,
        k=k,
        min_rate_denominator=min_rate_denominator or k,
        retention_days=retention_days,
        indicator_spec_id=SPEC_ID,
        indicator_spec_sha256=spec_sha256(),
        issued_at=_now().isoformat(timespec="seconds"),
    )
    write_atomic(out_path, policy_bytes(policy))
    click.echo(f"policy {policy_id}: k = {k}, spec {SPEC_ID} ({spec_sha256()[:12]}…) → {out_path}")


@officer.command("rewrap-link-key")
@OFFICER_KEY
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

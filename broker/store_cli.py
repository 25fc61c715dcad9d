"""Store commands: init, ingest, merge, purge, and the audit and policy commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from broker.audit import load_checkpoint
from broker.ingest import ingest
from broker.merge import merge
from broker.policy import check_policy, load_policy
from broker.store import Store
from keys.identity import Identity, load_public
from keys.passphrase import get_passphrase, passphrase_options
from partner_agent.progress import progress_steps
from schemas.errors import AuditMismatch, ReleaseBlocked, SealError, UsageError
from schemas.files import write_atomic
from schemas.geography import buurten

STORE = click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path),
    required=True,
    envvar="KINDERINDEX_STORE",
    show_envvar=True,
    help="The broker's store folder.",
)


def now() -> dt.datetime:
    """The clock (one place, so that tests and logs agree)."""
    return dt.datetime.now(dt.UTC)


def unlock(
    store: Store, passphrase_env: str | None, passphrase_file: Path | None
) -> tuple[Identity, bytes]:
    """The broker's keys, after asking for the passphrase."""
    return store.unlock(get_passphrase(passphrase_env, passphrase_file, what="the broker's keys"))


@click.command()
@STORE
@click.option("--name", default="broker", show_default=True, help="Name of this broker.")
@click.option(
    "--officer",
    "officer_path",
    type=click.Path(path_type=Path),
    help="The privacy officer's public key, added to the keyring.",
)
@passphrase_options
def init(
    store_path: Path,
    name: str,
    officer_path: Path | None,
    passphrase_env: str | None,
    passphrase_file: Path | None,
) -> None:
    """Create a store: broker keys, keyring, audit log, folders. Never overwrites one."""
    passphrase = get_passphrase(
        passphrase_env, passphrase_file, what="the broker's keys", confirm=True
    )
    store, identity = Store.create(store_path, name, passphrase, now())
    if officer_path:
        officer = load_public(officer_path)
        if officer.role != "officer":
            raise UsageError(f"{officer_path}: is a {officer.role} key, not the officer's")
        store.trust(identity, officer, now())
    click.echo(
        f"store {store_path}: broker {identity.key_id}\n"
        f"give {store.keys_dir / 'broker.pub.json'} to the partners"
    )


@click.command("add-partner")
@STORE
@click.argument("public_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@passphrase_options
def add_partner(
    store_path: Path,
    public_files: tuple[Path, ...],
    passphrase_env: str | None,
    passphrase_file: Path | None,
) -> None:
    """Add partners' (or the officer's) public keys to the store's keyring; logged."""
    store = Store.open(store_path)
    identity, _ = unlock(store, passphrase_env, passphrase_file)
    for f in public_files:
        public = load_public(f)
        store.trust(identity, public, now())
        click.echo(f"added {public.key_id}  {public.role} {public.name}")


@click.command("ingest")
@STORE
@click.argument("packages", nargs=-1, required=True, type=click.Path(path_type=Path))
@passphrase_options
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
def ingest_cmd(
    store_path: Path,
    packages: tuple[Path, ...],
    passphrase_env: str | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Verify and accept packages into the store (they stay encrypted).

    A package that fails (signature, key, unknown schema, replay) is quarantined with its
    reason; the others go on. Exit code 11 when any package was rejected.
    """
    store = Store.open(store_path)
    identity, _ = unlock(store, passphrase_env, passphrase_file)
    outcomes = ingest(store, list(packages), identity, now())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "file": str(o.path),
                        "accepted": o.accepted,
                        "reason": o.reason,
                        "package_id": o.manifest.package_id if o.manifest else None,
                        "superseded": list(o.superseded),
                    }
                    for o in outcomes
                ]
            )
        )
    else:
        for o in outcomes:
            if o.manifest:
                m = o.manifest
                click.echo(
                    f"accepted  {o.path.name}: {m.partner} {m.schema_id}@v"
                    f"{m.schema_version} seq {m.sequence}, {m.row_count:,} rows"
                )
                for old in o.superseded:
                    click.echo(f"          supersedes {old}")
            else:
                click.echo(f"rejected  {o.path.name}: {o.reason}")
    rejected = sum(not o.accepted for o in outcomes)
    if rejected:
        raise SealError(f"{rejected} of {len(outcomes)} package(s) rejected and quarantined")


@click.command("merge")
@STORE
@passphrase_options
@click.option("--json", "as_json", is_flag=True, help="Print the linkage figures as JSON.")
def merge_cmd(
    store_path: Path, passphrase_env: str | None, passphrase_file: Path | None, as_json: bool
) -> None:
    """Link the current packages in memory and report linkage quality per source.

    The figures printed here are municipality totals; per buurt they are released only through
    the disclosure rules (`broker release`).
    """
    store = Store.open(store_path)
    identity, key = unlock(store, passphrase_env, passphrase_file)
    with progress_steps() as step:
        merged = merge(store, identity, key, buurten(), step)
    q = merged.linked.quality
    store.log.append(
        identity,
        "merge",
        {
            "reference_date": merged.reference_date.isoformat(),
            "packages": [d["package_id"] for d in merged.packages],
            "children": int((~merged.linked.table.column("ongeboren").to_pandas()).sum()),
        },
        now(),
    )
    if as_json:
        click.echo(q.to_json(orient="records"))
        return
    click.echo(
        f"linked at reference date {merged.reference_date}: "
        f"{merged.linked.table.num_rows:,} children (unborn included)"
    )
    click.echo(
        f"{'bron':<14} {'records':>8} {'sleutels':>8} {'dubbel':>7} {'gekoppeld':>9} "
        f"{'niet gek.':>9} {'%':>6}"
    )
    for r in q.itertuples():
        rate = 100 * r.gekoppeld / r.sleutels if r.sleutels else 0.0
        click.echo(
            f"{r.bron:<14} {r.records:>8,} {r.sleutels:>8,} {r.dubbel:>7,} "
            f"{r.gekoppeld:>9,} {r.niet_gekoppeld:>9,} {rate:>5.1f}%"
        )


@click.group()
def audit() -> None:
    """The privacy officer's audit of the store."""


@audit.command("verify")
@STORE
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(path_type=Path),
    help="A checkpoint kept outside the broker: detects truncation and rewriting.",
)
def verify(store_path: Path, checkpoint_path: Path | None) -> None:
    """Check the log's chain, signatures, checkpoint and the hashes of release files.

    Exit code 13 on any mismatch, naming the first bad entry.
    """
    store = Store.open(store_path)
    cp = load_checkpoint(checkpoint_path) if checkpoint_path else None
    result = store.log.verify(store.signers(), cp)
    if result.torn_tail:
        click.echo(
            f"torn tail: {result.torn_tail} bytes after entry {len(result.entries)} "
            "(a write cut short; set aside and logged at the next append)",
            err=True,
        )
    if not result.ok:
        raise AuditMismatch(f"audit log: {result.problem}")
    problems = store.release_file_problems(result.entries)
    if problems:
        raise AuditMismatch(problems[0])
    click.echo(
        f"audit log OK: {len(result.entries)} entries"
        + (f", consistent with checkpoint of {cp.size}" if cp else "")
    )


@audit.command("checkpoint")
@STORE
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the checkpoint (keep it outside the broker).",
)
@passphrase_options
def checkpoint_cmd(
    store_path: Path, out_path: Path, passphrase_env: str | None, passphrase_file: Path | None
) -> None:
    """Write a signed checkpoint (log size and Merkle root) for the officer to keep."""
    store = Store.open(store_path)
    identity, _ = unlock(store, passphrase_env, passphrase_file)
    cp = store.log.checkpoint(identity, now())
    write_atomic(out_path, (json.dumps(cp.model_dump(), indent=2) + "\n").encode())
    click.echo(f"checkpoint: {cp.size} entries, root {cp.root}")


@audit.command("list")
@STORE
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_list(store_path: Path, as_json: bool) -> None:
    """List the log's entries (unverified: run `audit verify` for that)."""
    entries = Store.open(store_path).log.entries()
    if as_json:
        click.echo(json.dumps(entries))
        return
    for e in entries:
        d = e["data"]
        what = d.get("package_id") or d.get("release_id") or d.get("reason") or ""
        click.echo(f"{e['seq']:>5}  {e['time']}  {e['event']:<24} {what}")


@audit.command("show")
@STORE
@click.argument("release_id")
def audit_show(store_path: Path, release_id: str) -> None:
    """What went into a release: packages, policy, suppression counts, output hashes."""
    entries = Store.open(store_path).log.entries()
    release = next(
        (e for e in entries if e["event"] == "release" and e["data"]["release_id"] == release_id),
        None,
    )
    if release is None:
        raise UsageError(
            f"no release {release_id} in the log", hint="`broker audit list` shows the releases"
        )
    accepted = {
        e["data"]["package_id"]: e["data"] for e in entries if e["event"] == "package.accepted"
    }
    d = release["data"]
    click.echo(f"release {release_id} (log entry {release['seq']}, {release['time']})")
    click.echo(
        f"  policy {d['policy_id']} ({d['policy_sha256'][:16]}…), indicator spec {d['spec_id']}"
    )
    click.echo("  packages:")
    for pid in d["packages"]:
        p = accepted.get(pid, {})
        click.echo(
            f"    {pid}  {p.get('partner')} {p.get('schema')}@v{p.get('schema_version')}"
            f" seq {p.get('sequence')}, {p.get('rows', 0):,} rows"
        )
    s = d["suppression"]
    click.echo(
        f"  cells: {s['published']} published, {s['primary']} suppressed (primary), "
        f"{s['secondary']} suppressed (secondary)"
    )
    click.echo("  outputs:")
    for name, digest in d["outputs"].items():
        click.echo(f"    {name}  sha256 {digest}")


@click.group()
def policy() -> None:
    """The signed release policy."""


@policy.command("install")
@STORE
@click.argument("policy_file", type=click.Path(path_type=Path))
@passphrase_options
def policy_install(
    store_path: Path, policy_file: Path, passphrase_env: str | None, passphrase_file: Path | None
) -> None:
    """Install a policy signed by the privacy officer (checked, then logged)."""
    from broker.indicators import SPEC_ID, spec_sha256

    store = Store.open(store_path)
    identity, _ = unlock(store, passphrase_env, passphrase_file)
    pol = load_policy(policy_file)
    try:
        check_policy(pol, store.keyring(), SPEC_ID, spec_sha256())
    except ReleaseBlocked as e:
        store.log.append(
            identity, "policy.refused", {"policy_id": pol.policy_id, "reason": str(e)}, now()
        )
        raise
    store.install_policy(identity, pol, now())
    click.echo(
        f"installed policy {pol.policy_id}: k = {pol.k}, retention {pol.retention_days} days"
    )


@click.command()
@STORE
@passphrase_options
def purge(store_path: Path, passphrase_env: str | None, passphrase_file: Path | None) -> None:
    """Delete packages older than the policy's retention period; logged."""
    store = Store.open(store_path)
    identity, _ = unlock(store, passphrase_env, passphrase_file)
    pol = store.policy()
    if pol is None:
        raise UsageError("no policy installed: the retention period comes from the policy")
    cutoff = now() - dt.timedelta(days=pol.retention_days)
    accepted_at = {
        e["data"]["package_id"]: e["time"]
        for e in store.log.entries()
        if e["event"] == "package.accepted"
    }
    state = store.state()
    n = 0
    for pid, when in accepted_at.items():
        if pid in state.purged or dt.datetime.fromisoformat(when) >= cutoff:
            continue
        (store.accepted_dir / f"{pid}.kixpkg").unlink(missing_ok=True)
        store.log.append(
            identity,
            "package.purged",
            {"package_id": pid, "accepted_at": when, "retention_days": pol.retention_days},
            now(),
        )
        n += 1
    click.echo(f"purged {n} package(s) accepted before {cutoff:%Y-%m-%d}")


@click.command("release")
@STORE
@passphrase_options
def release_cmd(store_path: Path, passphrase_env: str | None, passphrase_file: Path | None) -> None:
    """Merge, count, suppress, check and write a release (CSV, Parquet, GeoJSON, HTML report).

    Refused (exit code 12) without a policy signed by the privacy officer, or when the
    independent check finds a cell that could be recomputed. A signed checkpoint of the audit
    log is written next to the store for the officer to keep elsewhere.
    """
    from broker.publish import publish

    store = Store.open(store_path)
    identity, key = unlock(store, passphrase_env, passphrase_file)
    with progress_steps() as step:
        done = publish(store, identity, key, now(), step)
    s = done.safe.stats
    click.echo(
        f"release {done.release_id}: {s['published']} cells published, "
        f"{s['primary']} suppressed (primary), {s['secondary']} (secondary)"
    )
    click.echo(f"  files:      {done.folder}")
    click.echo(f"  report:     {done.folder / 'rapport.html'}")
    click.echo(f"  checkpoint: {done.checkpoint} (keep a copy outside the broker)")

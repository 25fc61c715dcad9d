"""The demo: the whole chain on the synthetic Zwolle population, every role played in turn.

Demo only: nothing here is used outside `broker demo`. The passphrase below is the demo setting
and exists nowhere else; real runs ask for passphrases (or read a named variable or file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from broker.audit import load_checkpoint
from broker.indicators import SPEC_ID, spec_sha256
from broker.ingest import ingest
from broker.policy import sign_policy
from broker.publish import Published, publish
from broker.store import Store
from keys.identity import Identity, issue_link_key, save_identity, unwrap_link_key
from partner_agent.extract import read_extract
from partner_agent.package import seal_extract
from schemas import get_schema
from schemas.errors import AuditMismatch, UsageError
from schemas.synthetic import REFERENCE_DATE, generate

DEMO_PASSPHRASE = b"demo only - not for real keys"  # the clearly marked demo setting
# Which partner sends which extract (the GGD sends two).
PARTNER_OF = {
    "brp": "gemeente",
    "duo": "duo",
    "ggd_jgz": "ggd",
    "ggd_prenataal": "ggd",
    "jeugdhulp": "jeugdhulp",
    "inkomen": "inkomen",
}


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced."""

    published: Published
    sealed: dict[str, dict[str, int]]  # schema → rows in extract, rows sealed, rows dropped
    log_entries: int


def run_demo(workdir: Path, seed: int, say: Callable[[str], None]) -> DemoResult:
    """Every step of the chain, as each role would do it."""
    if (workdir / "store").exists():
        raise UsageError(f"{workdir}: holds an earlier demo", hint="remove it or pick --workdir")
    now = dt.datetime.now(dt.UTC)
    keys = workdir / "keys"
    say(f"1/7 gemeente, DUO, GGD, jeugdhulp, inkomen: exporting extracts (seed {seed})")
    extracts = generate(workdir / "extracts", seed=seed)

    say("2/7 every role creates its keys; the broker creates its store")
    partners = {
        name: Identity.generate("partner", name, now) for name in sorted(set(PARTNER_OF.values()))
    }
    officer = Identity.generate("officer", "fg", now)
    for name, identity in [*partners.items(), ("fg", officer)]:
        save_identity(identity, keys / f"{name}.key", DEMO_PASSPHRASE)
    store, broker = Store.create(workdir / "store", "zwolle", DEMO_PASSPHRASE, now)
    for identity in [officer, *partners.values()]:
        store.trust(broker, identity.public, now)

    say("3/7 the privacy officer issues the link key to the partners (not to the broker)")
    link_key_id, wrapped = issue_link_key(officer, [p.public for p in partners.values()], now)
    link_keys = {
        w.recipient_name: unwrap_link_key(partners[w.recipient_name], w, officer.public)
        for w in wrapped
        if w.recipient_name in partners
    }

    say("4/7 each partner checks, minimises, pseudonymises and seals its extract")
    sealed: dict[str, dict[str, int]] = {}
    packages: list[Path] = []
    for schema_id, path in extracts.items():
        partner = PARTNER_OF[schema_id]
        out = workdir / "packages" / f"{partner}-{schema_id}.kixpkg"
        result = seal_extract(
            read_extract(path),
            get_schema(schema_id),
            reference_date=REFERENCE_DATE,
            link_key=link_keys[partner],
            link_key_id=link_key_id,
            signer=partners[partner],
            broker=broker.public,
            sequence=1 + len([p for p in packages if partner in p.name]),
            now=now,
            out_path=out,
            drop_invalid=True,  # the data officer's decision, logged
        )
        assert result.minimised is not None
        sealed[schema_id] = {
            "rows": result.minimised.rows_in_extract,
            "sealed": result.minimised.table.num_rows,
            "dropped": result.minimised.rows_dropped,
        }
        packages.append(out)

    say("5/7 the analyst ingests the packages")
    outcomes = ingest(store, packages, broker, now)
    rejected = [o for o in outcomes if not o.accepted]
    if rejected:
        raise UsageError(f"demo: package rejected: {rejected[0].reason}")

    say("6/7 the privacy officer signs the policy; the analyst merges and releases")
    policy = sign_policy(
        officer,
        policy_id="demo-2024",
        indicator_spec_id=SPEC_ID,
        indicator_spec_sha256=spec_sha256(),
        issued_at=now.isoformat(timespec="seconds"),
    )
    store.install_policy(broker, policy, now)
    _, pseudonym_key = store.unlock(DEMO_PASSPHRASE)
    published = publish(store, broker, pseudonym_key, now, lambda s: say(f"    {s}"))

    say("7/7 the privacy officer verifies the audit log against the checkpoint")
    verified = store.log.verify(store.signers(), load_checkpoint(published.checkpoint))
    problems = store.release_file_problems(verified.entries)
    if not verified.ok or problems:
        raise AuditMismatch(f"demo: audit failed: {verified.problem or problems[0]}")
    return DemoResult(published, sealed, len(verified.entries))


def summary(result: DemoResult) -> str:
    """The lines the demo ends with."""
    p = result.published
    q = p.merged.linked.quality
    lines = ["", "Koppeling per bron (records met een sleutel die aan de BRP-populatie koppelen):"]
    for r in q.itertuples():
        rate = 100 * r.gekoppeld / r.sleutels if r.sleutels else 0.0
        lines.append(
            f"  {r.bron:<14} {r.gekoppeld:>7,} van {r.sleutels:>7,}  ({rate:5.1f}%)"
            f"  dubbel: {r.dubbel:,}"
        )
    s = p.safe.stats
    lines.append(
        f"\nCellen: {s['published']:,} gepubliceerd, {s['primary']:,} primair en "
        f"{s['secondary']:,} secundair onderdrukt (k = {p.safe.k})."
    )
    comp = p.release.composite.dropna(subset=["kinderindex"]).sort_values("kinderindex")
    lines.append(
        f"Kinderindex gepubliceerd voor {len(comp)} van "
        f"{len(p.release.composite)} buurten. Minst gunstig:"
    )
    for r in comp.head(5).itertuples():
        lines.append(f"  {r.name:<28} {r.kinderindex:6.1f}  {r.band}")
    lines.append(
        f"\nAuditlog: {result.log_entries} regels, keten, handtekeningen en checkpoint in orde."
    )
    lines.append(f"Rapport: {p.folder / 'rapport.html'}")
    return "\n".join(lines)

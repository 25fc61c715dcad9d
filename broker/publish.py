"""The release run: policy check, merge, counts, suppression, the gate, files, log, checkpoint."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.gate import check_release
from broker.indicators import SPEC_ID, counts, load_spec, spec_sha256
from broker.merge import Merged, merge
from broker.policy import check_policy
from broker.release import Release, build_release, release_id, write_release
from broker.report import render_report
from broker.store import Store
from broker.suppress import SafeTable, suppress
from keys.identity import Identity
from schemas import geography
from schemas.errors import ReleaseBlocked
from schemas.files import write_atomic


@dataclass(frozen=True)
class Published:
    """A release that was written and logged."""

    release_id: str
    folder: Path
    release: Release
    safe: SafeTable
    merged: Merged
    checkpoint: Path


def publish(
    store: Store,
    broker: Identity,
    pseudonym_key: bytes,
    now: dt.datetime,
    step: Callable[[str], None] = lambda _: None,
) -> Published:
    """Run a release end to end; refusals are logged and raised as ReleaseBlocked (exit 12)."""
    spec = load_spec()
    policy = store.policy()
    try:
        if policy is None:
            raise ReleaseBlocked(
                "no policy installed: nothing is released without the "
                "privacy officer's signed policy",
                hint="`broker policy install --store S POLICY.json`",
            )
        check_policy(policy, store.keyring(), SPEC_ID, spec_sha256())
        geo = geography.buurten()
        merged = merge(store, broker, pseudonym_key, geo, step)
        step("counting")
        cells = counts(merged.linked.table, spec, geo)
        step("suppressing")
        safe = suppress(cells, spec, policy)
        step("checking the release independently")
        check_release(safe.cells, {i.id: i.population for i in spec.indicators}, policy.k)
    except ReleaseBlocked as e:
        store.log.append(broker, "release.refused", {"reason": str(e)}, now)
        raise
    release = build_release(safe, spec, geo)
    rid = release_id(now)
    meta: dict[str, Any] = {
        "release_id": rid,
        "created_at": now.isoformat(timespec="seconds"),
        "reference_date": merged.reference_date.isoformat(),
        "policy_id": policy.policy_id,
        "policy_sha256": policy.sha256(),
        "k": policy.k,
        "spec_id": SPEC_ID,
        "spec_sha256": spec_sha256(),
        "packages": [d["package_id"] for d in merged.packages],
        "package_sha256": {d["package_id"]: d["package_sha256"] for d in merged.packages},
        "suppression": {k: safe.stats[k] for k in ("published", "primary", "secondary")},
    }
    step("writing the release")
    boundaries = json.loads(geography.BOUNDARIES.read_text(encoding="utf-8"))
    html = render_report(release, meta, boundaries, spec)
    folder = store.releases_dir / rid
    hashes = write_release(release, folder, meta, boundaries, html)
    store.log.append(broker, "release", {**meta, "outputs": hashes}, now)
    cp = store.log.checkpoint(broker, now)
    cp_path = store.root / "checkpoints" / f"{rid}.json"
    write_atomic(cp_path, (json.dumps(cp.model_dump(), indent=2) + "\n").encode())
    return Published(rid, folder, release, safe, merged, cp_path)

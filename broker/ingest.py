"""Ingest: verify and open each package, refuse replays, accept it into the store still sealed.

One bad package does not stop the batch: it is quarantined with its reason. Every acceptance,
rejection and supersession is logged. The order on disk is: package file first (atomic rename),
then the log entry; a crash in between leaves a file the log does not know, which is ignored.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from broker.store import Store
from keys import crypto
from keys.identity import Identity
from keys.package import Manifest, open_package
from schemas import UnknownSchema, get_schema
from schemas.errors import SealError
from schemas.files import atomic_output


@dataclass(frozen=True)
class Outcome:
    """What happened to one package file."""

    path: Path
    accepted: bool
    reason: str = ""
    manifest: Manifest | None = None
    superseded: tuple[str, ...] = ()


class _Discard:
    """A sink for the plaintext while a package is only being verified."""

    def write(self, data: bytes) -> int:
        return len(data)


def _copy(src: Path, dest: Path) -> None:
    with src.open("rb") as f, atomic_output(dest, mode=0o600) as out:
        shutil.copyfileobj(f, out, 1 << 20)


def ingest(store: Store, paths: list[Path], broker: Identity, now: dt.datetime) -> list[Outcome]:
    """Ingest every package in `paths`; never raises for a bad package."""
    keyring, state, log = store.keyring(), store.state(), store.log
    outcomes = []
    for path in paths:
        digest = crypto.sha256_file(path).hex() if path.is_file() else ""
        try:
            if not path.is_file():
                raise SealError(f"{path}: no such file")
            with path.open("rb") as f:
                manifest = open_package(f, path.stat().st_size, keyring, broker, _Discard())
            get_schema(manifest.schema_id, manifest.schema_version)
            if manifest.package_id in state.accepted:
                raise SealError(f"replay: package {manifest.package_id} was accepted before")
            if (manifest.partner, manifest.sequence) in state.sequences:
                raise SealError(
                    f"replay: {manifest.partner} sequence {manifest.sequence} was accepted before"
                )
        except (SealError, UnknownSchema) as e:
            reason = str(e.args[0]) if isinstance(e, UnknownSchema) else str(e)
            if path.is_file():
                _copy(path, store.quarantine_dir / f"{now:%Y%m%dT%H%M%S}-{path.name}")
            log.append(
                broker,
                "package.rejected",
                {"file": path.name, "package_sha256": digest, "reason": reason},
                now,
            )
            outcomes.append(Outcome(path, False, reason))
            continue
        _copy(path, store.accepted_dir / f"{manifest.package_id}.kixpkg")
        data = {
            "package_id": manifest.package_id,
            "partner": manifest.partner,
            "schema": manifest.schema_id,
            "schema_version": manifest.schema_version,
            "sequence": manifest.sequence,
            "reference_date": manifest.reference_date,
            "rows": manifest.row_count,
            "package_sha256": digest,
            "signer_key_id": manifest.signer_key_id,
            "link_key_id": manifest.link_key_id,
            "rows_dropped_invalid_identifier": manifest.details.get(
                "rows_dropped_invalid_identifier", 0
            ),
        }
        log.append(broker, "package.accepted", data, now)
        state.accepted[manifest.package_id] = data
        state.sequences.add((manifest.partner, manifest.sequence))
        superseded = _supersede(store, broker, data, now)
        outcomes.append(Outcome(path, True, manifest=manifest, superseded=superseded))
    return outcomes


def _supersede(
    store: Store, broker: Identity, new: dict[str, object], now: dt.datetime
) -> tuple[str, ...]:
    """Within one partner, schema and reference date, the highest sequence wins."""
    state = store.state()
    same = [
        d
        for d in state.current()
        if (d["partner"], d["schema"], d["reference_date"])
        == (new["partner"], new["schema"], new["reference_date"])
    ]
    newest = max(same, key=lambda d: d["sequence"])
    gone = []
    for d in same:
        if d is not newest:
            store.log.append(
                broker,
                "package.superseded",
                {"package_id": d["package_id"], "by": newest["package_id"]},
                now,
            )
            gone.append(d["package_id"])
    return tuple(gone)

"""The audit log: append-only JSON lines, hash-chained, each entry signed; Merkle checkpoints.

Entry: {"seq", "time", "prev", "actor", "event", "data", "sig"}. `prev` is the leaf hash of the
previous entry; `sig` is Ed25519 over the canonical JSON of the other fields. Leaf hashes and the
tree follow RFC 6962 (leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right)), so a
checkpoint (size, root) signed after a release lets the officer detect truncation and rewriting
later — which a hash chain alone cannot, since whoever holds the broker key can rebuild a chain.

Only counts, ids, hashes and reasons go into `data`: never a BSN, pseudonym or record value.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from keys import crypto
from keys.encoding import b64d, b64e, canonical_json
from keys.identity import Identity, PublicIdentity
from schemas.errors import AuditMismatch
from schemas.files import write_atomic

GENESIS = "0" * 64


def leaf_hash(line: bytes) -> bytes:
    """RFC 6962 leaf hash of one entry (its canonical JSON)."""
    return crypto.sha256(b"\x00" + line)


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of the leaf hashes."""
    if not leaves:
        return crypto.sha256(b"")
    level = list(leaves)
    # Iterative form of MTH: pair left to right, an odd last node moves up unchanged. For
    # RFC 6962 this equals the recursive split at the largest power of two below n.
    while len(level) > 1:
        nxt = [
            crypto.sha256(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class Checkpoint(BaseModel):
    """The log's size and Merkle root at a moment, signed by the broker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = "kinderindex-checkpoint/v1"
    size: int
    root: str
    time: str
    key_id: str
    sig: str = ""

    def signed_bytes(self) -> bytes:
        """What the broker signs."""
        return b"kinderindex/checkpoint/v1\0" + canonical_json(self.model_dump(exclude={"sig"}))


@dataclass
class Verification:
    """The outcome of verifying a log."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None  # the first mismatch, naming the entry
    torn_tail: int = 0  # bytes after the last complete line

    @property
    def ok(self) -> bool:
        """True when the chain, the signatures and the checkpoint all hold."""
        return self.problem is None


def _entry_line(entry: dict[str, Any]) -> bytes:
    return canonical_json(entry)


class AuditLog:
    """The append-only log file of one store."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> tuple[list[bytes], int]:
        """Complete lines, and the number of bytes of a torn last line."""
        if not self.path.exists():
            return [], 0
        data = self.path.read_bytes()
        complete, _, tail = data.rpartition(b"\n")
        lines = complete.split(b"\n") if complete else []
        return lines, len(tail)

    def entries(self) -> list[dict[str, Any]]:
        """Every complete entry, unverified (use `verify` to check them)."""
        return [json.loads(line) for line in self._read()[0]]

    def append(
        self, identity: Identity, event: str, data: dict[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        """Sign and append one entry, durably (fsync). A torn tail is moved aside and logged."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            lines, torn = self._read()
            if torn:  # a crash cut the last write: keep the bytes aside and say so in the log
                aside = self._set_aside_torn_tail(f, torn, now)
                note = {"bytes": torn, "kept_in": aside.name}
                self._write(f, self._make(identity, lines, "log.torn_tail_set_aside", note, now))
                lines, _ = self._read()
            entry = self._make(identity, lines, event, data, now)
            self._write(f, entry)
            return entry

    def _set_aside_torn_tail(self, f: Any, torn: int, now: dt.datetime) -> Path:
        size = self.path.stat().st_size
        f.seek(size - torn)
        tail = f.read()
        aside = self.path.with_name(f"{self.path.name}.torn-{now.strftime('%Y%m%dT%H%M%S')}")
        write_atomic(aside, tail)
        f.truncate(size - torn)
        f.flush()
        os.fsync(f.fileno())
        return aside

    @staticmethod
    def _make(
        identity: Identity, lines: list[bytes], event: str, data: dict[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        prev = leaf_hash(lines[-1]).hex() if lines else GENESIS
        entry = {
            "seq": len(lines) + 1,
            "time": now.isoformat(timespec="seconds"),
            "prev": prev,
            "actor": identity.key_id,
            "event": event,
            "data": data,
        }
        entry["sig"] = b64e(identity.sign(b"kinderindex/log/v1\0" + _entry_line(entry)))
        return entry

    @staticmethod
    def _write(f: Any, entry: dict[str, Any]) -> None:
        f.seek(0, os.SEEK_END)
        f.write(_entry_line(entry) + b"\n")
        f.flush()
        os.fsync(f.fileno())

    def checkpoint(self, identity: Identity, now: dt.datetime) -> Checkpoint:
        """A signed checkpoint of the log as it is now."""
        lines, _ = self._read()
        cp = Checkpoint(
            size=len(lines),
            root=merkle_root([leaf_hash(x) for x in lines]).hex(),
            time=now.isoformat(timespec="seconds"),
            key_id=identity.key_id,
        )
        return cp.model_copy(update={"sig": b64e(identity.sign(cp.signed_bytes()))})

    def verify(
        self, signers: dict[str, PublicIdentity], checkpoint: Checkpoint | None = None
    ) -> Verification:
        """Check the chain, every signature and (if given) a checkpoint; stop at the first fault."""
        lines, torn = self._read()
        result = Verification(torn_tail=torn)
        prev = GENESIS
        for i, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
                sig = b64d(entry.pop("sig"))
            except (ValueError, KeyError):
                result.problem = f"entry {i}: not a log entry"
                return result
            signer = signers.get(entry.get("actor", ""))
            if entry.get("seq") != i:
                result.problem = f"entry {i}: sequence number {entry.get('seq')} (expected {i})"
            elif entry.get("prev") != prev:
                result.problem = f"entry {i}: does not chain to entry {i - 1}"
            elif canonical_json({**entry, "sig": b64e(sig)}) != line:
                result.problem = f"entry {i}: not in canonical form"
            elif signer is None:
                result.problem = f"entry {i}: signed by unknown key {entry.get('actor')}"
            elif not signer.verify(b"kinderindex/log/v1\0" + _entry_line(entry), sig):
                result.problem = f"entry {i}: signature does not verify"
            if result.problem:
                return result
            result.entries.append({**entry, "sig": b64e(sig)})
            prev = leaf_hash(line).hex()
        if checkpoint is not None:
            result.problem = self._check_checkpoint(lines, checkpoint, signers)
        return result

    @staticmethod
    def _check_checkpoint(
        lines: list[bytes], cp: Checkpoint, signers: dict[str, PublicIdentity]
    ) -> str | None:
        signer = signers.get(cp.key_id)
        if signer is None or not signer.verify(cp.signed_bytes(), b64d(cp.sig)):
            return "checkpoint: signature does not verify"
        if len(lines) < cp.size:
            return (
                f"checkpoint: the log has {len(lines)} entries, the checkpoint saw {cp.size}: "
                "entries were removed"
            )
        if merkle_root([leaf_hash(x) for x in lines[: cp.size]]).hex() != cp.root:
            # Name the first entry that differs, if the officer kept nothing else: the first
            # entry whose prefix root no longer matches cannot be known from the root alone.
            return f"checkpoint: the first {cp.size} entries are not the ones checkpointed"
        return None


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint file."""
    try:
        return Checkpoint(**json.loads(path.read_bytes()))
    except (OSError, ValueError, TypeError) as e:
        raise AuditMismatch(f"{path}: not a checkpoint file") from e


def events(entries: list[dict[str, Any]], *names: str) -> Iterator[dict[str, Any]]:
    """The entries whose event is one of `names`."""
    return (e for e in entries if e["event"] in names)

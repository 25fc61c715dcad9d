"""The broker's store: keys, keyring, accepted and quarantined packages, the log, releases.

The audit log is the store's single source of truth: which packages are accepted, superseded or
purged, which policy is installed, is read from the log, never from the folders. A file that
exists without its log entry (a crash between the two) is ignored.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.audit import AuditLog
from broker.policy import Policy, load_policy, policy_bytes
from keys import crypto
from keys.identity import (
    Identity,
    Keyring,
    PublicIdentity,
    load_identity,
    load_public,
    load_secret_key,
    save_identity,
    save_secret_key,
)
from schemas.errors import UsageError
from schemas.files import write_atomic

PSEUDONYM_KEY = "pseudonym"


@dataclass
class StoreState:
    """What the log says about the store."""

    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # package id → entry data
    superseded: set[str] = field(default_factory=set)
    purged: set[str] = field(default_factory=set)
    sequences: set[tuple[str, int]] = field(default_factory=set)  # (partner, sequence)
    policy_sha256: str | None = None

    def current(self) -> list[dict[str, Any]]:
        """Accepted packages that are neither superseded nor purged."""
        gone = self.superseded | self.purged
        return [d for pid, d in self.accepted.items() if pid not in gone]


@dataclass(frozen=True)
class Store:
    """A broker store on disk."""

    root: Path

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def keyring_dir(self) -> Path:
        return self.root / "keyring"

    @property
    def accepted_dir(self) -> Path:
        return self.root / "packages" / "accepted"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "packages" / "quarantine"

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    @property
    def policy_path(self) -> Path:
        return self.root / "policy.json"

    @property
    def log(self) -> AuditLog:
        return AuditLog(self.root / "log" / "audit.jsonl")

    @classmethod
    def create(
        cls, root: Path, name: str, passphrase: bytes, now: dt.datetime, kdf: Any = None
    ) -> tuple[Store, Identity]:
        """A new store with fresh broker keys; refuses to touch an existing store."""
        if (root / "store.json").exists() or (root.exists() and any(root.iterdir())):
            raise UsageError(f"{root}: exists and is not empty; refusing to overwrite a store")
        store = cls(root)
        identity = Identity.generate("broker", name, now)
        save_identity(identity, store.keys_dir / "broker.key", passphrase, kdf)
        kid = save_secret_key(
            PSEUDONYM_KEY,
            crypto.random_bytes(crypto.KEY_BYTES),
            store.keys_dir / "broker.pseudonym.key",
            passphrase,
            kdf,
        )
        for d in (store.keyring_dir, store.accepted_dir, store.quarantine_dir, store.releases_dir):
            d.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": "kinderindex-store/v1",
            "broker_key_id": identity.key_id,
            "pseudonym_key_id": kid,
            "created_at": now.isoformat(timespec="seconds"),
        }
        write_atomic(root / "store.json", (json.dumps(meta, indent=2) + "\n").encode())
        store.log.append(identity, "store.created", meta, now)
        return store, identity

    @classmethod
    def open(cls, root: Path) -> Store:
        """An existing store."""
        if not (root / "store.json").is_file():
            raise UsageError(f"{root}: not a broker store", hint="create one with `broker init`")
        return cls(root)

    def unlock(self, passphrase: bytes) -> tuple[Identity, bytes]:
        """The broker identity and the stage-2 pseudonym key."""
        identity = load_identity(self.keys_dir / "broker.key", passphrase)
        _, key = load_secret_key(PSEUDONYM_KEY, self.keys_dir / "broker.pseudonym.key", passphrase)
        return identity, key

    def keyring(self) -> Keyring:
        """Partners and officer this store trusts."""
        return Keyring(self.keyring_dir)

    def signers(self) -> dict[str, PublicIdentity]:
        """Keys that may sign log entries: the broker's (current and rotated)."""
        keys = [load_public(p) for p in sorted(self.keys_dir.glob("*.pub.json"))]
        return {k.key_id: k for k in keys if k.role == "broker"}

    def policy(self) -> Policy | None:
        """The installed policy, if any."""
        return load_policy(self.policy_path) if self.policy_path.exists() else None

    def trust(self, broker: Identity, public: PublicIdentity, now: dt.datetime) -> None:
        """Add a partner's or the officer's public key to the keyring, and log it."""
        if public.role == "broker":
            raise UsageError(f"{public.name}: a broker key does not belong in the keyring")
        self.keyring().add(public)
        self.log.append(
            broker,
            "keyring.changed",
            {"added": public.key_id, "role": public.role, "name": public.name},
            now,
        )

    def install_policy(self, broker: Identity, policy: Policy, now: dt.datetime) -> None:
        """Install a policy and log it (every release checks it again against the keyring)."""
        write_atomic(self.policy_path, policy_bytes(policy))
        self.log.append(
            broker,
            "policy.installed",
            {
                "policy_id": policy.policy_id,
                "policy_sha256": policy.sha256(),
                "k": policy.k,
                "retention_days": policy.retention_days,
            },
            now,
        )

    def release_file_problems(self, entries: list[dict[str, Any]]) -> list[str]:
        """Release files on disk that are missing or no longer have the hash the log recorded."""
        problems = []
        for e in entries:
            if e["event"] != "release":
                continue
            for name, digest in e["data"]["outputs"].items():
                path = self.releases_dir / e["data"]["release_id"] / name
                if not path.is_file():
                    problems.append(f"entry {e['seq']}: release file {path} is missing")
                elif crypto.sha256_file(path).hex() != digest:
                    problems.append(f"entry {e['seq']}: release file {path} was changed")
        return problems

    def state(self) -> StoreState:
        """Replay the log into the store's state."""
        state = StoreState()
        for e in self.log.entries():
            d = e["data"]
            if e["event"] == "package.accepted":
                state.accepted[d["package_id"]] = d
                state.sequences.add((d["partner"], d["sequence"]))
            elif e["event"] == "package.superseded":
                state.superseded.add(d["package_id"])
            elif e["event"] == "package.purged":
                state.purged.add(d["package_id"])
            elif e["event"] == "policy.installed":
                state.policy_sha256 = d["policy_sha256"]
        return state

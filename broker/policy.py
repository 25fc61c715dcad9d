"""The release policy the privacy officer signs: thresholds, retention, the approved indicator spec.

Safe defaults: k = 10 (a cell is unsafe when 1 ≤ count < k, or 1 ≤ denominator − count < k, or
1 ≤ denominator < k) and on unless a signed policy says otherwise. The broker refuses to release
under a policy that is unsigned, signed by a key that is not the officer's, or names another
indicator spec than the one in use.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keys.encoding import b64d, b64e, canonical_json
from keys.identity import Identity, Keyring
from schemas.errors import ReleaseBlocked, UsageError

DEFAULT_K = 10
DEFAULT_RETENTION_DAYS = 400  # one yearly cycle and a margin to redo it


class Policy(BaseModel):
    """A disclosure-control and retention policy, signed by the privacy officer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = "kinderindex-policy/v1"
    policy_id: str
    k: int = Field(DEFAULT_K, ge=3, description="minimum count, complement and denominator")
    min_rate_denominator: int = Field(
        DEFAULT_K, ge=1, description="no percentage on a smaller published denominator"
    )
    retention_days: int = Field(DEFAULT_RETENTION_DAYS, ge=1)
    indicator_spec_id: str
    indicator_spec_sha256: str
    issued_at: str
    officer_key_id: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """What the officer signs."""
        return b"kinderindex/policy/v1\0" + canonical_json(self.model_dump(exclude={"signature"}))

    def sha256(self) -> str:
        """Hash of the whole signed policy, for the log and the release manifest."""
        from keys import crypto

        return crypto.sha256(canonical_json(self.model_dump())).hex()


def sign_policy(officer: Identity, **fields: object) -> Policy:
    """A policy signed by the officer."""
    if officer.public.role != "officer":
        raise UsageError("only the privacy officer signs the policy")
    unsigned = Policy(officer_key_id=officer.key_id, **fields)
    return unsigned.model_copy(update={"signature": b64e(officer.sign(unsigned.signed_bytes()))})


def load_policy(path: Path) -> Policy:
    """Read a policy file (not yet checked: see `check_policy`)."""
    try:
        return Policy(**json.loads(path.read_bytes()))
    except (OSError, ValueError, TypeError, ValidationError):
        raise UsageError(f"{path}: not a kinderindex policy file") from None


def policy_bytes(policy: Policy) -> bytes:
    """A policy file's bytes."""
    return (json.dumps(policy.model_dump(), indent=2) + "\n").encode()


def check_policy(policy: Policy, keyring: Keyring, spec_id: str, spec_sha256: str) -> None:
    """Refuse (exit 12) a policy that is unsigned, not the officer's, or for another spec."""
    officer = keyring.get(policy.officer_key_id)
    if not policy.signature:
        raise ReleaseBlocked("the policy is not signed", hint="the privacy officer signs it")
    if officer is None or officer.role != "officer":
        raise ReleaseBlocked(
            f"the policy is signed by {policy.officer_key_id}, which is not "
            "the privacy officer's key in this store's keyring"
        )
    if not officer.verify(policy.signed_bytes(), b64d(policy.signature)):
        raise ReleaseBlocked("the policy's signature does not verify: it was altered")
    if (policy.indicator_spec_id, policy.indicator_spec_sha256) != (spec_id, spec_sha256):
        raise ReleaseBlocked(
            f"the policy approves indicator spec {policy.indicator_spec_id} "
            f"({policy.indicator_spec_sha256[:12]}…), but {spec_id} "
            f"({spec_sha256[:12]}…) is in use",
            hint="ask the privacy officer to approve the spec in use",
        )

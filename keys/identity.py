"""Identities, passphrase-protected key files, the public keyring and link-key issuing.

Every role holds one identity: an Ed25519 signing key and an X25519 key to receive wrapped keys.
Its key id is a fingerprint of both public keys and appears wherever the key is used, so keys can
be rotated. Private material at rest is encrypted with a key from Argon2id over the passphrase
(AES-256-GCM, the file's metadata as associated data), written with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keys import crypto
from keys.encoding import b64d, b64e, canonical_json
from schemas.errors import SealError, UsageError
from schemas.files import write_atomic

Role = Literal["partner", "broker", "officer"]
PRIVATE_MODE = 0o600


class KdfParams(BaseModel):
    """Argon2id cost; the defaults are RFC 9106's second recommendation (64 MiB, t=3, p=4)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Literal["argon2id"] = "argon2id"
    iterations: int = Field(3, ge=1)
    lanes: int = Field(4, ge=1)
    memory_kib: int = Field(65536, ge=8)


class PublicIdentity(BaseModel):
    """The public half of an identity: what goes into keyrings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["kinderindex-public-identity/v1"] = "kinderindex-public-identity/v1"
    key_id: str
    role: Role
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    signing_public: str
    kem_public: str
    created_at: str

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when this identity signed `message`."""
        return crypto.verify(b64d(self.signing_public), message, signature)


def key_id(signing_public: bytes, kem_public: bytes) -> str:
    """A short fingerprint of both public keys."""
    digest = crypto.sha256(b"kinderindex/key-id/v1\0" + signing_public + kem_public)
    return "kid-" + digest[:10].hex()


def secret_key_id(kind: str, key: bytes) -> str:
    """A fingerprint of a symmetric key (one-way: it reveals nothing of a 256-bit key)."""
    return f"{kind}-" + crypto.sha256(f"kinderindex/{kind}-id/v1\0".encode() + key)[:10].hex()


@dataclass(frozen=True)
class Identity:
    """A role's private keys with their public identity."""

    public: PublicIdentity
    signing_private: bytes
    kem_private: bytes

    @classmethod
    def generate(cls, role: Role, name: str, now: dt.datetime) -> Identity:
        """New random keys for `role`/`name`."""
        return cls.from_seeds(role, name, now, crypto.random_bytes(32), crypto.random_bytes(32))

    @classmethod
    def from_seeds(
        cls, role: Role, name: str, now: dt.datetime, signing_seed: bytes, kem_seed: bytes
    ) -> Identity:
        """Keys from fixed 32-byte seeds (test vectors; `generate` for real keys)."""
        sign_priv, sign_pub = crypto.signing_keypair(signing_seed)
        kem_priv, kem_pub = crypto.kem_keypair(kem_seed)
        public = PublicIdentity(
            key_id=key_id(sign_pub, kem_pub),
            role=role,
            name=name,
            signing_public=b64e(sign_pub),
            kem_public=b64e(kem_pub),
            created_at=now.isoformat(timespec="seconds"),
        )
        return cls(public, sign_priv, kem_priv)

    @property
    def key_id(self) -> str:
        """The identity's key id."""
        return self.public.key_id

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature."""
        return crypto.sign(self.signing_private, message)

    def unwrap(self, wrapped: bytes, info: bytes) -> bytes:
        """Open an HPKE-wrapped secret addressed to this identity."""
        return crypto.hpke_unwrap(self.kem_private, wrapped, info)


# --- passphrase-protected files ---------------------------------------------------------------


def protect(
    kind: str, meta: dict[str, Any], secret: bytes, passphrase: bytes, kdf: KdfParams | None = None
) -> bytes:
    """A JSON key file holding `secret` encrypted under the passphrase; `meta` stays readable."""
    if not passphrase:
        raise UsageError("an empty passphrase protects nothing", hint="choose a passphrase")
    kdf = kdf or KdfParams()
    salt, nonce = crypto.random_bytes(16), crypto.random_bytes(crypto.NONCE_BYTES)
    header = {
        "format": "kinderindex-protected/v1",
        "kind": kind,
        "meta": meta,
        "kdf": {**kdf.model_dump(), "salt": b64e(salt)},
        "aead": crypto.AEAD_NAME,
        "nonce": b64e(nonce),
    }
    key = crypto.argon2id(
        passphrase, salt, iterations=kdf.iterations, lanes=kdf.lanes, memory_kib=kdf.memory_kib
    )
    ciphertext = crypto.Aead(key).encrypt(nonce, secret, canonical_json(header))
    return (json.dumps({**header, "ciphertext": b64e(ciphertext)}, indent=2) + "\n").encode()


def unprotect(data: bytes, passphrase: bytes, path: Path) -> tuple[str, dict[str, Any], bytes]:
    """(kind, meta, secret) from a key file; one error for a wrong passphrase or a changed file."""
    try:
        doc = json.loads(data)
        ciphertext = b64d(doc.pop("ciphertext"))
        kdf = KdfParams(**{k: v for k, v in doc["kdf"].items() if k != "salt"})
        salt, nonce = b64d(doc["kdf"]["salt"]), b64d(doc["nonce"])
        if doc.get("format") != "kinderindex-protected/v1":
            raise ValueError("format")
    except (ValueError, KeyError, TypeError, ValidationError):
        raise UsageError(f"{path}: not a kinderindex key file") from None
    key = crypto.argon2id(
        passphrase, salt, iterations=kdf.iterations, lanes=kdf.lanes, memory_kib=kdf.memory_kib
    )
    try:
        secret = crypto.Aead(key).decrypt(nonce, ciphertext, canonical_json(doc))
    except crypto.CryptoFailure:
        raise SealError(f"{path}: wrong passphrase, or the key file was changed") from None
    return doc["kind"], doc["meta"], secret


def refuse_existing(path: Path) -> None:
    """A key file is never overwritten: rotating a key is a deliberate move."""
    if path.exists():
        raise UsageError(
            f"{path}: exists; refusing to overwrite a key",
            hint="move it away first if you mean to rotate keys",
        )


def save_identity(
    identity: Identity, path: Path, passphrase: bytes, kdf: KdfParams | None = None
) -> Path:
    """Write the private identity (0600) to `path` and its public half next to it."""
    refuse_existing(path)
    secret = identity.signing_private + identity.kem_private
    data = protect("identity", identity.public.model_dump(), secret, passphrase, kdf)
    write_atomic(path, data, mode=PRIVATE_MODE)
    public_path = public_path_for(path)
    write_atomic(public_path, public_bytes(identity.public))
    return public_path


def public_path_for(identity_path: Path) -> Path:
    """`name.key` → `name.pub.json`."""
    return identity_path.with_name(identity_path.name.removesuffix(".key") + ".pub.json")


def public_bytes(public: PublicIdentity) -> bytes:
    """A public identity file's bytes."""
    return (json.dumps(public.model_dump(), indent=2) + "\n").encode()


def load_identity(path: Path, passphrase: bytes) -> Identity:
    """Decrypt an identity file."""
    if not path.is_file():
        raise UsageError(f"{path}: no such key file")
    kind, meta, secret = unprotect(path.read_bytes(), passphrase, path)
    if kind != "identity" or len(secret) != 64:
        raise UsageError(f"{path}: holds a {kind}, not an identity")
    return Identity(PublicIdentity(**meta), secret[:32], secret[32:])


def load_public(path: Path) -> PublicIdentity:
    """Read a public identity file."""
    try:
        public = PublicIdentity(**json.loads(path.read_bytes()))
    except (OSError, ValueError, TypeError, ValidationError):
        raise UsageError(f"{path}: not a kinderindex public key file") from None
    if key_id(b64d(public.signing_public), b64d(public.kem_public)) != public.key_id:
        raise SealError(f"{path}: key id does not match the keys in the file")
    return public


def save_secret_key(
    kind: str, key: bytes, path: Path, passphrase: bytes, kdf: KdfParams | None = None
) -> str:
    """Write a symmetric key (e.g. the broker's pseudonym key) protected by a passphrase."""
    kid = secret_key_id(kind, key)
    write_atomic(path, protect(kind, {"key_id": kid}, key, passphrase, kdf), mode=PRIVATE_MODE)
    return kid


def load_secret_key(kind: str, path: Path, passphrase: bytes) -> tuple[str, bytes]:
    """(key id, key) from a file written by `save_secret_key`."""
    if not path.is_file():
        raise UsageError(f"{path}: no such key file")
    found, meta, key = unprotect(path.read_bytes(), passphrase, path)
    if found != kind:
        raise UsageError(f"{path}: holds a {found}, not a {kind}")
    return meta["key_id"], key


# --- keyring ----------------------------------------------------------------------------------


class Keyring:
    """A folder of public identities (`<key id>.pub.json`), looked up by key id."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keys = {p.key_id: p for p in map(load_public, sorted(folder.glob("*.pub.json")))}

    def add(self, public: PublicIdentity) -> Path:
        """Add (or re-add) a public identity."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{public.key_id}.pub.json"
        write_atomic(path, public_bytes(public))
        self._keys[public.key_id] = public
        return path

    def get(self, kid: str) -> PublicIdentity | None:
        """The identity with key id `kid`, if known."""
        return self._keys.get(kid)

    def __iter__(self) -> Iterator[PublicIdentity]:
        return iter(sorted(self._keys.values(), key=lambda p: (p.role, p.name, p.created_at)))

    def __len__(self) -> int:
        return len(self._keys)


# --- the link key -----------------------------------------------------------------------------


class WrappedLinkKey(BaseModel):
    """The link key, wrapped for one recipient (a partner, or the officer's own copy)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["kinderindex-link-key/v1"] = "kinderindex-link-key/v1"
    link_key_id: str
    recipient_key_id: str
    recipient_name: str
    issued_by: str
    issued_at: str
    suite: str = crypto.HPKE_SUITE_NAME
    wrapped: str
    signature: str = ""

    def _meta(self) -> bytes:
        return canonical_json(self.model_dump(exclude={"wrapped", "signature"}))

    def info(self) -> bytes:
        """HPKE info: binds the wrapped key to its id, recipient and issuer."""
        return b"kinderindex/link-key/v1\0" + self._meta()

    def signed_bytes(self) -> bytes:
        """What the officer signs."""
        return b"kinderindex/link-key-file/v1\0" + canonical_json(
            self.model_dump(exclude={"signature"})
        )


def _wrap_for(
    link_key: bytes, kid: str, recipient: PublicIdentity, officer: Identity, now: dt.datetime
) -> WrappedLinkKey:
    draft = WrappedLinkKey(
        link_key_id=kid,
        recipient_key_id=recipient.key_id,
        recipient_name=recipient.name,
        issued_by=officer.key_id,
        issued_at=now.isoformat(timespec="seconds"),
        wrapped="",
    )
    wrapped = crypto.hpke_wrap(b64d(recipient.kem_public), link_key, draft.info())
    unsigned = draft.model_copy(update={"wrapped": b64e(wrapped)})
    return unsigned.model_copy(update={"signature": b64e(officer.sign(unsigned.signed_bytes()))})


def issue_link_key(
    officer: Identity, partners: list[PublicIdentity], now: dt.datetime
) -> tuple[str, list[WrappedLinkKey]]:
    """A new link key, wrapped for each partner and for the officer; never for the broker."""
    if officer.public.role != "officer":
        raise UsageError("only the privacy officer issues the link key")
    for p in partners:
        if p.role != "partner":
            raise UsageError(
                f"{p.name} ({p.key_id}) is a {p.role}: the link key goes to partners only",
                hint="the broker must never hold the link key",
            )
    link_key = crypto.random_bytes(crypto.KEY_BYTES)
    kid = secret_key_id("link", link_key)
    wrapped = [_wrap_for(link_key, kid, r, officer, now) for r in [officer.public, *partners]]
    return kid, wrapped


def rewrap_link_key(
    officer: Identity, own_copy: WrappedLinkKey, partner: PublicIdentity, now: dt.datetime
) -> WrappedLinkKey:
    """Wrap the existing link key for a partner that joins later, from the officer's copy."""
    if partner.role != "partner":
        raise UsageError(f"{partner.name} is a {partner.role}: the link key goes to partners only")
    link_key = unwrap_link_key(officer, own_copy, officer.public)
    return _wrap_for(link_key, own_copy.link_key_id, partner, officer, now)


def unwrap_link_key(
    identity: Identity, wrapped: WrappedLinkKey, officer: PublicIdentity | None
) -> bytes:
    """The link key, after checking (when given) that the officer signed the file."""
    fail = SealError(
        "the link key file does not open with this key",
        hint="was it issued for this partner's key id?",
    )
    if wrapped.recipient_key_id != identity.key_id:
        raise fail
    if officer is not None and (
        officer.key_id != wrapped.issued_by
        or not officer.verify(wrapped.signed_bytes(), b64d(wrapped.signature))
    ):
        raise SealError("the link key file is not signed by the privacy officer")
    try:
        key = identity.unwrap(b64d(wrapped.wrapped), wrapped.info())
    except crypto.CryptoFailure:
        raise fail from None
    if secret_key_id("link", key) != wrapped.link_key_id:
        raise fail
    return key


def load_wrapped_link_key(path: Path) -> WrappedLinkKey:
    """Read a wrapped link-key file."""
    try:
        return WrappedLinkKey(**json.loads(path.read_bytes()))
    except (OSError, ValueError, TypeError, ValidationError):
        raise UsageError(f"{path}: not a kinderindex link-key file") from None


def wrapped_link_key_bytes(w: WrappedLinkKey) -> bytes:
    """A wrapped link-key file's bytes."""
    return (json.dumps(w.model_dump(), indent=2) + "\n").encode()

"""The one door to cryptography: every primitive the project uses, from `cryptography` only.

Nothing else in the project imports `cryptography`, `hashlib`, `hmac` or `secrets` (a ruff
banned-api rule enforces it). The constructions are standard: Ed25519 signatures, HPKE (RFC 9180,
DHKEM-X25519, HKDF-SHA256, AES-256-GCM), AES-256-GCM for payload chunks, HKDF-SHA256, HMAC-SHA256,
SHA-256 and Argon2id (RFC 9106). Randomness comes from the OS (`os.urandom`), or from the caller
where a test vector must be reproducible.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
SIGNATURE_BYTES = 64
HPKE_SUITE_NAME = "HPKE(DHKEM-X25519-HKDF-SHA256, HKDF-SHA256, AES-256-GCM)"
AEAD_NAME = "AES-256-GCM"
SIGNATURE_NAME = "Ed25519"
_HPKE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
_RAW = serialization.Encoding.Raw


class CryptoFailure(Exception):
    """A decryption, unwrap or verification failed. Deliberately without detail."""


def random_bytes(n: int) -> bytes:
    """`n` bytes from the operating system's CSPRNG."""
    return os.urandom(n)


# --- signatures -------------------------------------------------------------------------------


def signing_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """The Ed25519 key pair of a 32-byte seed, as raw (private, public) bytes."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    private = key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return private, key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


def sign(private: bytes, message: bytes) -> bytes:
    """Ed25519 signature of `message`."""
    return Ed25519PrivateKey.from_private_bytes(private).sign(message)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` under `public`."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- public-key encryption (HPKE) -------------------------------------------------------------


def kem_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """The X25519 key pair of a 32-byte seed, as raw (private, public) bytes."""
    key = X25519PrivateKey.from_private_bytes(seed)
    private = key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return private, key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


def hpke_wrap(public: bytes, secret: bytes, info: bytes) -> bytes:
    """Encrypt `secret` to an X25519 public key with single-shot HPKE, bound to `info`."""
    return _HPKE.encrypt(secret, X25519PublicKey.from_public_bytes(public), info=info)


def hpke_unwrap(private: bytes, wrapped: bytes, info: bytes) -> bytes:
    """Decrypt what `hpke_wrap` made; CryptoFailure on any mismatch."""
    try:
        return _HPKE.decrypt(wrapped, X25519PrivateKey.from_private_bytes(private), info=info)
    except (InvalidTag, ValueError) as e:
        raise CryptoFailure() from e


# --- symmetric --------------------------------------------------------------------------------


class Aead:
    """AES-256-GCM with a fixed key (one object per key, reused for every chunk)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, nonce: bytes, data: bytes | memoryview, ad: bytes) -> bytes:
        """Ciphertext with the 16-byte tag appended."""
        return self._aead.encrypt(nonce, data, ad)

    def decrypt(self, nonce: bytes, data: bytes | memoryview, ad: bytes) -> bytes:
        """Plaintext, or CryptoFailure when the tag does not verify."""
        try:
            return self._aead.decrypt(nonce, data, ad)
        except InvalidTag as e:
            raise CryptoFailure() from e


def hkdf(key: bytes, salt: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def argon2id(
    passphrase: bytes, salt: bytes, *, iterations: int, lanes: int, memory_kib: int
) -> bytes:
    """A 32-byte key from a passphrase (Argon2id, RFC 9106)."""
    kdf = Argon2id(
        salt=salt, length=KEY_BYTES, iterations=iterations, lanes=lanes, memory_cost=memory_kib
    )
    return kdf.derive(passphrase)


# --- hashing and pseudonyms -------------------------------------------------------------------


class Hasher:
    """Incremental SHA-256."""

    def __init__(self) -> None:
        self._h = hashes.Hash(hashes.SHA256())

    def update(self, data: bytes | memoryview) -> None:
        """Feed more bytes."""
        self._h.update(data)

    def digest(self) -> bytes:
        """The 32-byte digest (the hasher cannot be used after)."""
        return self._h.finalize()


def sha256(data: bytes) -> bytes:
    """SHA-256 of `data`."""
    h = Hasher()
    h.update(data)
    return h.digest()


def sha256_file(path: Path) -> bytes:
    """SHA-256 of a file, streamed in 1 MiB blocks."""
    h = Hasher()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.digest()


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of one message."""
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(message)
    return h.finalize()


def hmac_sha256_many(key: bytes, messages: Iterable[bytes]) -> list[bytes]:
    """HMAC-SHA256 of many messages under one key.

    The keyed state is built once and copied per message, which halves the cost of a fresh
    HMAC per value.
    """
    base = hmac.HMAC(key, hashes.SHA256())
    out = []
    for m in messages:
        h = base.copy()
        h.update(m)
        out.append(h.finalize())
    return out


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare secrets without leaking where they differ."""
    from cryptography.hazmat.primitives import constant_time

    return constant_time.bytes_eq(a, b)

"""The sealed package format, v1 (specified in docs/package-format.md).

    header    = MAGIC | version (u8) | len (u32) | manifest (canonical JSON)
                | len (u16) | data key wrapped with HPKE for the broker
    payload   = chunks of 64 KiB plaintext, each AES-256-GCM under a key derived from the data key
                and the header hash; nonce = 11-byte counter | last-chunk flag; AD = header hash
    trailer   = SHA-256 of the plaintext
    signature = Ed25519 over SHA-256(header | payload | trailer), with a context prefix

Opening verifies the signature first (against the keyring, and that the signer is the partner the
manifest names), then decrypts, then checks the plaintext hash. Every failure is the same opaque
`PackageRefused`, and no plaintext is handed out before all checks pass.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keys import crypto
from keys.encoding import b64d, canonical_json
from keys.identity import Identity, Keyring, PublicIdentity
from schemas.errors import SealError, UsageError
from schemas.files import atomic_output

MAGIC = b"KIXPKG\r\n"
VERSION = 1
CHUNK = 64 * 1024
ENC_CHUNK = CHUNK + crypto.TAG_BYTES
TRAILER = 32
MAX_MANIFEST = 1 << 20
READ_BLOCK = 1 << 20
ALGORITHMS = {
    "data_key": crypto.HPKE_SUITE_NAME,
    "payload": "AES-256-GCM STREAM, 64 KiB chunks, HKDF-SHA256 payload key",
    "signature": "Ed25519 over SHA-256",
    "hash": "SHA-256",
}
_KEY_INFO = b"kinderindex/package/v1/data-key\0"
_PAYLOAD_INFO = b"kinderindex/package/v1/payload"
_SIG_CONTEXT = b"kinderindex/package/v1/signature\0"


class Sink(Protocol):
    """Where opened plaintext goes: a file, a buffer, or nowhere (only verifying)."""

    def write(self, data: bytes, /) -> int: ...


class PackageRefused(SealError):
    """The package did not verify or decrypt. Deliberately says nothing more."""

    def __init__(self) -> None:
        super().__init__(
            "package refused: its signature, keys or content do not verify",
            hint="ask the partner to seal it again for this broker's key",
        )


class Column(BaseModel):
    """A column of the payload, as listed in the manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: str


class Manifest(BaseModel):
    """What a package says about itself (readable without a key, covered by the signature)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["kinderindex-package/v1"] = "kinderindex-package/v1"
    schema_id: str
    schema_version: int
    partner: str
    package_id: str
    sequence: int = Field(ge=1)
    reference_date: str
    created_at: str
    row_count: int = Field(ge=0)
    columns: tuple[Column, ...]
    payload_format: str = "parquet"
    payload_bytes: int = Field(ge=0)
    signer_key_id: str
    recipient_key_id: str
    link_key_id: str | None = None
    algorithms: dict[str, str] = Field(default_factory=lambda: dict(ALGORITHMS))
    details: dict[str, Any] = Field(default_factory=dict)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _chunks(src: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """64 KiB chunks with a flag on the last; an empty input is one empty last chunk."""
    current = src.read(CHUNK)
    while True:
        following = src.read(CHUNK) if len(current) == CHUNK else b""
        yield current, not following
        if not following:
            return
        current = following


def header_bytes(manifest: Manifest, wrapped_key: bytes) -> bytes:
    """The header: magic, version, manifest, wrapped data key."""
    m = canonical_json(manifest.model_dump())
    return (
        MAGIC
        + struct.pack(">BI", VERSION, len(m))
        + m
        + struct.pack(">H", len(wrapped_key))
        + wrapped_key
    )


def data_key_info(manifest_bytes: bytes) -> bytes:
    """HPKE info for the data key: binds it to the magic, version and manifest."""
    return _KEY_INFO + crypto.sha256(MAGIC + bytes([VERSION]) + manifest_bytes)


def seal(
    src: BinaryIO,
    manifest: Manifest,
    signer: Identity,
    recipient: PublicIdentity,
    out: BinaryIO,
    *,
    data_key: bytes | None = None,
    wrapped_key: bytes | None = None,
) -> None:
    """Seal the payload read from `src` into `out`.

    `data_key` and `wrapped_key` are for test vectors only: HPKE draws fresh randomness, so a
    reproducible package needs both fixed. In normal use leave them out.
    """
    if manifest.signer_key_id != signer.key_id or manifest.recipient_key_id != recipient.key_id:
        raise UsageError("the manifest names other keys than the ones sealing the package")
    m = canonical_json(manifest.model_dump())
    if data_key is None:
        data_key = crypto.random_bytes(crypto.KEY_BYTES)
    if wrapped_key is None:
        wrapped_key = crypto.hpke_wrap(b64d(recipient.kem_public), data_key, data_key_info(m))
    header = header_bytes(manifest, wrapped_key)
    header_hash = crypto.sha256(header)
    aead = crypto.Aead(crypto.hkdf(data_key, header_hash, _PAYLOAD_INFO))
    signed, plain = crypto.Hasher(), crypto.Hasher()
    total = 0
    out.write(header)
    signed.update(header)
    for i, (chunk, last) in enumerate(_chunks(src)):
        plain.update(chunk)
        enc = aead.encrypt(_nonce(i, last), chunk, header_hash)
        signed.update(enc)
        out.write(enc)
        total += len(chunk)
    if total != manifest.payload_bytes:
        raise UsageError(f"payload has {total} bytes, the manifest says {manifest.payload_bytes}")
    trailer = plain.digest()
    signed.update(trailer)
    out.write(trailer)
    out.write(signer.sign(_SIG_CONTEXT + signed.digest()))


def seal_bytes(
    payload: bytes, manifest: Manifest, signer: Identity, recipient: PublicIdentity
) -> bytes:
    """`seal` for a payload in memory."""
    out = io.BytesIO()
    seal(io.BytesIO(payload), manifest, signer, recipient, out)
    return out.getvalue()


def _read_exact(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise PackageRefused()
    return data


def read_header(f: BinaryIO) -> tuple[Manifest, bytes, bytes]:
    """(manifest, wrapped data key, header bytes) from the start of a package. Not verified."""
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        raise PackageRefused()
    version, m_len = struct.unpack(">BI", _read_exact(f, 5))
    if version != VERSION or m_len > MAX_MANIFEST:
        raise PackageRefused()
    m = _read_exact(f, m_len)
    (w_len,) = struct.unpack(">H", _read_exact(f, 2))
    wrapped = _read_exact(f, w_len)
    try:
        manifest = Manifest.model_validate_json(m)
    except ValidationError:
        raise PackageRefused() from None
    if canonical_json(manifest.model_dump()) != m:  # one encoding only: no malleable manifests
        raise PackageRefused()
    header = MAGIC + struct.pack(">BI", version, m_len) + m + struct.pack(">H", w_len) + wrapped
    return manifest, wrapped, header


def read_manifest(path: Path) -> Manifest:
    """The manifest of a package file, without any key and without verifying it."""
    with path.open("rb") as f:
        return read_header(f)[0]


def _signer(manifest: Manifest, keyring: Keyring) -> PublicIdentity:
    signer = keyring.get(manifest.signer_key_id)
    if signer is None or signer.role != "partner" or signer.name != manifest.partner:
        raise PackageRefused()
    return signer


def verify_signature(
    f: BinaryIO, size: int, signer: PublicIdentity
) -> tuple[Manifest, bytes, bytes]:
    """Check the signature over the whole file; returns what `read_header` returns."""
    f.seek(0)
    manifest, wrapped, header = read_header(f)
    body = size - len(header) - crypto.SIGNATURE_BYTES
    if body < crypto.TAG_BYTES + TRAILER:
        raise PackageRefused()
    h = crypto.Hasher()
    h.update(header)
    remaining = body
    while remaining:
        block = f.read(min(READ_BLOCK, remaining))
        if not block:
            raise PackageRefused()
        h.update(block)
        remaining -= len(block)
    signature = _read_exact(f, crypto.SIGNATURE_BYTES)
    if not signer.verify(_SIG_CONTEXT + h.digest(), signature):
        raise PackageRefused()
    return manifest, wrapped, header


def open_package(
    f: BinaryIO, size: int, keyring: Keyring, recipient: Identity, out: Sink
) -> Manifest:
    """Verify, then decrypt into `out`, then check the plaintext hash.

    On failure `out` may hold a partial plaintext: the caller writes to a temporary file (or
    buffer) and discards it unless this returns. `open_file` and `open_bytes` do that.
    """
    f.seek(0)
    manifest = read_header(f)[0]
    signer = _signer(manifest, keyring)
    manifest, wrapped, header = verify_signature(f, size, signer)
    if manifest.recipient_key_id != recipient.key_id:
        raise PackageRefused()
    try:
        m = canonical_json(manifest.model_dump())
        data_key = recipient.unwrap(wrapped, data_key_info(m))
    except crypto.CryptoFailure:
        raise PackageRefused() from None
    header_hash = crypto.sha256(header)
    aead = crypto.Aead(crypto.hkdf(data_key, header_hash, _PAYLOAD_INFO))
    ciphertext = size - len(header) - TRAILER - crypto.SIGNATURE_BYTES
    n_chunks = max(1, -(-ciphertext // ENC_CHUNK))
    last_len = ciphertext - (n_chunks - 1) * ENC_CHUNK
    if last_len < crypto.TAG_BYTES or (n_chunks > 1 and last_len == crypto.TAG_BYTES):
        raise PackageRefused()
    f.seek(len(header))
    plain = crypto.Hasher()
    written = 0
    try:
        for i in range(n_chunks):
            last = i == n_chunks - 1
            chunk = aead.decrypt(
                _nonce(i, last), _read_exact(f, last_len if last else ENC_CHUNK), header_hash
            )
            plain.update(chunk)
            out.write(chunk)
            written += len(chunk)
    except crypto.CryptoFailure:
        raise PackageRefused() from None
    trailer = _read_exact(f, TRAILER)
    if not crypto.constant_time_equal(plain.digest(), trailer) or written != manifest.payload_bytes:
        raise PackageRefused()
    return manifest


def open_bytes(package: bytes, keyring: Keyring, recipient: Identity) -> tuple[Manifest, bytes]:
    """Open a package held in memory; the plaintext only when every check passed."""
    out = io.BytesIO()
    manifest = open_package(io.BytesIO(package), len(package), keyring, recipient, out)
    return manifest, out.getvalue()


def open_file(path: Path, keyring: Keyring, recipient: Identity, dest: Path) -> Manifest:
    """Open a package file into `dest`, which appears only when every check passed."""
    with path.open("rb") as f, atomic_output(dest, mode=0o600) as out:
        return open_package(f, path.stat().st_size, keyring, recipient, out)

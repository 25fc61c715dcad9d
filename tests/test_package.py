"""The sealed package: round trips, every tamper refused, fixed test vectors."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys import crypto
from keys.identity import Identity, Keyring
from keys.package import (
    CHUNK,
    ENC_CHUNK,
    Column,
    Manifest,
    PackageRefused,
    open_bytes,
    open_file,
    read_header,
    read_manifest,
    seal,
    seal_bytes,
)

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(scope="module")
def ids():
    return {
        "duo": Identity.generate("partner", "duo", NOW),
        "ggd": Identity.generate("partner", "ggd", NOW),
        "stranger": Identity.generate("partner", "duo", NOW),  # claims to be duo, not in keyring
        "broker": Identity.generate("broker", "zwolle", NOW),
        "other_broker": Identity.generate("broker", "elders", NOW),
    }


@pytest.fixture(scope="module")
def keyring(ids, tmp_path_factory):
    ring = Keyring(tmp_path_factory.mktemp("ring"))
    for name in ("duo", "ggd", "broker"):
        ring.add(ids[name].public)
    return ring


def manifest_for(signer, recipient, size, **kw):
    fields = dict(
        schema_id="duo",
        schema_version=1,
        partner=signer.public.name,
        package_id="p-1",
        sequence=1,
        reference_date="2024-01-01",
        created_at=NOW.isoformat(),
        row_count=3,
        columns=(Column(name="leerling_id", type="binary"),),
        payload_bytes=size,
        signer_key_id=signer.key_id,
        recipient_key_id=recipient.key_id,
    )
    return Manifest(**{**fields, **kw})


def sealed(ids, payload, signer="duo", recipient="broker", **kw):
    s, r = ids[signer], ids[recipient]
    return seal_bytes(payload, manifest_for(s, r, len(payload), **kw), s, r.public)


def refused(package, keyring, recipient):
    with pytest.raises(PackageRefused) as e:
        open_bytes(package, keyring, recipient)
    assert str(e.value) == str(PackageRefused())  # one opaque message, whatever went wrong


SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_at_chunk_boundaries(ids, keyring, size):
    payload = crypto.random_bytes(size)
    manifest, out = open_bytes(sealed(ids, payload), keyring, ids["broker"])
    assert out == payload
    assert manifest.payload_bytes == size and manifest.partner == "duo"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.binary(max_size=3 * CHUNK))
def test_open_seal_is_identity(ids, keyring, payload):
    assert open_bytes(sealed(ids, payload), keyring, ids["broker"])[1] == payload


def test_every_single_byte_flip_is_refused(ids, keyring):
    package = sealed(ids, b"leerling;advies\n" * 8)
    for i in range(len(package)):
        bad = bytearray(package)
        bad[i] ^= 0x01
        refused(bytes(bad), keyring, ids["broker"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_byte_change_in_a_multichunk_package_is_refused(ids, keyring, data):
    package = _multichunk(ids)
    i = data.draw(st.integers(0, len(package) - 1))
    x = data.draw(st.integers(1, 255))
    bad = bytearray(package)
    bad[i] ^= x
    refused(bytes(bad), keyring, ids["broker"])


_cache: dict[str, bytes] = {}


def _multichunk(ids):
    if "m" not in _cache:
        _cache["m"] = sealed(ids, bytes(range(256)) * 1100)  # 281,600 bytes: 5 chunks
    return _cache["m"]


def _split(package):
    """(header, [encrypted chunks], trailer+signature)."""
    header = read_header(io.BytesIO(package))[2]
    body, tail = package[len(header) : -96], package[-96:]
    chunks = [body[i : i + ENC_CHUNK] for i in range(0, len(body), ENC_CHUNK)]
    return header, chunks, tail


def test_wrong_recipient_key(ids, keyring):
    refused(_multichunk(ids), keyring, ids["other_broker"])


def test_truncation_anywhere(ids, keyring):
    package = _multichunk(ids)
    header, chunks, tail = _split(package)
    cuts = [len(package) - 1, len(package) - 64, len(package) - 96, len(header) + 1, 10]
    cuts += [len(header) + k * ENC_CHUNK for k in range(1, len(chunks))]
    for cut in cuts:
        refused(package[:cut], keyring, ids["broker"])
    # Dropping whole chunks at the end, even with the trailer and signature kept.
    refused(header + b"".join(chunks[:-1]) + tail, keyring, ids["broker"])


def test_reordered_and_duplicated_chunks(ids, keyring):
    header, chunks, tail = _split(_multichunk(ids))
    swapped = [chunks[1], chunks[0], *chunks[2:]]
    duplicated = [chunks[0], *chunks]
    for body in (swapped, duplicated):
        refused(header + b"".join(body) + tail, keyring, ids["broker"])


def test_manifest_from_another_package(ids, keyring):
    a = sealed(ids, b"a" * 1000, package_id="p-a")
    b = sealed(ids, b"b" * 1000, package_id="p-b")
    ha, _, _ = _split(a)
    _, chunks_b, tail_b = _split(b)
    refused(ha + b"".join(chunks_b) + tail_b, keyring, ids["broker"])


def test_signature_by_unknown_partner(ids, keyring):
    refused(sealed(ids, b"x" * 100, signer="stranger"), keyring, ids["broker"])


def test_signature_by_another_partner_than_the_manifest_names(ids, keyring):
    ggd, duo, broker = ids["ggd"], ids["duo"], ids["broker"]
    # ggd (in the keyring) signs with its own key id a manifest that says it comes from duo.
    m = manifest_for(ggd, broker, 100, partner="duo")
    refused(seal_bytes(b"x" * 100, m, ggd, broker.public), keyring, broker)
    # ggd's private key signs a package whose manifest names duo and duo's key id.
    posing = Identity(duo.public, ggd.signing_private, ggd.kem_private)
    m = manifest_for(duo, broker, 100)
    refused(seal_bytes(b"x" * 100, m, posing, broker.public), keyring, broker)


def test_signer_must_be_a_partner(ids, keyring, tmp_path):
    ring = Keyring(tmp_path)
    impostor = Identity.generate("officer", "duo", NOW)
    ring.add(impostor.public)
    refused(sealed({**ids, "imp": impostor}, b"x", signer="imp"), ring, ids["broker"])


def test_open_file_leaves_no_plaintext_on_failure(ids, keyring, tmp_path):
    package = bytearray(_multichunk(ids))
    package[-200] ^= 1  # in the last chunk: everything before it decrypts fine
    src = tmp_path / "p.kixpkg"
    src.write_bytes(bytes(package))
    dest = tmp_path / "plain.parquet"
    with pytest.raises(PackageRefused):
        open_file(src, keyring, ids["broker"], dest)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_manifest_is_readable_without_a_key(ids, tmp_path):
    src = tmp_path / "p.kixpkg"
    src.write_bytes(_multichunk(ids))
    m = read_manifest(src)
    assert m.partner == "duo" and m.row_count == 3 and m.columns[0].name == "leerling_id"


def test_seal_refuses_a_wrong_payload_size(ids):
    m = manifest_for(ids["duo"], ids["broker"], 5)
    with pytest.raises(Exception, match="manifest says 5"):
        seal_bytes(b"123456", m, ids["duo"], ids["broker"].public)


# --- fixed test vectors -----------------------------------------------------------------------


def _vector_ids(v):
    partner = Identity.from_seeds(
        "partner",
        "duo",
        NOW,
        bytes.fromhex(v["partner_signing_seed"]),
        bytes.fromhex(v["partner_kem_seed"]),
    )
    broker = Identity.from_seeds(
        "broker",
        "zwolle",
        NOW,
        bytes.fromhex(v["broker_signing_seed"]),
        bytes.fromhex(v["broker_kem_seed"]),
    )
    return partner, broker


def test_vector_opens_to_its_payload(tmp_path):
    v = json.loads((VECTORS / "package-v1.json").read_text())
    package = (VECTORS / "package-v1.bin").read_bytes()
    assert crypto.sha256(package).hex() == v["package_sha256"]
    partner, broker = _vector_ids(v)
    ring = Keyring(tmp_path)
    ring.add(partner.public)
    manifest, payload = open_bytes(package, ring, broker)
    assert crypto.sha256(payload).hex() == v["payload_sha256"]
    assert payload == bytes((i * 7 + 3) % 251 for i in range(2 * 65536 + 1000))
    assert manifest.package_id == "00000000-vector-1"


def test_vector_seals_byte_for_byte():
    v = json.loads((VECTORS / "package-v1.json").read_text())
    package = (VECTORS / "package-v1.bin").read_bytes()
    partner, broker = _vector_ids(v)
    manifest = read_manifest(VECTORS / "package-v1.bin")
    payload = bytes((i * 7 + 3) % 251 for i in range(2 * 65536 + 1000))
    out = io.BytesIO()
    seal(
        io.BytesIO(payload),
        manifest,
        partner,
        broker.public,
        out,
        data_key=bytes.fromhex(v["data_key"]),
        wrapped_key=bytes.fromhex(v["wrapped_key"]),
    )
    assert out.getvalue() == package

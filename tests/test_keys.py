"""Key files, identities, the keyring, link-key issuing, and the one crypto door."""

from __future__ import annotations

import ast
import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from keys.encoding import b64e
from keys.identity import (
    Identity,
    KdfParams,
    Keyring,
    PublicIdentity,
    issue_link_key,
    load_identity,
    load_public,
    load_secret_key,
    rewrap_link_key,
    save_identity,
    save_secret_key,
    unwrap_link_key,
)
from schemas.errors import SealError, UsageError

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FAST = KdfParams(iterations=1, lanes=1, memory_kib=64)  # tests only: real files use the default
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def people():
    return {
        "fg": Identity.generate("officer", "fg", NOW),
        "duo": Identity.generate("partner", "duo", NOW),
        "ggd": Identity.generate("partner", "ggd", NOW),
        "broker": Identity.generate("broker", "zwolle", NOW),
    }


def test_identity_file_round_trip_and_mode(people, tmp_path):
    path = tmp_path / "duo.key"
    public_path = save_identity(people["duo"], path, b"correct horse", FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_identity(path, b"correct horse")
    assert loaded == people["duo"]
    assert load_public(public_path) == people["duo"].public


def test_key_file_is_useless_without_its_passphrase(people, tmp_path):
    path = tmp_path / "duo.key"
    save_identity(people["duo"], path, b"correct horse", FAST)
    text = path.read_text()
    for secret in (people["duo"].signing_private, people["duo"].kem_private):
        assert b64e(secret) not in text and secret.hex() not in text
    with pytest.raises(SealError, match="wrong passphrase"):
        load_identity(path, b"correct horse!")


def test_key_file_metadata_cannot_be_swapped(people, tmp_path):
    path = tmp_path / "duo.key"
    save_identity(people["duo"], path, b"pw", FAST)
    doc = json.loads(path.read_text())
    doc["meta"]["name"] = "ggd"  # try to relabel the key
    path.write_text(json.dumps(doc))
    with pytest.raises(SealError):
        load_identity(path, b"pw")
    doc = json.loads(path.read_text())
    doc["meta"]["name"] = "duo"
    doc["kdf"]["iterations"] = 2  # or weaken its KDF record
    path.write_text(json.dumps(doc))
    with pytest.raises(SealError):
        load_identity(path, b"pw")


def test_default_kdf_is_argon2id_rfc9106():
    assert KdfParams() == KdfParams(name="argon2id", iterations=3, lanes=4, memory_kib=65536)


def test_empty_passphrase_refused(people, tmp_path):
    with pytest.raises(UsageError):
        save_identity(people["duo"], tmp_path / "x.key", b"", FAST)


def test_secret_key_file(tmp_path):
    kid = save_secret_key("pseudonym", b"k" * 32, tmp_path / "p.key", b"pw", FAST)
    assert load_secret_key("pseudonym", tmp_path / "p.key", b"pw") == (kid, b"k" * 32)
    with pytest.raises(UsageError, match="not a link"):
        load_secret_key("link", tmp_path / "p.key", b"pw")


def test_key_ids_differ_and_are_checked(people, tmp_path):
    ids = {p.key_id for p in people.values()}
    assert len(ids) == 4
    path = tmp_path / "x.pub.json"
    fake = people["duo"].public.model_copy(update={"key_id": people["ggd"].key_id})
    path.write_text(json.dumps(fake.model_dump()))
    with pytest.raises(SealError, match="key id does not match"):
        load_public(path)


def test_keyring_add_get_and_reload(people, tmp_path):
    ring = Keyring(tmp_path)
    ring.add(people["duo"].public)
    ring.add(people["fg"].public)
    again = Keyring(tmp_path)
    assert again.get(people["duo"].key_id) == people["duo"].public
    assert again.get(people["ggd"].key_id) is None
    assert len(again) == 2


def test_link_key_reaches_partners_and_not_the_broker(people):
    kid, files = issue_link_key(people["fg"], [people["duo"].public, people["ggd"].public], NOW)
    by_name = {f.recipient_name: f for f in files}
    assert set(by_name) == {"fg", "duo", "ggd"}
    officer = people["fg"].public
    k_duo = unwrap_link_key(people["duo"], by_name["duo"], officer)
    k_ggd = unwrap_link_key(people["ggd"], by_name["ggd"], officer)
    assert k_duo == k_ggd and len(k_duo) == 32
    assert all(f.link_key_id == kid for f in files)
    with pytest.raises(SealError):  # duo's file does not open with ggd's key
        unwrap_link_key(people["ggd"], by_name["duo"], officer)
    with pytest.raises(UsageError, match="partners only"):
        issue_link_key(people["fg"], [people["broker"].public], NOW)
    with pytest.raises(UsageError, match="only the privacy officer"):
        issue_link_key(people["duo"], [people["ggd"].public], NOW)


def test_link_key_file_must_be_signed_by_the_officer(people):
    _, files = issue_link_key(people["fg"], [people["duo"].public], NOW)
    duo_file = next(f for f in files if f.recipient_name == "duo")
    with pytest.raises(SealError, match="not signed by the privacy officer"):
        unwrap_link_key(people["duo"], duo_file, people["ggd"].public)
    tampered = duo_file.model_copy(update={"issued_at": "2030-01-01T00:00:00+00:00"})
    with pytest.raises(SealError):
        unwrap_link_key(people["duo"], tampered, people["fg"].public)


def test_rewrap_for_a_late_partner(people):
    _, files = issue_link_key(people["fg"], [people["duo"].public], NOW)
    own = next(f for f in files if f.recipient_name == "fg")
    late = rewrap_link_key(people["fg"], own, people["ggd"].public, NOW)
    officer = people["fg"].public
    duo_file = next(f for f in files if f.recipient_name == "duo")
    assert unwrap_link_key(people["ggd"], late, officer) == unwrap_link_key(
        people["duo"], duo_file, officer
    )


def test_public_identity_is_strict():
    with pytest.raises(ValueError):
        PublicIdentity(
            key_id="x", role="admin", name="duo", signing_public="", kem_public="", created_at=""
        )


def test_only_keys_crypto_imports_cryptography():
    """The one crypto door, checked on the source (ruff's banned-api rule checks it too)."""
    banned = {"cryptography", "hashlib", "hmac", "secrets"}
    offenders, scanned = [], 0
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "tests", "bench"} or rel == Path("keys/crypto.py"):
            continue
        scanned += 1
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{rel}: {n}" for n in names if n.split(".")[0] in banned]
    assert offenders == []
    assert scanned >= 10


def test_a_key_file_is_never_overwritten(people, tmp_path):
    path = tmp_path / "duo.key"
    save_identity(people["duo"], path, b"pw", FAST)
    before = path.read_bytes()
    with pytest.raises(UsageError, match="refusing to overwrite"):
        save_identity(people["ggd"], path, b"pw", FAST)
    assert path.read_bytes() == before

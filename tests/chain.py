"""A whole chain for the broker and report tests: store, six packages ingested, policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from broker.policy import Policy, sign_policy
from broker.store import Store
from keys.identity import Identity, KdfParams, load_wrapped_link_key, unwrap_link_key
from partner_agent.extract import read_extract
from partner_agent.package import seal_extract
from schemas import get_schema

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FAST = KdfParams(iterations=1, lanes=1, memory_kib=64)
PW = b"broker test passphrase"
PARTNER = {
    "brp": "gemeente",
    "duo": "duo",
    "ggd_jgz": "gemeente",
    "ggd_prenataal": "gemeente",
    "jeugdhulp": "gemeente",
    "inkomen": "gemeente",
}


def make_store(root: Path, keyset) -> tuple[Store, Identity, bytes]:
    store, broker = Store.create(root, "zwolle", PW, NOW, kdf=FAST)
    for name in ("fg", "gemeente", "duo"):
        store.keyring().add(keyset["ids"][name].public)
    _, key = store.unlock(PW)
    return store, broker, key


def seal(
    keyset,
    extract_files,
    broker,
    out_dir: Path,
    schema: str,
    sequence: int = 1,
    signer: Identity | None = None,
) -> Path:
    partner = PARTNER[schema]
    d = keyset["dir"]
    me = keyset["ids"][partner]
    link = unwrap_link_key(
        me, load_wrapped_link_key(d / f"linkkey.{partner}.json"), keyset["ids"]["fg"].public
    )
    out = out_dir / f"{schema}-{sequence}.kixpkg"
    result = seal_extract(
        read_extract(extract_files[schema]),
        get_schema(schema),
        reference_date=dt.date(2024, 1, 1),
        link_key=link,
        link_key_id="l",
        signer=signer or me,
        broker=broker.public,
        sequence=sequence + 10 * list(PARTNER).index(schema),
        now=NOW,
        out_path=out,
        drop_invalid=True,
    )
    assert result.manifest is not None
    return out


def install_policy(store: Store, broker: Identity, officer: Identity, **fields) -> Policy:
    from broker.indicators import SPEC_ID, spec_sha256

    args = {
        "policy_id": "t-1",
        "indicator_spec_id": SPEC_ID,
        "indicator_spec_sha256": spec_sha256(),
        "issued_at": NOW.isoformat(),
        **fields,
    }
    policy = sign_policy(officer, **args)
    store.install_policy(broker, policy, NOW)
    return policy

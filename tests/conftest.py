"""Shared fixtures: a small synthetic population, generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.synthetic import extracts, generate_population, write_extracts


@pytest.fixture(scope="session")
def population():
    return generate_population(seed=7)


@pytest.fixture(scope="session")
def tables(population):
    return extracts(population, seed=7)


@pytest.fixture(scope="session")
def extract_files(tables, tmp_path_factory) -> dict[str, Path]:
    return write_extracts(tables, tmp_path_factory.mktemp("extracts"))


PASSPHRASE = "test passphrase"


@pytest.fixture(scope="session")
def keyset(tmp_path_factory):
    """Key files of every role (fast KDF), the link key issued to two partners, and a keyring."""
    import datetime as dt

    from keys.identity import (
        Identity,
        KdfParams,
        Keyring,
        issue_link_key,
        save_identity,
        wrapped_link_key_bytes,
    )

    d = tmp_path_factory.mktemp("keys")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    fast = KdfParams(iterations=1, lanes=1, memory_kib=64)
    ids = {
        "fg": Identity.generate("officer", "fg", now),
        "broker": Identity.generate("broker", "zwolle", now),
        "gemeente": Identity.generate("partner", "gemeente", now),
        "duo": Identity.generate("partner", "duo", now),
    }
    for name, identity in ids.items():
        save_identity(identity, d / f"{name}.key", PASSPHRASE.encode(), fast)
    _, wrapped = issue_link_key(ids["fg"], [ids["gemeente"].public, ids["duo"].public], now)
    for w in wrapped:
        (d / f"linkkey.{w.recipient_name}.json").write_bytes(wrapped_link_key_bytes(w))
    ring = Keyring(d / "ring")
    for name in ("gemeente", "duo"):
        ring.add(ids[name].public)
    return {"dir": d, "ids": ids, "ring": ring, "passphrase": PASSPHRASE}


@pytest.fixture(scope="session")
def chain(keyset, extract_files, tmp_path_factory):
    """A store with all six packages ingested and a policy installed."""
    from broker.ingest import ingest
    from tests.chain import NOW, PARTNER, install_policy, make_store, seal

    root = tmp_path_factory.mktemp("chain")
    store, broker, key = make_store(root / "store", keyset)
    pkgs = [seal(keyset, extract_files, broker, root, s) for s in PARTNER]
    outcomes = ingest(store, pkgs, broker, NOW)
    install_policy(store, broker, keyset["ids"]["fg"])
    return {
        "root": root,
        "store": store,
        "broker": broker,
        "key": key,
        "pkgs": pkgs,
        "outcomes": outcomes,
    }

"""SIGKILL at any moment of ingest or merge leaves the store and its log consistent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.store import Store
from tests.chain import PARTNER, PW, make_store, seal

ROOT = Path(__file__).parent.parent


def broker_cli(store: Store, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KI_PW": PW.decode(), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "broker.cli",
            *args,
            "--store",
            str(store.root),
            "--passphrase-env",
            "KI_PW",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def consistent(store: Store) -> set[str]:
    """The log verifies (a torn tail allowed) and every accepted package has its file."""
    result = store.log.verify(store.signers())
    assert result.ok, result.problem
    accepted = {e["data"]["package_id"] for e in result.entries if e["event"] == "package.accepted"}
    for pid in accepted:
        assert (store.accepted_dir / f"{pid}.kixpkg").is_file()
    return accepted


def kill_when(proc: subprocess.Popen[bytes], log: Path, accepted: int) -> None:
    """SIGKILL the process as soon as the log holds `accepted` acceptances (0: at once)."""
    deadline = time.time() + 60
    while accepted and time.time() < deadline and proc.poll() is None:
        if log.exists() and log.read_bytes().count(b'"package.accepted"') >= accepted:
            break
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("accepted", [0, 1, 2, 3, 5])
def test_kill_during_ingest_then_resume(keyset, extract_files, tmp_path, accepted):
    store, broker, _ = make_store(tmp_path / "store", keyset)
    pkgs = [str(seal(keyset, extract_files, broker, tmp_path, s)) for s in PARTNER]
    kill_when(broker_cli(store, "ingest", *pkgs), store.log.path, accepted)
    before = consistent(store)
    assert accepted <= len(before) < len(PARTNER)  # killed part-way
    resumed = broker_cli(store, "ingest", *pkgs).wait()
    assert resumed == (11 if before else 0)  # 11: the replays of the accepted are refused
    after = consistent(store)
    assert before <= after and len(after) == len(PARTNER)
    replays = [e for e in store.log.entries() if e["event"] == "package.rejected"]
    assert len(replays) == len(before)  # exactly the ones accepted before the kill


def test_kill_during_merge(chain, tmp_path):
    store = chain["store"]
    files_before = {p for p in store.root.rglob("*") if p.is_file()}
    for delay in (0.5, 1.5, 2.5):
        proc = broker_cli(store, "merge")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        consistent(store)
    new = {p for p in store.root.rglob("*") if p.is_file()} - files_before
    assert {p.name for p in new} <= {"audit.jsonl"}  # merge writes nothing but its log line

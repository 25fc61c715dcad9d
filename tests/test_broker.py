"""broker: store, ingest, merge, release, audit log and policy — end to end in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from broker.audit import AuditLog, load_checkpoint
from broker.ingest import ingest
from broker.merge import merge
from broker.publish import publish
from keys import crypto
from keys.encoding import b64e
from keys.identity import Identity, load_wrapped_link_key, unwrap_link_key
from schemas.errors import ReleaseBlocked
from schemas.geography import buurten
from tests.chain import NOW, install_policy, seal


def test_all_packages_accepted_and_logged(chain):
    assert all(o.accepted for o in chain["outcomes"])
    events = [e["event"] for e in chain["store"].log.entries()]
    assert events.count("package.accepted") == 6
    assert len(list(chain["store"].accepted_dir.iterdir())) == 6


def test_replay_tamper_and_unknown_signer_are_quarantined(chain, keyset, extract_files, tmp_path):
    store, broker = chain["store"], chain["broker"]
    flipped = tmp_path / "flipped.kixpkg"
    data = bytearray(chain["pkgs"][1].read_bytes())
    data[len(data) // 2] ^= 1
    flipped.write_bytes(bytes(data))
    stranger = Identity.generate("partner", "gemeente", NOW)  # not in the keyring
    unknown = seal(keyset, extract_files, broker, tmp_path, "inkomen", 5, signer=stranger)
    good = seal(keyset, extract_files, broker, tmp_path, "jeugdhulp", 7)
    outcomes = ingest(store, [chain["pkgs"][0], flipped, unknown, good], broker, NOW)
    assert [o.accepted for o in outcomes] == [False, False, False, True]
    assert "replay" in outcomes[0].reason
    assert "package refused" in outcomes[1].reason and "package refused" in outcomes[2].reason
    assert len(list(store.quarantine_dir.iterdir())) >= 3
    rejected = [e for e in store.log.entries() if e["event"] == "package.rejected"]
    assert len(rejected) >= 3
    # The newer jeugdhulp package supersedes the older one of the same partner and period.
    assert outcomes[3].superseded
    current = {d["package_id"] for d in store.state().current()}
    assert outcomes[3].manifest.package_id in current
    assert not set(outcomes[3].superseded) & current


def test_merge_links_and_reports_quality(chain):
    merged = merge(chain["store"], chain["broker"], chain["key"], buurten())
    t = merged.linked.table
    assert t.num_rows > 17_219  # the children and the unborn
    assert not any(
        t.schema.field(i).type == __import__("pyarrow").binary(32) for i in range(len(t.schema))
    )  # no pseudonym in the linked table
    q = merged.linked.quality.set_index("bron")
    assert q.loc["brp", "gekoppeld"] == 17_219
    assert q.loc["duo", "dubbel"] > 0 and q.loc["duo", "niet_gekoppeld"] > 0
    assert 0.9 < q.loc["ggd_jgz", "gekoppeld"] / q.loc["ggd_jgz", "sleutels"] <= 1


def test_release_and_audit(chain, tables):
    done = publish(chain["store"], chain["broker"], chain["key"], NOW)
    table = done.release.table
    assert set(table["status"]) == {"published", "suppressed-primary", "suppressed-secondary"}
    hidden = table[table["status"] != "published"]
    assert hidden["numerator"].isna().all() and hidden["value"].isna().all()
    files = sorted(p.name for p in done.folder.iterdir())
    assert files == [
        "kinderindex.csv",
        "kinderindex.geojson",
        "kinderindex.parquet",
        "kinderindex_samengesteld.csv",
        "manifest.json",
        "rapport.html",
    ]
    store = chain["store"]
    result = store.log.verify(store.signers(), load_checkpoint(done.checkpoint))
    assert result.ok and store.release_file_problems(result.entries) == []
    # A changed release file is found.
    csv = done.folder / "kinderindex.csv"
    original = csv.read_bytes()
    csv.write_bytes(original.replace(b"published", b"publishet", 1))
    assert "was changed" in store.release_file_problems(result.entries)[0]
    csv.write_bytes(original)


def test_no_plaintext_pseudonym_bsn_or_record_on_disk(chain, tables, keyset):
    """Nothing the broker wrote holds a BSN, a P1 or P2 pseudonym, or row-level data."""
    publish(chain["store"], chain["broker"], chain["key"], NOW)
    link = unwrap_link_key(
        keyset["ids"]["gemeente"],
        load_wrapped_link_key(keyset["dir"] / "linkkey.gemeente.json"),
        keyset["ids"]["fg"].public,
    )
    bsns = list(tables["brp"]["bsn_kind"][:300])
    p1 = [crypto.hmac_sha256(link, b"bsn:v1:" + b.encode()) for b in bsns]
    p2 = [crypto.hmac_sha256(chain["key"], p) for p in p1]
    needles = [b.encode() for b in bsns] + p1 + p2
    needles += [p.hex().encode() for p in p1 + p2] + [b64e(p).encode() for p in p1 + p2]
    for path in chain["store"].root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in needles), path
    # No file holds one row per child: the largest release table is per buurt × indicator.
    rows = sum(1 for _ in (next(chain["store"].releases_dir.iterdir()) / "kinderindex.csv").open())
    assert rows < 3_000


def test_log_holds_no_identifiers(chain, tables):
    text = chain["store"].log.path.read_text()
    windows = set(re.findall(r"(?=([0-9]{9}))", text))
    assert not windows & set(tables["brp"]["bsn_kind"])


# --- the audit log on its own ------------------------------------------------------------------


@pytest.fixture()
def log(tmp_path):
    broker = Identity.generate("broker", "zwolle", NOW)
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(6):
        log.append(broker, "package.accepted", {"package_id": f"p{i}"}, NOW)
    return log, broker, {broker.key_id: broker.public}


def _lines(log):
    return log.path.read_bytes().splitlines(keepends=True)


def _problem(log, signers, cp=None):
    result = log.verify(signers, cp)
    assert not result.ok
    return result.problem


def test_log_verifies(log):
    log_, _, signers = log
    assert log_.verify(signers).ok


def test_edited_field_is_detected(log):
    log_, _, signers = log
    lines = _lines(log_)
    lines[2] = lines[2].replace(b'"p2"', b'"pX"')
    log_.path.write_bytes(b"".join(lines))
    assert _problem(log_, signers).startswith("entry 3")


@pytest.mark.parametrize("how", ["delete", "reorder", "duplicate"])
def test_deleted_reordered_duplicated_entries_are_detected(log, how):
    log_, _, signers = log
    lines = _lines(log_)
    if how == "delete":
        del lines[3]
    elif how == "reorder":
        lines[2], lines[3] = lines[3], lines[2]
    else:
        lines.insert(3, lines[2])
    log_.path.write_bytes(b"".join(lines))
    assert _problem(log_, signers).startswith(("entry 3", "entry 4"))


def test_truncation_needs_and_gets_a_checkpoint(log):
    log_, broker, signers = log
    cp = log_.checkpoint(broker, NOW)
    log_.path.write_bytes(b"".join(_lines(log_)[:4]))
    assert log_.verify(signers).ok  # a chain alone cannot see it
    assert "entries were removed" in _problem(log_, signers, cp)


def test_rewritten_and_resigned_log_is_caught_by_the_checkpoint(log, tmp_path):
    log_, broker, signers = log
    cp = log_.checkpoint(broker, NOW)
    forged = AuditLog(tmp_path / "forged.jsonl")  # the broker key holder rebuilds the chain
    for i in range(6):
        forged.append(broker, "package.accepted", {"package_id": "px" if i == 2 else f"p{i}"}, NOW)
    log_.path.write_bytes(forged.path.read_bytes())
    assert log_.verify(signers).ok
    assert "not the ones checkpointed" in _problem(log_, signers, cp)


def test_forged_checkpoint_is_refused(log):
    log_, broker, signers = log
    cp = log_.checkpoint(broker, NOW).model_copy(update={"size": 3})
    assert "signature" in _problem(log_, signers, cp)


def test_torn_tail_is_reported_then_set_aside_and_logged(log):
    log_, broker, signers = log
    with log_.path.open("ab") as f:
        f.write(b'{"seq":7,"time":"2026-01-0')  # a crash mid-write
    result = log_.verify(signers)
    assert result.ok and result.torn_tail == 26 and len(result.entries) == 6
    log_.append(broker, "merge", {}, NOW)
    entries = log_.entries()
    assert [e["event"] for e in entries[-2:]] == ["log.torn_tail_set_aside", "merge"]
    assert log_.verify(signers).ok
    assert list(log_.path.parent.glob("audit.jsonl.torn-*"))


# --- policy ------------------------------------------------------------------------------------


def _refused(chain) -> str:
    with pytest.raises(ReleaseBlocked) as e:
        publish(chain["store"], chain["broker"], chain["key"], NOW)
    last = chain["store"].log.entries()[-1]
    assert last["event"] == "release.refused"
    return str(e.value)


def test_release_policy_rules(chain, keyset, tmp_path):
    store, broker, officer = chain["store"], chain["broker"], keyset["ids"]["fg"]
    good = store.policy_path.read_bytes()
    try:
        store.policy_path.unlink()
        assert "no policy installed" in _refused(chain)
        doc = json.loads(good)
        store.policy_path.write_text(json.dumps({**doc, "signature": ""}))
        assert "not signed" in _refused(chain)
        store.policy_path.write_text(json.dumps({**doc, "k": 3}))
        assert "altered" in _refused(chain)
        install_policy(store, broker, officer, indicator_spec_sha256="0" * 64)
        assert "approves indicator spec" in _refused(chain)
        with pytest.raises(Exception, match="only the privacy officer"):
            install_policy(store, broker, keyset["ids"]["gemeente"])
        posing = Identity(
            keyset["ids"]["fg"].public,
            keyset["ids"]["gemeente"].signing_private,
            keyset["ids"]["gemeente"].kem_private,
        )
        install_policy(store, broker, posing)  # claims the officer's key id, signed by another
        assert "altered" in _refused(chain)
    finally:
        store.policy_path.write_bytes(good)


def test_purge_deletes_packages_past_retention_and_logs_it(
    keyset, extract_files, tmp_path, monkeypatch, capsys
):
    import broker.store_cli as store_cli
    from broker.cli import main as broker_main
    from tests.chain import make_store

    store, broker, _ = make_store(tmp_path / "store", keyset)
    pkg = seal(keyset, extract_files, broker, tmp_path, "inkomen")
    ingest(store, [pkg], broker, NOW)
    install_policy(store, broker, keyset["ids"]["fg"], retention_days=30)
    monkeypatch.setenv("KI_PW", "broker test passphrase")
    args = ["purge", "--store", str(store.root), "--passphrase-env", "KI_PW"]
    monkeypatch.setattr(store_cli, "now", lambda: NOW + dt.timedelta(days=29))
    assert broker_main(args) == 0 and "purged 0" in capsys.readouterr().out
    monkeypatch.setattr(store_cli, "now", lambda: NOW + dt.timedelta(days=31))
    assert broker_main(args) == 0 and "purged 1" in capsys.readouterr().out
    assert list(store.accepted_dir.iterdir()) == []
    assert store.state().current() == []
    assert [e["event"] for e in store.log.entries()][-1] == "package.purged"
    assert store.log.verify(store.signers()).ok


def test_linkage_does_not_depend_on_row_order(chain):
    """Duplicates are resolved the same way whatever order the rows come in."""
    import numpy as np

    from broker.link import Linker
    from broker.merge import _open, rekey

    store = chain["store"]
    tables = {
        d["schema"]: rekey(_open(store, d["package_id"], chain["broker"]), chain["key"])
        for d in store.state().current()
    }
    duo = tables["duo"]
    # Rows of one pupil that tie on the resolution rule (groep, schoolsoort) but differ in
    # what the linked table uses (the school advice).
    import pyarrow as pa

    first = duo.slice(0, 1)
    col = duo.column_names.index("schooladvies")
    twins = [first.set_column(col, "schooladvies", pa.array([a])) for a in ("VWO", "PRO", "HAVO")]
    tables["duo"] = pa.concat_tables([duo, *twins])
    a = Linker().link(tables, buurten(), dt.date(2024, 1, 1)).table.to_pandas()
    rng = np.random.default_rng(1)
    shuffled = {s: t.take(rng.permutation(t.num_rows)) for s, t in tables.items()}
    b = Linker().link(shuffled, buurten(), dt.date(2024, 1, 1)).table.to_pandas()
    key = list(a.columns)
    a = a.sort_values(key, na_position="last").reset_index(drop=True)
    b = b.sort_values(key, na_position="last").reset_index(drop=True)
    assert a.equals(b)


def test_policy_commands(keyset, tmp_path, monkeypatch, capsys):
    from broker.cli import main as broker_main
    from tests.chain import make_store

    store, _, _ = make_store(tmp_path / "store", keyset)
    monkeypatch.setenv("OFFICER_PW", keyset["passphrase"])
    monkeypatch.setenv("BROKER_PW", "broker test passphrase")
    policy = tmp_path / "policy.json"
    assert (
        broker_main(
            [
                "officer",
                "sign-policy",
                "--officer-key",
                str(keyset["dir"] / "fg.key"),
                "--policy-id",
                "2024-1",
                "--k",
                "11",
                "--out",
                str(policy),
                "--passphrase-env",
                "OFFICER_PW",
            ]
        )
        == 0
    )
    install = ["policy", "install", "--store", str(store.root), "--passphrase-env", "BROKER_PW"]
    altered = tmp_path / "altered.json"
    altered.write_text(policy.read_text().replace('"k": 11', '"k": 5'))
    assert broker_main([*install, str(altered)]) == 12
    assert "altered" in capsys.readouterr().err
    assert store.log.entries()[-1]["event"] == "policy.refused"
    assert not store.policy_path.exists()
    assert broker_main([*install, str(policy)]) == 0
    assert store.policy().k == 11 and store.state().policy_sha256

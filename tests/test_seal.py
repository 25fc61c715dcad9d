"""partner-agent seal / inspect: what leaves the building, and that nothing identifying does."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from keys import crypto
from keys.identity import load_wrapped_link_key, unwrap_link_key
from keys.package import open_bytes, read_manifest
from partner_agent.cli import main as agent_main
from partner_agent.minimise import months_between, pseudonyms
from schemas.checkdigits import complete_bsn

ROOT = Path(__file__).parent.parent


def seal_args(keyset, extract, schema, partner="gemeente", *extra):
    d = keyset["dir"]
    return [
        "seal",
        str(extract),
        "--schema",
        schema,
        "--key",
        f"{d}/{partner}.key",
        "--link-key",
        f"{d}/linkkey.{partner}.json",
        "--broker",
        f"{d}/broker.pub.json",
        "--officer",
        f"{d}/fg.pub.json",
        "--reference-date",
        "2024-01-01",
        "--passphrase-env",
        "KI_TEST_PW",
        *extra,
    ]


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch, keyset):
    monkeypatch.setenv("KI_TEST_PW", keyset["passphrase"])


def link_key(keyset, partner="gemeente"):
    d = keyset["dir"]
    return unwrap_link_key(
        keyset["ids"][partner],
        load_wrapped_link_key(d / f"linkkey.{partner}.json"),
        keyset["ids"]["fg"].public,
    )


def open_payload(keyset, path):
    manifest, payload = open_bytes(path.read_bytes(), keyset["ring"], keyset["ids"]["broker"])
    return manifest, pq.read_table(io.BytesIO(payload))


def p1(key, domain, value):
    return crypto.hmac_sha256(key, domain + value.encode())


# Each partner's real format: cp1252 ';' CSV, BOM ';' CSV with decimal commas, XLSX, UTF-8 ',' CSV
# and Parquet; the invalid identifiers in ggd_jgz and jeugdhulp need --drop-invalid.
CASES = [
    ("brp", []),
    ("duo", []),
    ("ggd_jgz", ["--drop-invalid"]),
    ("ggd_prenataal", []),
    ("jeugdhulp", ["--drop-invalid"]),
    ("inkomen", []),
]


@pytest.mark.parametrize(("schema", "extra"), CASES)
def test_seal_every_partner_format(keyset, extract_files, tables, tmp_path, schema, extra, capsys):
    out = tmp_path / f"{schema}.kixpkg"
    code = agent_main(
        seal_args(
            keyset,
            extract_files[schema],
            schema,
            "gemeente",
            "--out",
            str(out),
            "--sequence",
            "1",
            *extra,
        )
    )
    assert code == 0, capsys.readouterr().err
    manifest, table = open_payload(keyset, out)
    raw = tables[schema]
    assert manifest.schema_id == schema and manifest.partner == "gemeente"
    assert (
        table.num_rows
        == manifest.row_count
        == len(raw) - manifest.details["rows_dropped_invalid_identifier"]
    )
    assert [c.name for c in manifest.columns] == table.column_names
    assert "straatnaam" not in table.column_names and "geboortedatum" not in table.column_names


def test_pseudonyms_and_ages_are_right(keyset, extract_files, tables, tmp_path):
    out = tmp_path / "brp.kixpkg"
    assert (
        agent_main(
            seal_args(
                keyset,
                extract_files["brp"],
                "brp",
                "gemeente",
                "--out",
                str(out),
                "--sequence",
                "1",
            )
        )
        == 0
    )
    _, table = open_payload(keyset, out)
    raw = tables["brp"]
    key = link_key(keyset)
    got = table.column("bsn_kind").to_pylist()
    assert got[:50] == [p1(key, b"bsn:v1:", v) for v in raw["bsn_kind"][:50]]
    born = pd.to_datetime(raw["geboortedatum"], format="%Y%m%d")
    assert table.column("leeftijd_maanden").to_pylist() == list(
        months_between(born, dt.date(2024, 1, 1))
    )
    # Optional parent 2: absent in the extract → null in the package.
    absent = (raw["bsn_ouder2"] == "").to_numpy()
    assert np.array_equal(np.array(table.column("bsn_ouder2").is_null()), absent)


def test_link_key_is_shared_between_partners(keyset):
    assert link_key(keyset, "gemeente") == link_key(keyset, "duo")


def test_domain_separation():
    key = b"k" * 32
    same = pd.Series(["101234564"])  # a valid onderwijsnummer, hashed as one and as a BSN
    as_bsn = pseudonyms(same, "bsn", key)[0].as_py()
    as_onr = pseudonyms(same, "leerling_id", key)[0].as_py()
    assert as_bsn != as_onr
    assert as_onr == p1(key, b"onr:v1:", "101234564")


def test_pseudonyms_of_repeated_values_and_nulls():
    key = b"k" * 32
    values = pd.Series(["111222333", None, "111222333", "123456782"], dtype="string")
    out = pseudonyms(values, "bsn", key).to_pylist()
    assert out[0] == out[2] == p1(key, b"bsn:v1:", "111222333") and out[1] is None


@pytest.mark.parametrize(
    ("born", "months"),
    [
        ("2023-12-31", 0),
        ("2023-12-01", 1),
        ("2023-01-02", 11),
        ("2024-01-01", 0),
        ("2024-01-02", -1),
        ("2024-05-15", -5),
    ],
)
def test_months_between(born, months):
    assert months_between(pd.Series(pd.to_datetime([born])), dt.date(2024, 1, 1))[0] == months


def test_invalid_extract_writes_nothing(keyset, extract_files, tmp_path, capsys):
    out = tmp_path / "j.kixpkg"
    code = agent_main(
        seal_args(keyset, extract_files["jeugdhulp"], "jeugdhulp", "gemeente", "--out", str(out))
    )
    assert code == 10
    assert "--drop-invalid" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_inspect_needs_no_key(keyset, extract_files, tmp_path, capsys):
    out = tmp_path / "duo.kixpkg"
    assert agent_main(seal_args(keyset, extract_files["duo"], "duo", "duo", "--out", str(out))) == 0
    capsys.readouterr()
    assert agent_main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "leerling_id" in text and "pseudonym (32 bytes)" in text and "rows" in text
    assert agent_main(["inspect", str(out), "--signer", f"{keyset['dir']}/duo.pub.json"]) == 0
    assert "signature: valid" in capsys.readouterr().out
    assert agent_main(["inspect", str(out), "--signer", f"{keyset['dir']}/gemeente.pub.json"]) == 11


def test_sequence_increments(keyset, extract_files, tmp_path):
    for i in (1, 2):
        out = tmp_path / f"p{i}.kixpkg"
        assert (
            agent_main(
                seal_args(
                    keyset,
                    extract_files["ggd_prenataal"],
                    "ggd_prenataal",
                    "duo",
                    "--out",
                    str(out),
                )
            )
            == 0
        )
    assert (
        read_manifest(tmp_path / "p2.kixpkg").sequence
        == read_manifest(tmp_path / "p1.kixpkg").sequence + 1
    )


def test_nothing_printed_or_written_contains_a_bsn(keyset, extract_files, tables, tmp_path, capsys):
    """Scan everything the agent prints or writes (decrypted payloads included) for input BSNs."""
    bsns = set()
    for t in tables.values():
        for col in t.columns:
            if col.startswith(("bsn", "leerling")):
                bsns |= {v for v in t[col].astype(str) if len(v) == 9}
    assert len(bsns) > 30_000
    outputs = []
    for schema, extra in CASES:
        report = tmp_path / f"{schema}.report.json"
        agent_main(
            ["check", str(extract_files[schema]), "--schema", schema, "--report", str(report)]
        )
        pkg = tmp_path / f"{schema}.kixpkg"
        agent_main(
            seal_args(keyset, extract_files[schema], schema, "gemeente", "--out", str(pkg), *extra)
        )
        agent_main(
            seal_args(
                keyset,
                extract_files[schema],
                schema,
                "gemeente",
                "--out",
                str(tmp_path / "refused.kixpkg"),
            )
        )  # without --drop-invalid
        agent_main(["inspect", str(pkg)])
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err, report.read_text()]
        outputs.append(pkg.read_bytes().decode("latin-1"))
        _, table = open_payload(keyset, pkg)
        outputs.append(table.to_pandas().to_csv())
    text = "\n".join(outputs)
    windows = set(re.findall(r"(?=([0-9]{9}))", text))  # every run of nine digits, overlapping
    assert windows & bsns == set()


def test_killed_mid_write_leaves_no_package(keyset, tmp_path):
    """SIGKILL while the package is being written: no package file, only a stray temp file."""
    n = 400_000
    rng = np.random.default_rng(1)
    bsn = complete_bsn(rng.integers(10_000_000, 70_000_000, n * 2))
    bsn = np.unique(bsn[bsn > 0])[:n]
    big = pd.DataFrame(
        {
            "bsn_persoon": np.char.zfill(bsn.astype(str), 9),
            "inkomen_onder_120_sm": rng.random(len(bsn)) < 0.1,
            "bijstand": False,
            "schuldsanering": False,
            "opleidingsniveau": "MIDDEN",
        }
    )
    extract = tmp_path / "big.parquet"
    big.to_parquet(extract)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "big.kixpkg"
    env = {**os.environ, "KI_TEST_PW": keyset["passphrase"], "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "partner_agent.cli",
            *seal_args(keyset, extract, "inkomen", "gemeente", "--out", str(target)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if any(p.name.startswith(".big.kixpkg.tmp-") for p in out_dir.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.0005)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before the kill: enlarge the extract"
    assert not target.exists()

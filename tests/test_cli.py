import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from broker.cli import cli as broker_cli
from broker.cli import main as broker_main
from partner_agent.cli import cli as agent_cli
from partner_agent.cli import main as agent_main


def all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, (*prefix, name))


@pytest.mark.parametrize("group", [agent_cli, broker_cli])
def test_every_command_has_help(group):
    assert group.help
    for path, cmd in all_commands(group):
        assert cmd.help, f"{' '.join(path)} has no help text"
        result = CliRunner().invoke(group, [*path, "--help"])
        assert result.exit_code == 0


def test_check_ok_and_report(extract_files, tmp_path, capsys):
    report = tmp_path / "r.json"
    code = agent_main(
        ["check", str(extract_files["brp"]), "--schema", "brp", "--report", str(report)]
    )
    out = capsys.readouterr()
    assert code == 0
    assert "OK: 0 error rule(s), 2 warning(s)" in out.out
    assert "straatnaam" in out.out
    data = json.loads(report.read_text())
    assert data["valid"] and data["rows"] == 17219


def test_check_invalid_exits_10_without_echoing_bsns(extract_files, tables, capsys):
    code = agent_main(["check", str(extract_files["jeugdhulp"]), "--schema", "jeugdhulp"])
    out = capsys.readouterr()
    assert code == 10
    assert "partner-agent: error:" in out.err and "partner-agent: hint:" in out.err
    assert "not a valid BSN" in out.out and "lines " in out.out
    for bsn in tables["jeugdhulp"]["bsn_kind"]:
        assert bsn not in out.out + out.err


def test_check_json_output(extract_files, capsys):
    code = agent_main(["check", str(extract_files["ggd_jgz"]), "--schema", "ggd_jgz@v1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 10
    assert data["problems"][0]["rule"] == "required" and data["problems"][0]["rows"]


def test_unknown_schema_is_a_usage_error(extract_files, capsys):
    assert agent_main(["check", str(extract_files["brp"]), "--schema", "cbs"]) == 2
    assert "unknown schema" in capsys.readouterr().err


def test_schemas_lists_and_shows(capsys):
    assert agent_main(["schemas"]) == 0
    assert "ggd_prenataal@v1" in capsys.readouterr().out
    assert agent_main(["schemas", "duo"]) == 0
    assert "identifier → pseudonymised" in capsys.readouterr().out


def test_demo_runs_the_whole_chain(tmp_path, capsys):
    assert broker_main(["demo", "--workdir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "Koppeling per bron" in out and "Minst gunstig" in out
    assert "checkpoint in orde" in out
    report = out.split("Rapport: ")[1].strip()
    assert report.endswith("rapport.html") and Path(report).is_file()
    assert broker_main(["demo", "--workdir", str(tmp_path / "demo")]) == 2  # never over one


def test_key_commands_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PW", "demo passphrase")
    k = str(tmp_path)
    assert agent_main(["keygen", "--name", "duo", "--out", k, "--passphrase-env", "PW"]) == 0
    assert agent_main(["keygen", "--name", "duo", "--out", k, "--passphrase-env", "PW"]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert broker_main(["officer", "keygen", "--out", k, "--passphrase-env", "PW"]) == 0
    store = ["--store", f"{k}/store", "--passphrase-env", "PW"]
    assert broker_main(["init", *store, "--officer", f"{k}/fg.pub.json"]) == 0
    assert broker_main(["init", *store]) == 2  # never over an existing store
    issue = [
        "officer",
        "issue-link-key",
        "--officer-key",
        f"{k}/fg.key",
        "--out",
        f"{k}/lk",
        "--passphrase-env",
        "PW",
    ]
    assert broker_main([*issue, f"{k}/duo.pub.json"]) == 0
    assert (tmp_path / "lk" / "linkkey.duo.json").exists()
    assert (tmp_path / "lk" / "linkkey.officer.json").exists()
    capsys.readouterr()
    assert broker_main([*issue, f"{k}/store/keys/broker.pub.json"]) == 2
    assert "the broker must never hold the link key" in capsys.readouterr().err
    assert broker_main(["add-partner", *store, f"{k}/duo.pub.json"]) == 0
    assert "partner duo" in capsys.readouterr().out
    monkeypatch.setenv("PW", "wrong")
    assert broker_main([*issue, f"{k}/duo.pub.json"]) == 11
    assert "wrong passphrase" in capsys.readouterr().err
    assert broker_main(["add-partner", *store, f"{k}/duo.pub.json"]) == 11

"""The command-line contract: exit codes, one-line errors, and what each command prints."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_crm.cli import main
from desktop_crm.data import history as hist
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.models import Direction, InteractionKind
from desktop_crm.data.records import ContactInput, EmailInput, PhoneInput


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_upgrade_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    code, out, _ = run(capsys, "db", "current", "--database", url)
    assert code == 0 and "empty (no schema yet)" in out
    code, out, _ = run(capsys, "db", "upgrade", "--database", url)
    assert code == 0 and "upgraded from empty" in out
    code, out, _ = run(capsys, "--database", url, "db", "current")
    assert code == 0 and "(up to date)" in out


def test_unknown_schema_version_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crm.db"
    Database(f"sqlite:///{path}").upgrade()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dbabe'")
    code, out, err = run(capsys, "history", "0171 1234567", "--database", f"sqlite:///{path}")
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "schema version f00dbabe" in err and "newer version" in err


def test_older_schema_says_which_command_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Database(url).upgrade("0001")
    code, _, err = run(capsys, "lookup", "0171 1234567", "--database", url)
    assert code == 1 and "schema version 0001" in err and "desktop-crm db upgrade" in err
    code, out, _ = run(capsys, "db", "upgrade", "--database", url)
    assert code == 0 and "upgraded from 0001" in out
    code, out, _ = run(capsys, "lookup", "0171 1234567", "--database", url)
    assert code == 0 and "unknown caller" in out


def test_foreign_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stuff (x)")
    code, _, err = run(capsys, "export", "--format", "json", "--database", f"sqlite:///{path}")
    assert code == 1 and "not a desktop_crm database" in err


def test_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "history", "x@y.de", "--database", "postgresql://crm@127.0.0.1:9/crm"
    )
    assert code == 1
    assert err.startswith("desktop-crm: Cannot open the database postgresql://crm@127.0.0.1:9/crm")
    assert err.count("\n") == 1


def test_password_in_url_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "db", "current", "--database", "postgresql://crm:hunter2@127.0.0.1:9/crm"
    )
    assert code == 1 and "hunter2" not in err and "***" in err


def test_bad_url_and_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "db", "current", "--database", "mysql://x@y/z")
    assert code == 1 and "not supported" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "downgrade"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_database_url_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("DESKTOP_CRM_DATABASE_URL", url)
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and str(tmp_path / "env.db") in out


def test_default_database_lives_in_user_data_dir(
    isolated_user_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "config", "show")
    assert code == 0
    assert f"sqlite:///{isolated_user_dirs}/data/desktop-crm/crm.db (default)" in out
    code, out, _ = run(capsys, "config", "path")
    assert out.strip() == f"{isolated_user_dirs}/config/desktop-crm/desktop-crm.toml"


def test_bad_settings_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ui]\nlanguage = "klingonisch"\n', encoding="utf-8")
    code, _, err = run(capsys, "--config", str(cfg), "config", "show")
    assert code == 1 and f"{cfg}:2: [ui] language" in err


def test_secret_set_reads_stdin_and_never_echoes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], memory_keyring
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("geheim-123\n"))
    code, out, err = run(capsys, "secret", "set", "database")
    assert code == 0 and "geheim-123" not in out + err
    assert memory_keyring.store[("desktop_crm", "database")] == "geheim-123"


def test_database_password_comes_from_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[database]\nurl = "postgresql://crm@127.0.0.1:9/crm"\nsecret = "db"\n')
    code, _, err = run(capsys, "--config", str(cfg), "db", "current")
    assert code == 1 and "desktop-crm secret set db" in err  # no password stored yet


def _seed(db: Database) -> int:
    with db.session() as s:
        c = records.create_contact(
            s,
            ContactInput(
                first_name="Jürgen",
                last_name="Groß",
                phones=[PhoneInput("+49 (0)89 2020447-25")],
                emails=[EmailInput("j.gross@example.de")],
            ),
        )
        from datetime import UTC, datetime

        for day, subject in [(1, "älter"), (3, "neuer")]:
            hist.log_interaction(
                s,
                hist.InteractionInput(
                    kind=InteractionKind.CALL,
                    contact_id=c.id,
                    direction=Direction.INBOUND,
                    occurred_at=datetime(2026, 3, day, 10, tzinfo=UTC),
                    subject=subject,
                    outcome="answered",
                ),
            )
        return c.id


def test_history_by_number_mail_and_id(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    cid = _seed(db)
    url = db.url.render_as_string(hide_password=False)
    for value in ("089 2020447-25", "+4989202044725", "J.Gross@example.de", str(cid)):
        code, out, _ = run(capsys, "history", value, "--json", "--database", url)
        assert code == 0
        data = json.loads(out)
        assert [r["contact_id"] for r in data["records"]] == [cid], value
        assert [e["subject"] for e in data["records"][0]["entries"]] == ["neuer", "älter"]
    code, out, _ = run(capsys, "history", "0800 999999", "--database", url)
    assert code == 0 and "No contact found" in out
    code, out, _ = run(capsys, "history", str(cid), "--database", url)
    assert "Jürgen Groß" in out and out.index("neuer") < out.index("älter")


def test_lookup_json_contract(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    cid = _seed(db)
    url = db.url.render_as_string(hide_password=False)
    code, out, _ = run(capsys, "lookup", "tel:+49-89-2020447-25", "--json", "--database", url)
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"query", "normalized", "matches"}
    assert report["normalized"] == "+4989202044725"
    [match] = report["matches"]
    assert set(match) == {
        "contact_id",
        "organization_id",
        "name",
        "organization",
        "matched",
        "reason",
        "score",
    }
    assert (match["contact_id"], match["reason"], match["matched"]) == (
        cid,
        "exact",
        "+49 (0)89 2020447-25",
    )
    code, out, _ = run(capsys, "lookup", "anonymous", "--json", "--database", url)
    assert code == 0 and json.loads(out)["matches"] == []


def test_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "desktop-crm"
    result = subprocess.run(
        [str(exe), "db", "current", "--database", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_import_reports_bad_rows_and_export_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    csv_file = tmp_path / "kontakte.csv"
    csv_file.write_bytes(
        (
            "Vorname;Nachname;Firma;Telefon geschäftlich;E-Mail-Adresse\r\n"
            "Jürgen;Groß;Müller GmbH;089/2020447-25;j.gross@mueller.de\r\n"
            "Kai;Kaputt;;nicht erreichbar;kai(at)example\r\n"
            "Anna;Schäfer;;0171 1234567;anna@example.de\r\n"
        ).encode("cp1252")
    )
    code, out, err = run(capsys, "import", str(csv_file), "--database", url)
    assert code == 1  # problems were reported: scripts can tell
    assert "3 created" in out
    assert f"{csv_file}:3: " in err and "kai(at)example" in err
    code, out, err = run(capsys, "import", str(csv_file), "--database", url)  # again: no duplicates
    assert "0 created" in out
    code, out, _ = run(capsys, "export", "--format", "json", "--database", url)
    assert code == 0
    people = json.loads(out)
    assert sorted(p["last_name"] for p in people) == ["Groß", "Kaputt", "Schäfer"]
    kai = next(p for p in people if p["last_name"] == "Kaputt")
    assert "kai(at)example" in kai["notes"]  # nothing typed is lost
    out_file = tmp_path / "out.vcf"
    code, _, err = run(
        capsys, "export", "--format", "vcard", "--out", str(out_file), "--database", url
    )
    assert code == 0 and "3 contacts written" in err
    assert out_file.read_text(encoding="utf-8").count("BEGIN:VCARD") == 3


def test_import_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "import", str(tmp_path / "nope.vcf"), "--database", f"sqlite:///{tmp_path / 'x.db'}"
    )
    assert code == 1 and "file not found" in err


def test_demo_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, out, _ = run(capsys, "demo", "--contacts", "30", "--database", url)
    assert code == 0 and "30 contacts" in out
    code, out, _ = run(capsys, "demo", "--contacts", "30", "--database", url)
    assert code == 0 and "already" in out
    code, out, _ = run(capsys, "export", "--format", "json", "--database", url)
    assert len(json.loads(out)) == 30
    code, _, err = run(capsys, "demo", "--contacts", "-1", "--database", url)
    assert code == 1 and "--contacts" in err

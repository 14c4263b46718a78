"""Team commands on SQLite say plainly that roles need PostgreSQL; refusals read as sentences."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from desktop_crm.cli import main
from desktop_crm.data.audit import parse_since
from desktop_crm.data.errors import ValidationError
from desktop_crm.data.models import Role
from desktop_crm.data.team import TABLE_RIGHTS, at_least, check_login, refusal_message


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crm.db'}"


def test_db_init_on_sqlite_creates_the_schema_and_explains_roles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "init", "--database", _url(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "schema upgraded from empty" in out
    assert "team roles need the shared PostgreSQL database" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["user", "add", "anna", "--role", "agent"],
        ["user", "list"],
        ["user", "disable", "anna"],
        ["user", "set-role", "anna", "--role", "admin"],
    ],
)
def test_user_commands_on_sqlite_say_roles_need_postgresql(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main([*argv, "--database", _url(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "need the shared PostgreSQL database" in err
    assert "a-long-password" not in err
    assert err.count("\n") == 1


def test_audit_on_sqlite_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--database", _url(tmp_path)]) == 1
    assert "PostgreSQL" in capsys.readouterr().err


def test_user_commands_check_their_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "add", "--database", _url(tmp_path)]) == 1
    assert "needs a LOGIN" in capsys.readouterr().err
    assert main(["user", "add", "anna", "--database", _url(tmp_path)]) == 1
    assert "needs --role" in capsys.readouterr().err


@pytest.mark.parametrize("login", ["Anna", "1x", "crm_admin", "pg_x", "a b", "x" * 64, "a;drop"])
def test_logins_are_plain_names(login: str) -> None:
    with pytest.raises(ValidationError):
        check_login(login)


def test_roles_form_a_chain() -> None:
    assert at_least(Role.ADMIN, Role.AGENT)
    assert at_least(Role.BACKOFFICE, Role.BACKOFFICE)
    assert not at_least(Role.AGENT, Role.BACKOFFICE)


def _error(message: str, table: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(diag=SimpleNamespace(message_primary=message, table_name=table))


@pytest.mark.parametrize(
    ("statement", "message", "table", "sentence"),
    [
        (
            "DELETE FROM contact WHERE contact.id = %(id)s",
            "permission denied for table contact",
            None,
            "Your role (agent) may not delete contacts.",
        ),
        (
            "INSERT INTO tag (name) VALUES (%(name)s)",
            "permission denied for table tag",
            None,
            "Your role (agent) may not add tags.",
        ),
        (
            "UPDATE interaction SET body=%(body)s",
            'new row violates row-level security policy for table "interaction"',
            None,
            "Your role (agent) may not write or change notes in someone else's name.",
        ),
        (
            "UPDATE ticket SET assignee_id=%(a)s",
            "may not assign tickets to other people",
            "ticket",
            "Your role (agent) may not assign tickets to other people.",
        ),
        (
            "CREATE ROLE x NOLOGIN",
            "permission denied to create role",
            None,
            "Your role (agent) may not do this: permission denied to create role.",
        ),
        (
            "SELECT * FROM some_new_table",
            "permission denied for table some_new_table",
            None,
            "Your role (agent) may not read some new table.",
        ),
    ],
)
def test_refusals_read_as_sentences(
    statement: str, message: str, table: str | None, sentence: str
) -> None:
    assert refusal_message(Role.AGENT, statement, _error(message, table)) == sentence


def test_every_table_of_the_schema_has_rights() -> None:
    from desktop_crm.data.models import Base

    missing = set(Base.metadata.tables) - set(TABLE_RIGHTS)
    assert not missing, f"add these tables to TABLE_RIGHTS in data/team.py: {sorted(missing)}"


def test_since_reads_durations_and_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now=now) == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert parse_since("2026-11-20", now=now) == datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(ValidationError):
        parse_since("yesterday")

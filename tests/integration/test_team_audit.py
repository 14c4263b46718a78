"""The audit log is written by the database itself, with the login that made each change.

Also the command line of a team database end to end: `db init` on an empty PostgreSQL
database, `user add` with the password piped on stdin, `user list`, `audit --json`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from desktop_crm.cli import main
from desktop_crm.data import records
from desktop_crm.data.audit import audit_entries
from desktop_crm.data.db import Database, display_url
from desktop_crm.data.history import InteractionInput, log_interaction
from desktop_crm.data.models import AuditLog, InteractionKind, Role
from tests.helpers.integration import unavailable
from tests.helpers.postgres import PostgresServer
from tests.helpers.team import TeamDatabase, login_url, team_database

pytestmark = pytest.mark.integration


@pytest.fixture
def server(pg_server: PostgresServer | str) -> PostgresServer:
    if isinstance(pg_server, str):
        unavailable(pg_server)
        raise AssertionError("unreachable")
    return pg_server


@pytest.fixture
def team(server: PostgresServer, pg_template: str | None) -> Iterator[TeamDatabase]:
    assert pg_template is not None
    with team_database(server, pg_template) as team:
        yield team


def test_triggers_record_who_changed_what(team: TeamDatabase) -> None:
    backoffice_login, password = team.add(Role.BACKOFFICE)
    backoffice = team.connect(backoffice_login, password)
    agent_login, agent_password = team.add(Role.AGENT)
    agent = team.connect(agent_login, agent_password)
    with backoffice.session() as s:
        contact = records.create_contact(
            s,
            records.ContactInput(
                first_name="Anna", last_name="Berg", phones=[records.PhoneInput("0641 123")]
            ),
        )
    with backoffice.session() as s:
        records.update_contact(
            s,
            contact.id,
            contact.version,
            records.ContactInput(
                first_name="Anne", last_name="Berg", phones=[records.PhoneInput("0641 123")]
            ),
        )
    with agent.session() as s:
        log_interaction(
            s, InteractionInput(kind=InteractionKind.NOTE, contact_id=contact.id, body="hallo")
        )
    with backoffice.session() as s:
        records.delete_contact(s, contact.id, contact.version + 1)

    with team.owner.session() as s:
        rows = audit_entries(s, table="contact", row_id=contact.id)
        notes = audit_entries(s, table="interaction")
        phones = audit_entries(s, table="phone_number")
    assert [(r.operation, r.actor) for r in reversed(rows)] == [
        ("insert", backoffice_login),
        ("update", backoffice_login),
        ("delete", backoffice_login),
    ]
    insert, update, delete = reversed(rows)
    assert insert.new is not None and insert.new["first_name"] == "Anna"
    assert update.old == {"first_name": "Anna", "sort_key": "berg anna", "version": 1}
    assert update.new == {"first_name": "Anne", "sort_key": "berg anne", "version": 2}
    assert delete.old is not None and delete.old["first_name"] == "Anne" and delete.new is None
    assert {(r.operation, r.actor) for r in phones} == {
        ("insert", backoffice_login),
        ("delete", backoffice_login),
    }
    # the note: inserted by the agent; when its contact went, the back office's update moved it
    assert (notes[-1].operation, notes[-1].actor) == ("insert", agent_login)
    assert notes[-1].new is not None and notes[-1].new["body"] == "hallo"


def test_the_audit_log_cannot_be_forged_or_rewritten(team: TeamDatabase) -> None:
    admin = team.login(Role.ADMIN)
    from desktop_crm.data.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="may not add the audit log"), admin.session() as s:
        s.add(AuditLog(actor="someone", table_name="contact", row_id=1, operation="delete"))
        s.flush()
    with (
        pytest.raises(PermissionDenied, match="may not change the audit log"),
        admin.session() as s,
    ):
        s.execute(text("UPDATE audit_log SET actor = 'someone'"))


def test_db_init_user_add_list_and_audit_from_the_command_line(
    server: PostgresServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = server.new_database()
    url = server.url_for(name)
    owner = url.render_as_string(hide_password=False)
    login = f"cli{name[-12:]}".replace("_", "")
    password = "Sehr-geheim-2026"
    try:
        assert main(["db", "init", "--database", owner]) == 0
        out = capsys.readouterr().out
        assert "schema upgraded from empty" in out and "team roles set up" in out
        assert main(["db", "init", "--database", owner]) == 0  # again: nothing breaks
        assert "up to date" in capsys.readouterr().out

        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        assert (
            main(
                [
                    "user",
                    "add",
                    login,
                    "--role",
                    "agent",
                    "--name",
                    "Anna Berg",
                    "--database",
                    owner,
                ]
            )
            == 0
        )
        out, err = capsys.readouterr()
        assert f"User {login} added as agent." in out
        assert password not in out + err

        assert main(["user", "list", "--json", "--database", owner]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert rows == [
            {
                "login": login,
                "name": "Anna Berg",
                "role": "agent",
                "server_role": "agent",
                "active": True,
                "can_login": True,
            }
        ]
        as_agent = login_url(url, login, password).render_as_string(hide_password=False)
        assert main(["audit", "--database", as_agent]) == 1
        assert capsys.readouterr().err.strip() == (
            "desktop-crm: Your role (agent) may not read the audit log."
        )
        assert main(["user", "set-role", login, "--role", "backoffice", "--database", owner]) == 0
        assert main(["user", "disable", login, "--database", owner]) == 0
        capsys.readouterr()
        assert main(["audit", "--table", "user_account", "--json", "--database", owner]) == 0
        entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [e["operation"] for e in entries] == ["update", "update", "insert"]
        assert entries[0]["new"]["active"] is False
        assert entries[1]["new"]["role"] == "backoffice"
        with Database(url).session() as s:
            assert s.scalar(select(AuditLog.actor).limit(1)) == url.username
        assert password not in display_url(url)
    finally:
        server.drop_database(name)
        server.execute(f'DROP ROLE IF EXISTS "{login}"')

"""An office-like server: TCP logins need their scram-sha-256 password, and the database is set
up by an owner role that is not a superuser (only CREATEROLE), as docs/deployment.md says."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from desktop_crm.cli import main
from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.errors import DatabaseUnavailable, PermissionDenied
from desktop_crm.data.models import Role
from desktop_crm.data.team import current_role
from tests.helpers.integration import unavailable
from tests.helpers.postgres import PostgresServer, postgres_server
from tests.helpers.team import login_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def office() -> Iterator[PostgresServer]:
    with postgres_server(password_over_tcp=True) as server:
        if isinstance(server, str):
            unavailable(server)
        assert isinstance(server, PostgresServer)
        yield server


def _owner_database(office: PostgresServer, owner: str, *, createrole: bool) -> str:
    office.execute(f"CREATE ROLE {owner} LOGIN{' CREATEROLE' if createrole else ''}")
    office.execute(f"CREATE DATABASE {owner}_db OWNER {owner}")
    return office.url_for(f"{owner}_db").set(username=owner).render_as_string(hide_password=False)


def test_setting_up_the_roles_needs_createrole(
    office: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first test of the module: the fresh server has no group roles yet."""
    url = _owner_database(office, "plain_owner", createrole=False)
    assert main(["db", "init", "--database", url]) == 1
    err = capsys.readouterr().err
    assert "The login plain_owner may not create roles" in err and err.count("\n") == 1


def test_an_owner_without_superuser_sets_up_the_team_and_logins_need_passwords(
    office: PostgresServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    office.execute("CREATE ROLE crm_owner LOGIN CREATEROLE")
    office.execute("CREATE DATABASE crm OWNER crm_owner")
    owner = office.url_for("crm").set(username="crm_owner")
    owner_url = owner.render_as_string(hide_password=False)
    assert main(["db", "init", "--database", owner_url]) == 0
    assert "team roles set up" in capsys.readouterr().out
    password = "Kennwort-fuer-Ben-2026"
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main(["user", "add", "ben", "--role", "backoffice", "--database", owner_url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("Kennwort-fuer-Anna-2026\n"))
    assert main(["user", "add", "anna", "--role", "admin", "--database", owner_url]) == 0
    out, err = capsys.readouterr()
    assert password not in out + err

    wrong = Database(login_url(owner, "ben", "falsch-falsch"))
    with pytest.raises(DatabaseUnavailable, match="password authentication failed"):
        wrong.check_connection()
    wrong.dispose()

    ben = Database(login_url(owner, "ben", password))
    try:
        with ben.session() as s:
            assert current_role(s) is Role.BACKOFFICE
            records.create_contact(s, records.ContactInput(last_name="Kurz"))
        with (
            pytest.raises(PermissionDenied, match=r"^Your role \(backoffice\) may not add users"),
            ben.session() as s,
        ):
            s.execute(
                text(
                    "INSERT INTO user_account (login, name, role, active, created_at, updated_at, version) VALUES ('x', '', 'agent', true, now(), now(), 1)"
                )
            )
    finally:
        ben.dispose()

    anna = Database(login_url(owner, "anna", "Kennwort-fuer-Anna-2026"))
    try:  # an admin login manages users from a desk, over the network
        monkeypatch.setattr("sys.stdin", io.StringIO("Neues-Kennwort-2026\n"))
        anna_url = anna.url.render_as_string(hide_password=False)
        assert main(["user", "password", "ben", "--database", anna_url]) == 0
        assert main(["user", "set-role", "ben", "--role", "agent", "--database", anna_url]) == 0
        capsys.readouterr()
    finally:
        anna.dispose()
    ben = Database(login_url(owner, "ben", "Neues-Kennwort-2026"))
    try:
        with ben.session() as s:
            assert current_role(s) is Role.AGENT
    finally:
        ben.dispose()


def test_once_the_roles_exist_any_database_owner_grants_its_own_database(
    office: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _owner_database(office, "second_owner", createrole=False)
    assert main(["db", "init", "--database", url]) == 0
    assert "roles created: none (all present)" in capsys.readouterr().out

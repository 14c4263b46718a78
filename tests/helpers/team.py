"""A team database for the tests: roles applied, and logins that connect as themselves.

``TeamDatabase.login(Role.AGENT)`` creates a LOGIN role with a generated password (kept in
memory, never printed) and returns a `Database` connected AS that role, so the server itself
refuses what the role may not do. Group roles are cluster-wide (created once, left in place);
the login roles of a test are dropped when it ends.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import URL

from desktop_crm.data.db import Database
from desktop_crm.data.models import Role, User
from desktop_crm.data.team import add_user, apply_team_setup
from tests.helpers.postgres import PostgresServer

_counter = itertools.count(1)


def login_url(url: URL, login: str, password: str) -> URL:
    """``url`` for ``login``; over TCP on 127.0.0.1 where the admin URL uses a socket (CI's
    cluster authenticates other roles on the socket by peer, over TCP by scram-sha-256)."""
    host = url.query.get("host")
    if isinstance(host, str) and host.startswith("/"):
        url = url.difference_update_query(["host"]).set(host="127.0.0.1", port=url.port or 5432)
    return url.set(username=login, password=password)


class TeamDatabase:
    def __init__(self, server: PostgresServer, name: str) -> None:
        self.server = server
        self.name = name
        self.url = server.url_for(name)
        self.owner = Database(self.url)
        self.logins: list[str] = []
        self.users: dict[str, User] = {}
        self._opened: list[Database] = []
        with self.owner.engine.begin() as conn:
            self.report = apply_team_setup(conn)

    def add(self, role: Role, *, name: str = "") -> tuple[str, str]:
        login = f"t{os.getpid()}_{next(_counter)}_{role.value}"
        password = secrets.token_urlsafe(18)
        with self.owner.session() as session:
            self.users[login] = add_user(session, login, role, password, name=name or login)
        self.logins.append(login)
        return login, password

    def connect(self, login: str, password: str) -> Database:
        db = Database(login_url(self.url, login, password))
        self._opened.append(db)
        return db

    def login(self, role: Role) -> Database:
        return self.connect(*self.add(role))

    def close(self) -> None:
        for db in self._opened:
            db.dispose()
        self.owner.dispose()
        self.server.drop_database(self.name)
        for login in self.logins:
            self.server.execute(f'DROP ROLE IF EXISTS "{login}"')


@contextmanager
def team_database(server: PostgresServer, template: str) -> Iterator[TeamDatabase]:
    team = TeamDatabase(server, server.new_database(template=template))
    try:
        yield team
    finally:
        team.close()

"""Shared fixtures: databases on SQLite and real PostgreSQL, an in-memory keyring, isolation.

Like qutebrowser's test suite, a logged error that the test did not expect fails the test, and so
does a thread the test leaves running.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from desktop_crm.data.db import Database
from tests.helpers.integration import unavailable
from tests.helpers.postgres import PostgresServer, postgres_server
from tests.helpers.team import TeamDatabase, team_database

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class MemoryKeyring(KeyringBackend):
    """A keyring that forgets everything when the test ends; tests never touch the real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Settings and data of the tests never land in the real user's folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("DESKTOP_CRM_CONFIG", raising=False)
    monkeypatch.delenv("DESKTOP_CRM_DATABASE_URL", raising=False)
    return home


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_logged_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A logged error fails the test unless it is marked ``allow_logged_errors``."""
    handler = _ErrorCollector()
    root = logging.getLogger()
    root.addHandler(handler)
    yield
    root.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("allow_logged_errors") is None:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in handler.records)
        pytest.fail(f"unexpected logged error(s):\n{lines}", pytrace=False)


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """A test that leaves a thread running fails."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        extra = [t for t in extra if not t.name.startswith(("QDBus", "pydevd", "asyncio_"))]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if extra:
        pytest.fail(f"test left threads running: {[t.name for t in extra]}", pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_logged_errors: the test expects logged errors")


# --- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer | str]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer | str) -> str | None:
    if isinstance(pg_server, str):
        return None
    name = pg_server.new_database()
    db = Database(pg_server.url_for(name))
    db.upgrade()
    db.dispose()
    return name


def _sqlite_db(template: Path, folder: Path) -> Database:
    path = folder / "crm.db"
    shutil.copy(template, path)
    return Database(f"sqlite:///{path}")


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    db = _sqlite_db(sqlite_template, tmp_path)
    yield db
    db.dispose()


@pytest.fixture
def pg_db(pg_server: PostgresServer | str, pg_template: str | None) -> Iterator[Database]:
    if isinstance(pg_server, str) or pg_template is None:
        unavailable(str(pg_server))
        raise AssertionError("unreachable")
    name = pg_server.new_database(template=pg_template)
    db = Database(pg_server.url_for(name))
    yield db
    db.dispose()
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_db")  # type: ignore[no-any-return]
    return request.getfixturevalue("pg_db")  # type: ignore[no-any-return]


@pytest.fixture
def team(pg_server: PostgresServer | str, pg_template: str | None) -> Iterator[TeamDatabase]:
    """A database with the team roles set up and a login per role (tests/helpers/team.py)."""
    if isinstance(pg_server, str) or pg_template is None:
        unavailable(str(pg_server))
        raise AssertionError("unreachable")
    with team_database(pg_server, pg_template) as team:
        yield team

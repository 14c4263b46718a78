"""The one place that opens databases and sessions, and knows the schema's revision.

One session per user action or per background unit of work, never shared across threads:
:meth:`Database.session` hands out a fresh one each time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from .errors import DatabaseUnavailable, SchemaError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str
    empty: bool  # no tables at all: a brand-new database

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def default_sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'crm.db').as_posix()}"


def parse_url(url: str) -> URL:
    """Parse a database URL; plain ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(
            f"{url!r} is not a database URL; write sqlite:///path/crm.db or "
            "postgresql://user@host/database"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"{parsed.get_backend_name()!r} databases are not supported; use SQLite or PostgreSQL"
        )
    return parsed


def display_url(url: URL | str) -> str:
    """The URL without its password, for messages and logs."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True).replace("+psycopg", "")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


class Database:
    """An engine plus a session factory for one database URL."""

    def __init__(self, url: str | URL, *, echo: bool = False, pooled: bool = True) -> None:
        self.url = parse_url(str(url)) if isinstance(url, str) else url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            path = self.url.database
            if path and path != ":memory:":
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 5, "application_name": "desktop_crm"}
            if not pooled:
                kwargs["poolclass"] = NullPool
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:  # the server's refusals become PermissionDenied with a sentence (issue 8)
            from .team import watch_permissions

            watch_permissions(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one unit of work: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def check_connection(self) -> None:
        try:
            with self.engine.connect():
                pass
        except (OperationalError, DBAPIError) as exc:
            raise DatabaseUnavailable(
                f"Cannot open the database {self.display_url}: {_first_line(exc)}"
            ) from exc

    def schema_state(self) -> SchemaState:
        try:
            with self.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
                tables = inspect(conn).get_table_names()
        except (OperationalError, DBAPIError) as exc:
            raise DatabaseUnavailable(
                f"Cannot open the database {self.display_url}: {_first_line(exc)}"
            ) from exc
        return SchemaState(current=current, head=head_revision(), empty=not tables)

    def upgrade(self, revision: str = "head") -> None:
        self.check_connection()
        command.upgrade(alembic_config(self.engine), revision)

    def downgrade(self, revision: str) -> None:
        self.check_connection()
        command.downgrade(alembic_config(self.engine), revision)

    def ensure_schema(self, *, create_if_empty: bool = True) -> SchemaState:
        """Refuse a schema this program does not know; create it in a brand-new database."""
        state = self.schema_state()
        if state.up_to_date:
            return state
        if state.empty and create_if_empty:
            log.info("creating the schema in the new database %s", self.display_url)
            self.upgrade()
            return self.schema_state()
        raise SchemaError(self._schema_message(state))

    def _schema_message(self, state: SchemaState) -> str:
        where = self.display_url
        if state.current is None:
            return (
                f"The database {where} has tables but no desktop_crm schema version; "
                "it is not a desktop_crm database (or was made by hand). "
                "Point --database at a desktop_crm database or an empty one."
            )
        script = ScriptDirectory.from_config(alembic_config())
        try:
            script.get_revision(state.current)
        except Exception:
            return (
                f"The database {where} has schema version {state.current}, which this version "
                "of desktop_crm does not know (it was made by a newer version): update desktop_crm."
            )
        return (
            f"The database {where} has schema version {state.current}, this version of "
            f"desktop_crm needs {state.head}: run `desktop-crm db upgrade` (make a backup first)."
        )

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def resolve_url(explicit: str | None, configured: str, data_dir: Path) -> tuple[str, bool]:
    """The database URL in use and whether it is the embedded default.

    Order: ``--database``, ``DESKTOP_CRM_DATABASE_URL``, the settings file, then a SQLite file in
    the user's data directory.
    """
    for candidate in (explicit, os.environ.get("DESKTOP_CRM_DATABASE_URL"), configured):
        if candidate:
            return candidate, False
    return default_sqlite_url(data_dir), True


def with_password(url: URL, password: str | None) -> URL:
    if password and url.password is None:
        return url.set(password=password)
    return url

"""A private PostgreSQL server for the tests, started and stopped by the test session.

Either DESKTOP_CRM_TEST_POSTGRES_URL names a server (any database on it; the tests create and
drop their own databases there), or the fixture runs initdb + pg_ctl from Debian's PostgreSQL
packages in a temporary folder, listening on 127.0.0.1 only.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

URL_ENV = "DESKTOP_CRM_TEST_POSTGRES_URL"
_counter = itertools.count(1)


def find_pg_bin() -> Path | None:
    if found := shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(versions[0]).parent if versions else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A running server and the admin URL of its maintenance database."""

    def __init__(
        self,
        admin_url: URL,
        stop: list[str] | None = None,
        runas: list[str] | None = None,
        start: list[str] | None = None,
    ):
        self.admin_url = admin_url
        self._stop = stop
        self._runas = runas or []
        self._start = start

    @property
    def can_restart(self) -> bool:
        """Only a private server (not the one DESKTOP_CRM_TEST_POSTGRES_URL names)."""
        return bool(self._start and self._stop)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server the hard way (clients lose their connections), start it again."""
        assert self._start and self._stop, "only a private server can be restarted"
        # fast, not immediate: with synchronous_commit=off an immediate stop loses the last
        # commits; fast still ends every client's connection like a restart at the office
        stop = ["fast" if part == "immediate" else part for part in self._stop]
        subprocess.run(stop, check=True, capture_output=True, timeout=60)
        time.sleep(down_seconds)
        subprocess.run(self._start, check=True, capture_output=True, timeout=90)

    def url_for(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    def execute(self, sql: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    def new_database(self, template: str | None = None) -> str:
        name = f"crm_test_{os.getpid()}_{next(_counter)}"
        clause = f" TEMPLATE {template}" if template else ""
        self.execute(f"CREATE DATABASE {name}{clause}")
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self._stop:
            subprocess.run(self._stop, check=False, capture_output=True, timeout=60)


@contextmanager
def postgres_server(
    *, private: bool = False, password_over_tcp: bool = False
) -> Iterator[PostgresServer | str]:
    """Yield a server, or a string saying why none is available.

    ``private``: always start one of our own (one that a test may restart), even where
    DESKTOP_CRM_TEST_POSTGRES_URL names a shared one. ``password_over_tcp`` (implies private):
    like Debian's cluster in CI, TCP connections must authenticate with scram-sha-256 while the
    admin URL uses the Unix socket (trusted).
    """
    private = private or password_over_tcp
    if (url := os.environ.get(URL_ENV)) and not private:
        admin = make_url(url).set(drivername="postgresql+psycopg")
        yield PostgresServer(admin)
        return
    bindir = find_pg_bin()
    if bindir is None:
        yield "PostgreSQL is not installed (Debian package postgresql-15)"
        return
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    runas: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as 'postgres'
        runas = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres", "postgres")
    data, sock = root / "data", root / "sock"
    subprocess.run([*runas, "mkdir", "-p", str(sock)], check=True)
    port = free_port()
    try:
        subprocess.run(
            [
                *runas,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "crm_test",
                *(
                    ["--auth-local=trust", "--auth-host=scram-sha-256"]
                    if password_over_tcp
                    else ["-A", "trust"]
                ),
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        start = [
            *runas,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "-l",
            str(root / "server.log"),
            "start",
        ]
        subprocess.run(start, check=True, capture_output=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = getattr(exc, "stderr", b"") or b""
        yield f"could not start a private PostgreSQL: {output.decode(errors='replace')[-300:]}"
        shutil.rmtree(root, ignore_errors=True)
        return
    stop = [*runas, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
    admin = URL.create(
        "postgresql+psycopg", username="crm_test", host="127.0.0.1", port=port, database="postgres"
    )
    if password_over_tcp:  # the socket, as CI's URL names Debian's cluster
        admin = URL.create(
            "postgresql+psycopg",
            username="crm_test",
            port=port,
            database="postgres",
            query={"host": str(sock)},
        )
    server = PostgresServer(admin, stop, runas, start)
    deadline = time.monotonic() + 30
    while True:
        try:
            server.execute("SELECT 1")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

"""Two clients: what one saves arrives in the other's ChangeListener within 500 ms, also after
the connection was cut and after a server restart (then with a catch-up of what it missed)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from desktop_crm.data import records
from desktop_crm.data.changes import Change, ChangeListener, FeedStatus
from desktop_crm.data.db import Database
from desktop_crm.data.history import InteractionInput, log_interaction
from desktop_crm.data.models import InteractionKind, Role, Ticket
from tests.helpers.integration import unavailable
from tests.helpers.postgres import PostgresServer, postgres_server
from tests.helpers.team import TeamDatabase, team_database

pytestmark = pytest.mark.integration

LIMIT = 0.5  # seconds from commit to the other client's sink


class Inbox:
    def __init__(self) -> None:
        self.changes: queue.SimpleQueue[tuple[float, Change]] = queue.SimpleQueue()
        self.statuses: queue.SimpleQueue[FeedStatus] = queue.SimpleQueue()

    def sink(self, change: Change) -> None:
        self.changes.put((time.perf_counter(), change))

    def status(self, status: FeedStatus) -> None:
        self.statuses.put(status)

    def wait_for(self, table: str, row_id: int, timeout: float = 5.0) -> tuple[float, Change]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no change of {table} {row_id} within {timeout} s")
            try:
                at, change = self.changes.get(timeout=left)
            except queue.Empty:
                continue
            if change.table == table and change.id == row_id:
                return at, change

    def wait_state(self, state: str, timeout: float = 10.0) -> FeedStatus:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = self.statuses.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if status.state == state:
                return status
        raise AssertionError(f"the feed did not become {state} within {timeout} s")


def _listen(db: Database, inbox: Inbox, **options: object) -> ChangeListener:
    settings: dict[str, object] = {"initial_backoff": 0.1, "max_backoff": 1.0, **options}
    listener = ChangeListener(db.url, inbox.sink, on_status=inbox.status, **settings)  # type: ignore[arg-type]
    listener.start()
    assert listener.connected.wait(5), "the listener did not connect"
    return listener


def test_a_change_in_one_client_arrives_in_the_other_within_500_ms(team: TeamDatabase) -> None:
    agent, backoffice = team.login(Role.AGENT), team.login(Role.BACKOFFICE)
    inbox = Inbox()
    listener = _listen(agent, inbox)  # the agent's client watches as the agent
    try:
        with backoffice.session() as s:
            contact = records.create_contact(s, records.ContactInput(last_name="Berg"))
            t0 = time.perf_counter()
        at, change = inbox.wait_for("contact", contact.id)
        assert change == Change("contact", contact.id, "insert", 1)
        assert at - t0 < LIMIT
        for version in (2, 3):
            with backoffice.session() as s:
                records.update_contact(
                    s, contact.id, version - 1, records.ContactInput(last_name=f"Berg {version}")
                )
                t0 = time.perf_counter()
            at, change = inbox.wait_for("contact", contact.id)
            assert (change.op, change.version) == ("update", version)
            assert at - t0 < LIMIT
        with agent.session() as s:  # history and tickets too, whoever writes them
            entry, _ = log_interaction(
                s, InteractionInput(kind=InteractionKind.CALL, contact_id=contact.id)
            )
            s.add(ticket := Ticket(number="T-9", subject="x"))
            s.flush()
        assert inbox.wait_for("interaction", entry.id)[1].op == "insert"
        assert inbox.wait_for("ticket", ticket.id)[1].op == "insert"
        with backoffice.session() as s:
            records.delete_contact(s, contact.id, 3)
        assert inbox.wait_for("contact", contact.id)[1].op == "delete"
    finally:
        listener.stop()
    assert inbox.wait_state("stopped", 1).state == "stopped"


def test_a_cut_connection_reconnects_and_catches_up(team: TeamDatabase) -> None:
    agent, backoffice = team.login(Role.AGENT), team.login(Role.BACKOFFICE)
    inbox = Inbox()
    listener = _listen(agent, inbox, initial_backoff=1.0)
    try:
        inbox.wait_state("connected")
        with team.owner.engine.begin() as conn:  # the network drops the listener's connection
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'desktop_crm changes' AND datname = current_database()"
                )
            )
        status = inbox.wait_state("disconnected")
        assert status.retry_in is not None and status.retry_in >= 0.5
        with backoffice.session() as s:  # saved while nobody listens
            missed = records.create_contact(s, records.ContactInput(last_name="Verpasst"))
        inbox.wait_state("connected")
        _, change = inbox.wait_for("contact", missed.id)
        assert change.catch_up and change.op == "insert"
        with backoffice.session() as s:  # and live again afterwards
            records.update_contact(s, missed.id, 1, records.ContactInput(last_name="Live"))
            t0 = time.perf_counter()
        at, change = inbox.wait_for("contact", missed.id)
        assert not change.catch_up and at - t0 < LIMIT
        assert listener.reconnects == 1
    finally:
        listener.stop()


def test_stop_returns_within_a_second_while_the_server_is_unreachable() -> None:
    from sqlalchemy.engine import make_url

    from tests.helpers.postgres import free_port

    inbox = Inbox()
    url = make_url(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/crm")
    listener = ChangeListener(url, inbox.sink, on_status=inbox.status, initial_backoff=5)
    listener.start()
    status = inbox.wait_state("disconnected")
    assert "127.0.0.1" in status.detail or "refused" in status.detail.lower()
    t0 = time.monotonic()
    listener.stop()
    assert time.monotonic() - t0 < 1.0


@pytest.fixture(scope="module")
def restartable() -> Iterator[PostgresServer]:
    with postgres_server(private=True) as server:
        if isinstance(server, str):
            unavailable(server)
        assert isinstance(server, PostgresServer)
        yield server


def test_changes_arrive_after_a_server_restart(restartable: PostgresServer) -> None:
    template = restartable.new_database()
    db = Database(restartable.url_for(template))
    db.upgrade()
    db.dispose()
    with team_database(restartable, template) as team:
        agent, backoffice = team.login(Role.AGENT), team.login(Role.BACKOFFICE)
        inbox = Inbox()
        listener = _listen(agent, inbox)
        try:
            restartable.restart(down_seconds=1.0)
            inbox.wait_state("disconnected")
            inbox.wait_state("connected", timeout=15)
            backoffice.engine.dispose()  # the pool's connections died with the server
            with backoffice.session() as s:
                contact = records.create_contact(s, records.ContactInput(last_name="Neustart"))
                t0 = time.perf_counter()
            at, change = inbox.wait_for("contact", contact.id)
            assert change.op == "insert" and at - t0 < LIMIT
        finally:
            listener.stop()

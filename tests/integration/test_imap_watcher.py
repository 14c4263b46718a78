"""The IMAP watcher against a real, private Dovecot on 127.0.0.1 (issue 5's "Must show").

Every test starts its own Dovecot (tests/helpers/dovecot.py) and a watcher on a fresh database;
mail is put in with IMAP APPEND (what a mail server's delivery looks like to IDLE) or, for big
backlogs, straight into the maildir.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from email.utils import format_datetime

import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.mail_store import list_unassigned
from desktop_crm.data.models import (
    Direction,
    Interaction,
    InteractionKind,
    MailFolderState,
    MailMessage,
    MailSkip,
)
from desktop_crm.data.records import ContactInput, EmailInput, OrganizationInput
from desktop_crm.mail.events import MailEvent, MailOutcome, MailState, MailStatus
from desktop_crm.mail.watcher import ImapAccount, ImapWatcher
from tests.helpers import integration
from tests.helpers.dovecot import DovecotServer

pytestmark = pytest.mark.integration

ANNA = "anna.schaefer@mueller-anlagenbau.de"
BERND = "bernd.klein@web.de"


class Recorder:
    """A sink that remembers everything and lets a test wait for what it expects."""

    def __init__(self) -> None:
        self.items: list[MailEvent | MailStatus] = []
        self._changed = threading.Condition()

    def __call__(self, item: MailEvent | MailStatus) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    @property
    def mails(self) -> list[MailEvent]:
        return [i for i in list(self.items) if isinstance(i, MailEvent)]

    @property
    def statuses(self) -> list[MailStatus]:
        return [i for i in list(self.items) if isinstance(i, MailStatus)]

    def wait(self, predicate: Callable[[Recorder], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    shown = "\n".join(repr(i)[:300] for i in self.items[-15:])
                    raise AssertionError(f"timed out; last items:\n{shown}")
                self._changed.wait(left)

    def wait_state(self, state: MailState, timeout: float = 10.0, after: int = 0) -> MailStatus:
        def seen(r: Recorder) -> bool:
            return any(s.state is state for s in r.statuses[after:])

        self.wait(seen, timeout)
        return next(s for s in self.statuses[after:] if s.state is state)


@pytest.fixture
def mail_db(request: pytest.FixtureRequest) -> Database:
    """SQLite, or PostgreSQL where a test is parametrized with ``indirect=True``."""
    backend = getattr(request, "param", "sqlite")
    return request.getfixturevalue("sqlite_db" if backend == "sqlite" else "pg_db")  # type: ignore[no-any-return]


BOTH = pytest.mark.parametrize("mail_db", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def crm(mail_db: Database) -> dict[str, int]:
    with mail_db.session() as s:
        company = records.create_organization(
            s,
            OrganizationInput(
                name="Müller Anlagenbau GmbH",
                domains=["mueller-anlagenbau.de"],
                emails=[EmailInput("info@mueller-anlagenbau.de")],
            ),
        )
        anna = records.create_contact(
            s,
            ContactInput(
                first_name="Anna",
                last_name="Schäfer",
                organization_id=company.id,
                emails=[EmailInput(ANNA)],
            ),
        )
        bernd = records.create_contact(
            s, ContactInput(first_name="Bernd", last_name="Klein", emails=[EmailInput(BERND)])
        )
        return {"company": company.id, "anna": anna.id, "bernd": bernd.id}


def account(server: DovecotServer, **changes: object) -> ImapAccount:
    base = ImapAccount(
        name="office",
        host=server.host,
        port=server.port,
        tls="none",
        user="anna",
        secret="imap-anna",
        folders=("INBOX", "Sent"),
        poll_seconds=1.0,
        lookback_days=30,
        timeout=5.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def run_watcher(
    mail_db: Database, dovecot: DovecotServer
) -> Iterator[Callable[..., tuple[ImapWatcher, Recorder]]]:
    started: list[ImapWatcher] = []

    def run(
        acct: ImapAccount | None = None, password: str | None = None, **kwargs: object
    ) -> tuple[ImapWatcher, Recorder]:
        secret = password if password is not None else dovecot.user("anna").password
        watcher = ImapWatcher(
            acct or account(dovecot),
            mail_db,
            lambda: secret,
            min_backoff=0.2,
            max_backoff=1.0,
            **kwargs,  # type: ignore[arg-type]
        )
        recorder = Recorder()
        watcher.start(recorder)
        started.append(watcher)
        return watcher, recorder

    yield run
    for watcher in started:
        watcher.stop()


def imap(server: DovecotServer, user: str = "anna") -> IMAPClient:
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=5)
    client.login(user, server.user(user).password)
    return client


def message(
    sender: str,
    subject: str,
    *,
    to: str = "anna@crm.test",
    message_id: str | None = None,
    extra: str = "",
    body: str = "Guten Tag,\r\nbitte um Rückruf.\r\n",
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(time_now())}",
    ]
    if message_id is not None:
        lines.append(f"Message-ID: <{message_id}>")
    if extra:
        lines.append(extra.rstrip("\r\n"))
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", ""]
    return ("\r\n".join(lines) + "\r\n" + body).encode("utf-8")


def time_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def mail_rows(db: Database, contact_id: int | None = None) -> list[Interaction]:
    with db.session() as s:
        query = select(Interaction).where(Interaction.kind == InteractionKind.EMAIL)
        if contact_id is not None:
            query = query.where(Interaction.contact_id == contact_id)
        return list(s.scalars(query.order_by(Interaction.id)))


# --- must show: idle push within 2 s ----------------------------------------------------------


@BOTH
def test_mail_appended_while_idling_is_in_the_contacts_history_within_2s(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    watcher, rec = run_watcher()
    rec.wait_state(MailState.IDLE)
    with imap(dovecot) as client:
        appended = time.monotonic()
        client.append("INBOX", message(f"Anna Schäfer <{ANNA}>", "Angebot 4711", message_id="a1@x"))
    rec.wait(lambda r: any(m.message_id == "a1@x" for m in r.mails), timeout=2.0)
    elapsed = time.monotonic() - appended
    event = next(m for m in rec.mails if m.message_id == "a1@x")
    assert elapsed < 2.0
    assert event.outcome is MailOutcome.LOGGED
    assert event.popup and not event.backlog
    assert event.best is not None and event.best.contact_id == crm["anna"]
    rows = mail_rows(mail_db, crm["anna"])
    assert [(r.subject, r.direction) for r in rows] == [("Angebot 4711", Direction.INBOUND)]
    assert "bitte um Rückruf" in rows[0].body
    assert rows[0].id in event.interaction_ids
    assert event.to_json()["matches"][0]["contact_id"] == crm["anna"]
    started = time.monotonic()
    watcher.stop()  # while idling
    assert time.monotonic() - started < 1.0
    assert not watcher.running
    assert rec.statuses[-1].state is MailState.STOPPED


# --- must show: restart of Dovecot and of the watcher -------------------------------------------


@BOTH
def test_restarting_dovecot_and_the_watcher_loses_none_and_duplicates_none(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    def ids(r: Recorder) -> set[str]:
        return {m.message_id for m in r.mails}

    with imap(dovecot) as client:
        for n in range(3):
            client.append("INBOX", message(ANNA, f"vorher {n}", message_id=f"before-{n}@x"))
    watcher, rec = run_watcher()
    rec.wait(lambda r: ids(r) >= {f"before-{n}@x" for n in range(3)})
    rec.wait_state(MailState.IDLE)

    dovecot.stop()
    mark = len(rec.statuses)
    reconnecting = rec.wait_state(MailState.RECONNECTING, after=mark)
    assert "connection" in reconnecting.reason or "reach" in reconnecting.reason
    # mail arrives while the server is down (delivered into the maildir) ...
    for n in range(3):
        dovecot.deliver("anna", message(BERND, f"waehrenddessen {n}", message_id=f"during-{n}@x"))
    dovecot.start()
    # ... and is caught up after the reconnect, as is mail arriving afterwards
    rec.wait(lambda r: ids(r) >= {f"during-{n}@x" for n in range(3)}, timeout=15)
    rec.wait_state(MailState.IDLE, after=mark)
    with imap(dovecot) as client:
        client.append("INBOX", message(ANNA, "nachher", message_id="after@x"))
    rec.wait(lambda r: "after@x" in ids(r))
    watcher.stop()

    # mail while the watcher is away, then a new watcher on the same database
    with imap(dovecot) as client:
        client.append("INBOX", message(BERND, "offline", message_id="offline@x"))
    second, rec2 = run_watcher()
    rec2.wait(lambda r: "offline@x" in ids(r))
    rec2.wait_state(MailState.IDLE)
    second.stop()

    assert ids(rec2) == {"offline@x"}  # nothing repeated
    assert sorted(m.message_id for m in rec.mails) == sorted(ids(rec))  # no event twice
    rows = mail_rows(mail_db)
    external = [r.external_id for r in rows]
    assert len(external) == len(set(external)) == 8
    assert len(mail_rows(mail_db, crm["anna"])) == 4
    assert len(mail_rows(mail_db, crm["bernd"])) == 4


# --- must show: tricky From headers, real samples and written cases ------------------------------

SAMPLES = {
    "flanker-encoded-header.eml": ("foo.bar@example.com", "Foo, Bar", None),
    "flanker-from-encoding.eml": ("ingo@blank.pages.de", "Ingo Lütkebohle", "automated"),
    "flanker-mailformed-headers.eml": ("headers@gmail.com", None, None),
    "flanker-bounce-mailbox-full.eml": ("mailer-daemon@aol.com", None, "automated"),
    "flanker-bounce-delayed.eml": ("mailer-daemon@cs.example.com", None, "automated"),
    "flanker-complaint-aol.eml": ("scomp@aol.net", None, "automated"),
    "flanker-apache-message-news-mime.eml": ("hartill@lanl.gov", "Rob Hartill", "automated"),
    "flanker-attached-pdf-no-from.eml": (None, None, None),
    "flanker-torture-part.eml": ("mrc@cac.washington.edu", "Mark Crispin", None),
    "flanker-spam-broken-headers.eml": ("admin@advertise-bz.cn", "Link Directory SUbmitter", None),
}

WRITTEN = {
    # encoded-words split over several words (a UTF-8 character split between two of them)
    "split": (
        b"From: =?UTF-8?B?SsO2cmc=?= =?UTF-8?Q?_M=C3=BCl?= =?UTF-8?Q?ler=C3?=\r\n"
        b" =?UTF-8?Q?=9F?= <" + ANNA.encode() + b">\r\n",
        ANNA,
        "Jörg Müllerß",
    ),
    # a display name that is an address: the real one is in brackets
    "lookalike": (b"From: " + BERND.encode() + b" <" + ANNA.encode() + b">\r\n", ANNA, BERND),
    # obsolete syntax: white space before the colon
    "obsolete": (b"From  : Bernd Klein <" + BERND.encode() + b">\r\n", BERND, "Bernd Klein"),
    # Windows-1252 encoded-word and raw 8-bit Latin-1
    "cp1252": (
        b"From: =?windows-1252?Q?Gr=FC=DFe_=96_B?= <" + BERND.encode() + b">\r\n",
        BERND,
        "Grüße – B",
    ),
    "raw8bit": (b"From: J\xfcrgen Wei\xdf <" + BERND.encode() + b">\r\n", BERND, "Jürgen Weiß"),
    # Sender and Reply-To are not the author
    "sender": (
        b"From: Anna <" + ANNA.encode() + b">\r\nSender: list-bounces@lists.example.org\r\n"
        b"Reply-To: bernd.klein@web.de\r\n",
        ANNA,
        "Anna",
    ),
}


@BOTH
def test_tricky_from_headers_are_attributed_correctly(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    folder = integration.testdata("mail-samples")
    for name in SAMPLES:
        dovecot.deliver("anna", (folder / name).read_bytes())
    for key, (header, _address, _name) in WRITTEN.items():
        raw = (
            header
            + f"To: anna@crm.test\r\nSubject: {key}\r\nMessage-ID: <{key}@written>\r\n".encode()
            + f"Date: {format_datetime(time_now())}\r\n\r\nText {key}\r\n".encode()
        )
        dovecot.deliver("anna", raw)
    # the samples are old: read everything there is
    _watcher, rec = run_watcher(account(dovecot, lookback_days=20000))
    total = len(SAMPLES) + len(WRITTEN)
    rec.wait(lambda r: len(r.mails) >= total)
    rec.wait_state(MailState.IDLE)
    by_subject = {m.subject: m for m in rec.mails}
    by_message_id = {m.message_id: m for m in rec.mails}
    for key, (_header, address, name) in WRITTEN.items():
        event = by_subject[key]
        assert event.sender == address, key
        assert event.sender_name == name, key
        expected = crm["anna"] if address == ANNA else crm["bernd"]
        assert event.outcome is MailOutcome.LOGGED, key
        assert event.best is not None and event.best.contact_id == expected, key
    seen_senders = {m.sender for m in rec.mails}
    for name, (address, display, verdict) in SAMPLES.items():
        assert address in seen_senders, name
        event = next(m for m in rec.mails if m.sender == address)
        if display is not None:
            assert event.sender_name == display, name
        if verdict == "automated":
            assert event.outcome is MailOutcome.AUTOMATED, name
        else:
            assert event.outcome is MailOutcome.UNASSIGNED, name
    no_from = next(m for m in rec.mails if m.sender is None)
    assert no_from.reason == "no sender address"
    assert no_from.message_id.startswith("synthetic:")
    assert no_from.attachments == ("test.pdf",)
    assert "Test - body content" in no_from.snippet
    with mail_db.session() as s:
        waiting = {row.sender for row in list_unassigned(s)}
    assert waiting == {
        "",
        "foo.bar@example.com",
        "headers@gmail.com",
        "mrc@cac.washington.edu",
        "admin@advertise-bz.cn",
    }
    assert by_message_id["split@written"].popup is False  # the first scan is backlog: no pop-ups


# --- sent mail -------------------------------------------------------------------------------


def test_sent_mail_is_logged_outgoing_on_each_known_recipient_once(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    sent = message(
        "Support <support@crm.test>",
        "Ihr Angebot",
        to=f"Anna <{ANNA}>, unbekannt@example.org",
        message_id="out-1@crm.test",
        extra=f"Cc: {BERND}, nobody@elsewhere.example, info@mueller-anlagenbau.de",
    )
    with imap(dovecot) as client:
        client.append("Sent", sent)
        client.append("INBOX", sent)  # a copy to ourselves: the same Message-ID
    _watcher, rec = run_watcher()
    rec.wait(lambda r: sum(m.message_id == "out-1@crm.test" for m in r.mails) == 2)
    rec.wait_state(MailState.IDLE)
    outgoing = next(m for m in rec.mails if m.direction == "outbound")
    # To: Anna (known), an unknown address (nothing); Cc: Bernd's stored address, an unknown
    # address (never a new contact), the company's stored info@ address
    assert {(m.record.kind, m.record.id) for m in outgoing.matches} == {
        ("contact", crm["anna"]),
        ("contact", crm["bernd"]),
        ("organization", crm["company"]),
    }
    rows = mail_rows(mail_db)
    assert {(r.contact_id, r.organization_id, r.direction) for r in rows} == {
        (crm["anna"], crm["company"], Direction.OUTBOUND),
        (crm["bernd"], None, Direction.OUTBOUND),
        (None, crm["company"], Direction.OUTBOUND),
    }
    assert {r.remote for r in rows} == {ANNA, BERND, "info@mueller-anlagenbau.de"}
    with mail_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MailMessage)) == 1
        assert list_unassigned(s) == []  # the copy in INBOX is ours, not an unknown sender's
    with mail_db.session() as s:  # CC recipients never became contacts
        assert records.get_contact(s, crm["bernd"]).last_name == "Klein"
        from desktop_crm.data.models import Contact

        assert s.scalar(select(func.count()).select_from(Contact)) == 2


# --- connection trouble ----------------------------------------------------------------------


def test_wrong_password_is_said_in_words_and_retried(
    dovecot: DovecotServer,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = dovecot.user("anna").password
    watcher, rec = run_watcher(password="not-" + secret)
    status = rec.wait_state(MailState.RECONNECTING)
    assert "wrong user name or password" in status.reason
    assert status.retry_in is not None and status.retry_in > 0
    assert status.to_json()["event"] == "mail.status"
    watcher.stop()
    assert secret not in caplog.text and secret not in repr(rec.items)


def test_unreachable_server_is_said_in_words(
    dovecot: DovecotServer, run_watcher: Callable[..., tuple[ImapWatcher, Recorder]]
) -> None:
    dovecot.stop()
    watcher, rec = run_watcher()
    status = rec.wait_state(MailState.RECONNECTING)
    assert "connection refused" in status.reason
    started = time.monotonic()
    watcher.stop()
    assert time.monotonic() - started < 1.0


def test_untrusted_certificate_is_refused_and_ca_file_or_opt_out_accepts_it(
    dovecot: DovecotServer,
    crm: dict[str, int],
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    implicit = account(dovecot, tls="implicit", port=dovecot.tls_port)
    _w, rec = run_watcher(implicit)
    status = rec.wait_state(MailState.RECONNECTING)
    assert "certificate" in status.reason and "not trusted" in status.reason
    _w.stop()
    for acct in (
        replace(implicit, ca_file=str(dovecot.cert_path)),
        replace(implicit, verify_certificate=False),
        account(dovecot, tls="starttls", ca_file=str(dovecot.cert_path)),
    ):
        w, rec = run_watcher(acct)
        rec.wait_state(MailState.IDLE)
        assert not any(s.state is MailState.RECONNECTING for s in rec.statuses)
        w.stop()


def test_polling_when_idle_is_off(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    _watcher, rec = run_watcher(account(dovecot, idle=False, poll_seconds=1.0))
    rec.wait_state(MailState.POLLING)
    with imap(dovecot) as client:
        client.append("INBOX", message(ANNA, "gepollt", message_id="poll@x"))
    rec.wait(lambda r: any(m.message_id == "poll@x" for m in r.mails), timeout=5)
    assert len(mail_rows(mail_db, crm["anna"])) == 1


def test_polling_when_the_server_offers_no_idle(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    dovecot.reconfigure("imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+")
    with imap(dovecot) as client:
        assert not client.has_capability("IDLE")
    _watcher, rec = run_watcher(account(dovecot, poll_seconds=1.0))
    rec.wait_state(MailState.POLLING)
    with imap(dovecot) as client:
        client.append("INBOX", message(ANNA, "ohne IDLE", message_id="noidle@x"))
    rec.wait(lambda r: any(m.message_id == "noidle@x" for m in r.mails), timeout=5)
    assert not any(s.state is MailState.IDLE for s in rec.statuses)


# --- bad input, renumbered folders ----------------------------------------------------------


def test_a_bad_or_too_large_message_is_skipped_once_and_the_next_one_processed(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    with imap(dovecot) as client:
        client.append("INBOX", message(ANNA, "riesig", message_id="big@x", body="x" * 50_000))
        client.append("INBOX", b"this is no mail at all, no header, nothing\r\n")
        client.append(
            "INBOX",
            message(
                ANNA, "kaputter Zeichensatz", message_id="charset@x", extra="X-Foo: bar"
            ).replace(b"charset=utf-8", b"charset=x-no-such-charset"),
        )
        client.append("INBOX", message(ANNA, "danach", message_id="next@x"))
    watcher, rec = run_watcher(account(dovecot, max_message_bytes=20_000))
    rec.wait(lambda r: any(m.message_id == "next@x" for m in r.mails))
    rec.wait_state(MailState.IDLE)
    watcher.stop()
    with mail_db.session() as s:
        skips = {row.uid: row.reason for row in s.scalars(select(MailSkip))}
    assert sorted(skips) == [1, 2]
    assert "too large" in skips[1]
    assert "no header" in skips[2] or "not a mail" in skips[2]
    subjects = sorted(r.subject for r in mail_rows(mail_db, crm["anna"]))
    assert subjects == ["danach", "kaputter Zeichensatz"]
    # a restarted watcher does not try them again
    again, rec2 = run_watcher(account(dovecot, max_message_bytes=20_000))
    rec2.wait_state(MailState.IDLE)
    again.stop()
    assert rec2.mails == []
    assert again.stats.skipped == 0


def test_a_renumbered_folder_is_read_again_without_logging_twice(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    with imap(dovecot) as client:
        for n in range(3):
            client.append("INBOX", message(ANNA, f"m{n}", message_id=f"m{n}@x"))
        client.append("INBOX", message("fremd@example.org", "wer?", message_id="who@x"))
    watcher, rec = run_watcher()
    rec.wait(lambda r: len(r.mails) == 4)
    rec.wait_state(MailState.IDLE)
    watcher.stop()
    with mail_db.session() as s:
        before = s.scalar(
            select(MailFolderState.uidvalidity).where(MailFolderState.folder == "INBOX")
        )
    dovecot.renumber("anna", "INBOX")  # a rebuilt server: new UIDVALIDITY, UIDs from 1 again
    with imap(dovecot) as client:
        assert client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"] != before
    again, rec2 = run_watcher()
    rec2.wait(lambda r: len(r.mails) == 4)
    rec2.wait_state(MailState.IDLE)
    with imap(dovecot) as client:  # and what comes after the renumbering is read as usual
        client.append("INBOX", message(ANNA, "danach", message_id="after-renumber@x"))
    rec2.wait(lambda r: len(r.mails) == 5)
    again.stop()
    assert not rec2.mails[-1].backlog
    assert all(m.backlog for m in rec2.mails[:4])
    assert len(mail_rows(mail_db, crm["anna"])) == 4
    with mail_db.session() as s:
        assert len(list_unassigned(s)) == 1


# --- must show: a backlog with progress --------------------------------------------------------


def test_a_backlog_is_read_with_progress_and_without_downloading_bodies(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attachment = "A" * 200_000  # a big attachment that must never be fetched
    for n in range(600):
        sender = ANNA if n % 3 == 0 else f"kunde{n}@example.org"
        raw = message(
            sender,
            f"Backlog {n}",
            message_id=f"backlog-{n}@x",
            body=f"Nachricht {n}\r\n",
        )
        if n % 100 == 0:
            raw = raw.replace(
                b"Content-Type: text/plain; charset=utf-8\r\n\r\n",
                b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
                b"Content-Type: text/plain; charset=utf-8\r\n\r\n",
            ) + (
                b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
                b'filename="gross.pdf"\r\n\r\n' + attachment.encode() + b"\r\n--b--\r\n"
            )
        dovecot.deliver("anna", raw)
    asked: list[str] = []
    original = IMAPClient.fetch

    def fetch(client, messages, data, modifiers=None):  # type: ignore[no-untyped-def]
        asked.extend(data)
        return original(client, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", fetch)
    _watcher, rec = run_watcher(batch=100)
    rec.wait(lambda r: len(r.mails) == 600, timeout=60)
    rec.wait_state(MailState.IDLE)
    progress = [s for s in rec.statuses if s.state is MailState.SCANNING and s.folder == "INBOX"]
    assert [p.done for p in progress] == [0, 100, 200, 300, 400, 500, 600]
    assert all(p.total == 600 for p in progress)
    assert len(mail_rows(mail_db, crm["anna"])) == 200
    big = next(m for m in rec.mails if m.message_id == "backlog-100@x")
    assert big.attachments == ("gross.pdf",) and big.snippet == "Nachricht 100"
    # never a whole message: headers, structure, and the first bytes of one part
    partial = re.compile(r"BODY\.PEEK\[(TEXT|[0-9.]+)\]<0\.\d+>")
    plain = {"RFC822.SIZE", "INTERNALDATE", "BODYSTRUCTURE", "BODY.PEEK[HEADER]"}
    assert asked and all(item in plain or partial.fullmatch(item) for item in asked), set(asked)
    assert not any(m.popup for m in rec.mails)


def test_stopping_in_the_middle_of_a_scan_is_quick_and_the_next_start_goes_on(
    dovecot: DovecotServer,
    crm: dict[str, int],
    mail_db: Database,
    run_watcher: Callable[..., tuple[ImapWatcher, Recorder]],
) -> None:
    for n in range(1500):
        sender = ANNA if n % 2 else f"kunde{n}@example.org"
        dovecot.deliver("anna", message(sender, f"Scan {n}", message_id=f"scan-{n}@x"))
    watcher, rec = run_watcher(batch=100)
    rec.wait(
        lambda r: any(s.state is MailState.SCANNING and s.done >= 200 for s in r.statuses),
        timeout=30,
    )
    started = time.monotonic()
    watcher.stop()
    assert time.monotonic() - started < 1.0
    assert not watcher.running
    first = {m.message_id for m in rec.mails}
    assert 0 < len(first) < 1500
    again, rec2 = run_watcher(batch=100)
    rec2.wait(lambda r: len(first | {m.message_id for m in r.mails}) == 1500, timeout=60)
    rec2.wait_state(MailState.IDLE)
    again.stop()
    assert not first & {m.message_id for m in rec2.mails}  # nothing read twice
    rows = mail_rows(mail_db, crm["anna"])
    assert len(rows) == len({r.external_id for r in rows}) == 750
    with mail_db.session() as s:
        assert len(list_unassigned(s, limit=10_000)) == 750

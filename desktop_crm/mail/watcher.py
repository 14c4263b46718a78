"""The IMAP watcher: one thread per account, IDLE where offered, polling otherwise.

Per folder the UIDVALIDITY and the last UID handled are stored in the database (in the same
transaction as the mail a batch logged), so a restart neither loses nor repeats mail; a changed
UIDVALIDITY means the server renumbered the folder, which is read again within the look-back
window (Message-IDs keep that from logging anything twice).

Only what is needed to decide is fetched: size, arrival time, BODYSTRUCTURE, the header block
and the first KiB of the body (for the synthetic id of a mail without Message-ID); then, for
mail that will be kept, the first 16 KiB of its text part. Attachments are never downloaded.

A bad message (unparseable, undecodable, too large) is logged with its folder and UID, stored
as skipped with the reason, and passed over; it is never retried. A lost connection, a
restarted server, a wrong password or an untrusted certificate end the connection, not the
thread: it says why in a :class:`MailStatus` and tries again with exponential backoff and
jitter. ``stop()`` returns within a second: IDLE waits in half-second steps, and a blocking
read is cut off by shutting the socket down.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, LoginError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from desktop_crm.data.db import Database
from desktop_crm.data.mail_store import folder_state, record_skip, save_folder_state
from desktop_crm.data.models import MailDirection

from .events import MailEvent, MailSink, MailState, MailStatus
from .maillog import handle_mail
from .message import (
    SNIPPET_FETCH_BYTES,
    MessageError,
    ParsedMail,
    attachments_from_structure,
    parse_headers,
    snippet_from_part,
    text_section,
)

log = logging.getLogger(__name__)

STOP_TIMEOUT = 1.0
IDLE_STEP = 0.5  # seconds per IDLE wait, so stop() is seen quickly
MAX_IDLE_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
BATCH = 200  # messages per FETCH and per database transaction
SENT_NAMES = frozenset(
    {
        "sent",
        "sent items",
        "sent mail",
        "sent messages",
        "gesendet",
        "gesendete objekte",
        "gesendete elemente",
        "gesendete nachrichten",
    }
)


class PasswordMissing(Exception):
    """No password could be had for the account (keyring entry missing); the message says how
    to store one."""


@dataclass(frozen=True)
class ImapAccount:
    """One ``[[imap]]`` table of the settings."""

    name: str
    host: str
    user: str
    secret: str = ""
    port: int = 0
    tls: str = "implicit"
    folders: tuple[str, ...] = ("INBOX", "Sent")
    verify_certificate: bool = True
    ca_file: str = ""
    lookback_days: int = 90
    poll_seconds: float = 60.0
    idle: bool = True
    max_message_bytes: int = 50 * 1024 * 1024
    timeout: float = 30.0

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.tls == "implicit" else 143)

    @property
    def source(self) -> str:
        return f"imap:{self.name}"

    @classmethod
    def from_settings(cls, entry: dict[str, Any], where: str = "[[imap]]") -> ImapAccount:
        missing = [key for key in ("host", "user", "secret") if not str(entry.get(key, ""))]
        if missing:
            raise ValueError(f"{where}: {', '.join(missing)} must be set")
        if entry.get("tls", "implicit") not in ("implicit", "starttls", "none"):
            raise ValueError(f"{where}.tls: must be implicit, starttls or none")
        if len(str(entry.get("name") or "mail")) > 60:
            raise ValueError(f"{where}.name: at most 60 characters")
        folders = tuple(entry.get("folders") or ("INBOX",))
        if int(entry.get("poll_seconds", 60)) < 1 or int(entry.get("lookback_days", 90)) < 0:
            raise ValueError(f"{where}: poll_seconds must be 1 or more, lookback_days 0 or more")
        return cls(
            name=str(entry.get("name") or "mail"),
            host=str(entry["host"]),
            user=str(entry["user"]),
            secret=str(entry["secret"]),
            port=int(entry.get("port", 0)),
            tls=str(entry.get("tls", "implicit")),
            folders=folders,
            verify_certificate=bool(entry.get("verify_certificate", True)),
            ca_file=str(entry.get("ca_file", "")),
            lookback_days=int(entry.get("lookback_days", 90)),
            poll_seconds=float(entry.get("poll_seconds", 60)),
            idle=bool(entry.get("idle", True)),
            max_message_bytes=int(entry.get("max_message_bytes", 50 * 1024 * 1024)),
        )


def accounts_from_settings(entries: Sequence[dict[str, Any]]) -> list[ImapAccount]:
    """The ``[[imap]]`` tables as accounts; names must be unique (they key the read state)."""
    accounts = [
        ImapAccount.from_settings(entry, f"[[imap]] #{number}")
        for number, entry in enumerate(entries, start=1)
    ]
    names = [a.name for a in accounts]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"[[imap]] name {duplicates[0]!r} is used twice; give each a name")
    return accounts


class _ConnectionLost(Exception):
    pass


class _Stopping(Exception):
    pass


def describe_error(exc: BaseException, account: ImapAccount) -> str:
    """Why a connection failed, in words (never with the password)."""
    where = f"{account.host}:{account.effective_port}"
    if isinstance(exc, PasswordMissing):
        return str(exc)
    if isinstance(exc, LoginError):
        detail = str(exc).strip("b'\"")
        return f"wrong user name or password for {account.user!r} at {where} ({detail})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate of {where} not trusted: {exc.verify_message or exc.reason}; set "
            "ca_file to its certificate (or verify_certificate = false for a self-signed "
            "office server)"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc}"
    if isinstance(exc, CapabilityError) and "STARTTLS" in str(exc).upper():
        return f"{where} does not offer STARTTLS (set tls = implicit, or none for a local server)"
    if isinstance(exc, socket.gaierror):
        return f"cannot reach {where}: unknown host ({exc.strerror})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"cannot reach {where}: no answer (timeout)"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot reach {where}: connection refused"
    if isinstance(exc, _ConnectionLost | imaplib.IMAP4.abort | ConnectionError | EOFError):
        return f"connection to {where} lost ({exc or type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"cannot reach {where}: {exc.strerror or exc}"
    if isinstance(exc, DBAPIError):
        return f"database unavailable: {str(exc.orig).splitlines()[0] if exc.orig else exc}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class _Folder:
    name: str
    sent: bool


@dataclass
class _Fetched:
    uid: int
    mail: ParsedMail | None = None
    reason: str = ""  # why skipped
    structure: Any = None
    size: int = 0


@dataclass
class WatcherStats:
    processed: int = 0
    skipped: int = 0
    connects: int = 0
    last_error: str = ""


class ImapWatcher:
    """Watches one account's folders in a thread of its own (``start(sink)``, ``stop()``)."""

    def __init__(
        self,
        account: ImapAccount,
        db: Database,
        password: Callable[[], str],
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 300.0,
        batch: int = BATCH,
    ) -> None:
        self.account = account
        self.name = account.source
        self._db = db
        self._password = password
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: MailSink | None = None
        self._client: IMAPClient | None = None
        self._client_lock = threading.Lock()
        self._last_status: tuple[MailState, str] | None = None
        self._warned_folders: set[str] = set()
        self.stats = WatcherStats()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, sink: MailSink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"mail-{self.account.name}")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop and join; returns within a second (a blocking read is cut off)."""
        self._stop.set()
        with self._client_lock:
            client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                client.socket().shutdown(socket.SHUT_RDWR)
        thread = self._thread
        if thread is not None:
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", self.name, STOP_TIMEOUT)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- delivery ------------------------------------------------------------------------

    def _emit(self, item: MailEvent | MailStatus) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(item)
        except Exception:  # whoever listens, the watcher goes on
            log.warning("%s: the sink refused an event", self.name, exc_info=True)

    def _status(self, state: MailState, reason: str = "", **extra: Any) -> None:
        progress = "done" in extra
        if not progress and self._last_status == (state, reason):
            return
        self._last_status = (state, reason)
        self._emit(MailStatus(self.account.name, state, reason, **extra))

    # --- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._status(MailState.CONNECTING)
            try:
                client = self._connect()
                self.stats.connects += 1
                attempt = 0
                self._watch(client)
            except _Stopping:
                break
            except Exception as exc:
                if self._stop.is_set():
                    break
                reason = describe_error(exc, self.account)
                self.stats.last_error = reason
                attempt += 1
                floor = self._min_backoff
                if isinstance(exc, LoginError | PasswordMissing):
                    floor = max(floor, min(30.0, self._max_backoff))  # do not hammer a login
                delay = min(self._max_backoff, floor * 2 ** min(attempt - 1, 16))
                delay *= random.uniform(0.5, 1.0)  # jitter: many clients do not retry at once
                log.warning("%s: %s; trying again in %.1f s", self.name, reason, delay)
                self._status(MailState.RECONNECTING, reason, retry_in=round(delay, 1))
                self._stop.wait(delay)
            finally:
                self._close()
        self._status(MailState.STOPPED)

    def _close(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.socket().settimeout(0.5)
                client.logout()
            with contextlib.suppress(Exception):
                client.shutdown()

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise _Stopping

    def _ssl_context(self) -> ssl.SSLContext:
        account = self.account
        context = ssl.create_default_context(cafile=account.ca_file or None)
        if not account.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> IMAPClient:
        account = self.account
        try:  # every time: a corrected keyring entry is picked up
            password = self._password()
        except Exception as exc:
            raise PasswordMissing(str(exc)) from exc
        client = IMAPClient(
            account.host,
            port=account.effective_port,
            ssl=account.tls == "implicit",
            ssl_context=self._ssl_context() if account.tls == "implicit" else None,
            timeout=account.timeout,
        )
        client.normalise_times = False  # INTERNALDATE with its zone, not as local naive time
        with self._client_lock:
            self._client = client
        self._check_stop()
        if account.tls == "starttls":
            client.starttls(self._ssl_context())
        client.login(account.user, password)
        return client

    # --- folders -------------------------------------------------------------------------

    def _folders(self, client: IMAPClient) -> list[_Folder]:
        listed = {
            str(name): {
                f.decode().lower() if isinstance(f, bytes) else str(f).lower() for f in flags
            }
            for flags, _delim, name in client.list_folders()
        }
        by_lower = {name.lower(): name for name in listed}
        sent_flagged = [name for name, flags in listed.items() if "\\sent" in flags]
        out: list[_Folder] = []
        for wanted in self.account.folders:
            name = by_lower.get(wanted.lower())
            if name is None and wanted.lower() in SENT_NAMES and sent_flagged:
                name = sent_flagged[0]  # "Sent" configured, the server calls it otherwise
            if name is None:
                if wanted not in self._warned_folders:
                    self._warned_folders.add(wanted)
                    log.warning("%s: folder %r does not exist; not watched", self.name, wanted)
                continue
            leaf = name.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower()
            sent = "\\sent" in listed[name] or leaf in SENT_NAMES or name.lower() in SENT_NAMES
            if all(f.name != name for f in out):
                out.append(_Folder(name, sent))
        if not out:
            raise _ConnectionLost(f"none of the folders {list(self.account.folders)} exists")
        return out

    def _watch(self, client: IMAPClient) -> None:
        folders = self._folders(client)
        use_idle = self.account.idle and client.has_capability("IDLE")
        while True:
            for folder in folders:
                self._check_stop()
                self._sync(client, folder)
            self._check_stop()
            if use_idle:
                self._status(MailState.IDLE, folder=folders[0].name)
                wait = self.account.poll_seconds if len(folders) > 1 else MAX_IDLE_SECONDS
                self._idle(client, folders[0].name, min(wait, MAX_IDLE_SECONDS))
            else:
                self._status(MailState.POLLING)
                deadline = time.monotonic() + self.account.poll_seconds
                while time.monotonic() < deadline:
                    self._check_stop()
                    self._stop.wait(min(IDLE_STEP * 4, deadline - time.monotonic()))
                client.noop()

    def _idle(self, client: IMAPClient, folder: str, seconds: float) -> None:
        client.select_folder(folder, readonly=True)
        client.idle()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stop.is_set():
            started = time.monotonic()
            responses = client.idle_check(timeout=IDLE_STEP)
            if any(r and r[0] == b"BYE" for r in responses):
                raise _ConnectionLost("the server said BYE")
            if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                break
            if not responses and time.monotonic() - started < IDLE_STEP / 2:
                break  # woke up with nothing to read: closed? DONE below tells
        client.idle_done()  # raises when the connection is gone
        self._check_stop()

    # --- reading a folder ----------------------------------------------------------------

    def _sync(self, client: IMAPClient, folder: _Folder) -> None:
        info = client.select_folder(folder.name, readonly=True)
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info.get(b"UIDNEXT", 0) or 0)
        with self._db.session() as session:
            state = folder_state(session, self.account.name, folder.name)
            known = (state.uidvalidity, state.last_uid) if state is not None else None
        if known is not None and known[0] == uidvalidity:
            last = known[1]
            if uidnext and uidnext <= last + 1:
                return
            uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
            backlog = False
        else:
            if known is not None:
                log.warning(
                    "%s: %s was renumbered (UIDVALIDITY %s -> %s); reading it again",
                    self.name,
                    folder.name,
                    known[0],
                    uidvalidity,
                )
            since = date.today() - timedelta(days=self.account.lookback_days)
            uids = sorted(client.search(["SINCE", since]))
            backlog = True
        if not uids:
            if known is None or known[0] != uidvalidity:
                with self._db.session() as session:
                    save_folder_state(
                        session, self.account.name, folder.name, uidvalidity, max(uidnext - 1, 0)
                    )
            return
        total, done = len(uids), 0
        if backlog:
            self._status(MailState.SCANNING, folder=folder.name, done=0, total=total)
        for start in range(0, total, self._batch):
            self._check_stop()
            chunk = uids[start : start + self._batch]
            fetched = self._fetch(client, chunk)
            # the whole backlog is read once: the last batch also covers what lay outside the
            # look-back window below the folder's UIDNEXT
            high = max(chunk)
            if start + self._batch >= total and uidnext:
                high = max(high, uidnext - 1) if backlog else high
            self._store(folder, uidvalidity, fetched, high, backlog)
            done += len(chunk)
            if backlog or total > self._batch:
                self._status(MailState.SCANNING, folder=folder.name, done=done, total=total)

    def _fetch(self, client: IMAPClient, uids: list[int]) -> list[_Fetched]:
        items = [
            "RFC822.SIZE",
            "INTERNALDATE",
            "BODYSTRUCTURE",
            "BODY.PEEK[HEADER]",
            "BODY.PEEK[TEXT]<0.1024>",
        ]
        try:
            response = client.fetch(uids, items)
        except (imaplib.IMAP4.abort, OSError):
            raise
        except Exception as exc:  # one message the client library cannot parse: one by one
            if len(uids) == 1:
                return [_Fetched(uids[0], reason=f"cannot be fetched: {exc}")]
            out: list[_Fetched] = []
            for uid in uids:
                out += self._fetch(client, [uid])
            return out
        out = []
        for uid in uids:
            data = response.get(uid)
            if data is None:
                continue  # expunged meanwhile
            out.append(self._read(uid, data))
        self._add_snippets(client, [f for f in out if f.mail is not None and not f.mail.automated])
        return out

    def _read(self, uid: int, data: dict[bytes, Any]) -> _Fetched:
        size = int(data.get(b"RFC822.SIZE") or 0)
        if size > self.account.max_message_bytes:
            return _Fetched(
                uid, reason=f"too large ({size:,} bytes, limit {self.account.max_message_bytes:,})"
            )
        header = _item(data, b"BODY[HEADER]")
        if not header:
            return _Fetched(uid, reason="the server sent no header")
        internal = data.get(b"INTERNALDATE")
        if isinstance(internal, datetime) and internal.tzinfo is None:
            internal = internal.astimezone(UTC)
        try:
            mail = parse_headers(
                header,
                internal_date=internal if isinstance(internal, datetime) else None,
                body_start=_item(data, b"BODY[TEXT]"),
            )
        except MessageError as exc:
            return _Fetched(uid, reason=str(exc))
        except Exception as exc:
            return _Fetched(uid, reason=f"headers cannot be read: {type(exc).__name__}: {exc}")
        structure = data.get(b"BODYSTRUCTURE")
        try:
            attachments = attachments_from_structure(structure)
        except Exception:
            attachments = ()
        return _Fetched(
            uid, replace(mail, attachments=attachments, size=size), structure=structure, size=size
        )

    def _add_snippets(self, client: IMAPClient, fetched: list[_Fetched]) -> None:
        """The start of each mail's text part, one FETCH per distinct part number."""
        by_section: dict[str, list[tuple[_Fetched, Any]]] = {}
        for item in fetched:
            try:
                part = text_section(item.structure)
            except Exception:
                part = None
            if part is not None:
                by_section.setdefault(part.section, []).append((item, part))
        for section, group in by_section.items():
            uids = [item.uid for item, _ in group]
            try:
                response = client.fetch(uids, [f"BODY.PEEK[{section}]<0.{SNIPPET_FETCH_BYTES}>"])
            except (imaplib.IMAP4.abort, OSError):
                raise
            except Exception as exc:
                log.info("%s: text of %s not fetched: %s", self.name, uids, exc)
                continue
            for item, part in group:
                raw = _item(response.get(item.uid, {}), f"BODY[{section}]".encode())
                assert item.mail is not None
                try:
                    snippet = snippet_from_part(
                        raw, encoding=part.encoding, charset=part.charset, subtype=part.subtype
                    )
                except Exception as exc:
                    item.reason = f"text cannot be decoded: {type(exc).__name__}: {exc}"
                    item.mail = None
                    continue
                item.mail = replace(item.mail, snippet=snippet)

    def _store(
        self, folder: _Folder, uidvalidity: int, fetched: list[_Fetched], high: int, backlog: bool
    ) -> None:
        direction = MailDirection.OUTBOUND if folder.sent else MailDirection.INBOUND
        events: list[MailEvent] = []
        with self._db.session() as session:
            for item in fetched:
                # stopping mid-batch rolls the batch back; it is read again next time
                self._check_stop()
                if item.mail is None:
                    self._skip(session, folder, uidvalidity, item.uid, item.reason)
                    continue
                savepoint = session.begin_nested()
                try:
                    event = handle_mail(
                        session,
                        item.mail,
                        account=self.account.name,
                        folder=folder.name,
                        uid=item.uid,
                        direction=direction,
                        backlog=backlog,
                    )
                except DBAPIError as exc:
                    savepoint.rollback()
                    if exc.connection_invalidated or _is_operational(exc):
                        raise  # the database is away: the batch is read again later
                    self._skip(session, folder, uidvalidity, item.uid, f"cannot be stored: {exc}")
                    continue
                except Exception as exc:  # whatever this mail does, it is not retried forever
                    savepoint.rollback()
                    self._skip(
                        session, folder, uidvalidity, item.uid, f"{type(exc).__name__}: {exc}"
                    )
                    continue
                savepoint.commit()
                events.append(event)
            save_folder_state(session, self.account.name, folder.name, uidvalidity, high)
        self.stats.processed += len(events)
        for event in events:
            self._emit(event)

    def _skip(self, session: Any, folder: _Folder, uidvalidity: int, uid: int, reason: str) -> None:
        self.stats.skipped += 1
        log.warning("%s: %s UID %d skipped: %s", self.name, folder.name, uid, reason)
        record_skip(session, self.account.name, folder.name, uidvalidity, uid, reason)


def _is_operational(exc: DBAPIError) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def _item(data: Any, prefix: bytes) -> bytes:
    """A FETCH item by name; partial items come back as ``BODY[TEXT]<0>``."""
    if not isinstance(data, dict):
        return b""
    for key, value in data.items():
        if isinstance(key, bytes) and (key == prefix or key.startswith(prefix + b"<")):
            return value if isinstance(value, bytes) else b""
    return b""


def watchers_from_settings(
    entries: Sequence[dict[str, Any]], db: Database, password_for: Callable[[str], str]
) -> list[ImapWatcher]:
    """One watcher per ``[[imap]]`` table; ``password_for(secret_name)`` reads the keyring."""

    def reader(name: str) -> Callable[[], str]:
        return lambda: password_for(name)

    return [
        ImapWatcher(account, db, reader(account.secret))
        for account in accounts_from_settings(entries)
    ]

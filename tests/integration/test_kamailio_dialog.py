"""The ``kamailio_dialog`` peer offers RFC 4235 dialog state: a SUBSCRIBE with ``Event: dialog``
to an extension is accepted after a digest challenge, and NOTIFYs with
application/dialog-info+xml follow a call to that extension through early, confirmed and
terminated, naming the call by its Call-ID.

Our own user agent is not used here: a raw UDP socket plays its part (registered as a second
phone of the extension, it rings on its forked branch and watches the dialog state), sipp plays
the caller and the desk phone that answers.
"""

from __future__ import annotations

import hashlib
import queue
import re
import secrets
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field

import pytest

from tests.helpers import kamailio
from tests.helpers.kamailio import KamailioServer, SipUser
from tests.helpers.sipp import SippPeers

pytestmark = pytest.mark.integration

DIALOG_INFO_NS = "{urn:ietf:params:xml:ns:dialog-info}"


@dataclass
class SipMessage:
    first_line: str
    headers: list[tuple[str, str]]
    body: str
    received_at: float = field(default_factory=time.monotonic)

    @classmethod
    def parse(cls, data: bytes) -> SipMessage:
        head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        return cls(lines[0], headers, body)

    def header(self, name: str) -> str:
        return next((v for n, v in self.headers if n.lower() == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    @property
    def method(self) -> str:
        return "" if self.is_response else self.first_line.split(" ", 1)[0]

    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def status(self) -> int:
        return int(self.first_line.split(" ")[1]) if self.is_response else 0


@dataclass(frozen=True)
class DialogState:
    """One <dialog> of a dialog-info NOTIFY body."""

    version: int
    state_attr: str  # "full" or "partial"
    entity: str
    id: str
    call_id: str
    direction: str
    state: str
    local_tag: str
    remote_tag: str


def parse_dialog_info(body: str) -> list[DialogState]:
    root = ET.fromstring(body)
    assert root.tag == f"{DIALOG_INFO_NS}dialog-info", body
    found = []
    for dialog in root.findall(f"{DIALOG_INFO_NS}dialog"):
        state = dialog.find(f"{DIALOG_INFO_NS}state")
        found.append(
            DialogState(
                int(root.get("version", "-1")),
                root.get("state", ""),
                root.get("entity", ""),
                dialog.get("id", ""),
                dialog.get("call-id", ""),
                dialog.get("direction", ""),
                (state.text or "").strip() if state is not None else "",
                dialog.get("local-tag", ""),
                dialog.get("remote-tag", ""),
            )
        )
    return found


class RawPhone:
    """A registered phone and dialog watcher on a bare UDP socket, as our agent would be.

    It answers NOTIFY with 200, rings (180) on INVITE and takes CANCEL (200 + 487); it sends
    REGISTER/SUBSCRIBE and answers digest challenges.
    """

    def __init__(self, server: KamailioServer, user: SipUser) -> None:
        self.server = server
        self.user = user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.notifies: list[SipMessage] = []
        self.registered: list[str] = []  # contacts to unregister at the end
        self.watchers: list[Watcher] = []  # subscriptions to end at the end
        self.invites: list[SipMessage] = []
        self.cancels: list[SipMessage] = []
        self.responses: queue.Queue[SipMessage] = queue.Queue()
        self.changed = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @property
    def contact(self) -> str:
        return f"<sip:{self.user.name}@127.0.0.1:{self.port}>"

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2)
        self.sock.close()

    # -- receiving

    def _loop(self) -> None:
        while self._running:
            try:
                data, _ = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            if not data.strip():
                continue
            message = SipMessage.parse(data)
            if message.is_response:
                self.responses.put(message)
                continue
            with self.changed:
                if message.method == "NOTIFY":
                    self.notifies.append(message)
                    self._reply(message, 200, "OK")
                elif message.method == "INVITE":
                    self.invites.append(message)
                    self._reply(message, 180, "Ringing", to_tag="ringing")
                elif message.method == "CANCEL":
                    self.cancels.append(message)
                    self._reply(message, 200, "OK")
                    for invite in self.invites:
                        if invite.header("Call-ID") == message.header("Call-ID"):
                            self._reply(invite, 487, "Request Terminated", to_tag="ringing")
                elif message.method != "ACK":
                    self._reply(message, 200, "OK")
                self.changed.notify_all()

    def _reply(self, request: SipMessage, code: int, reason: str, to_tag: str = "") -> None:
        to = request.header("To")
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        lines = [f"SIP/2.0 {code} {reason}"]
        lines += [f"Via: {via}" for via in request.all("Via")]
        lines += [f"Record-Route: {rr}" for rr in request.all("Record-Route")]
        lines += [
            f"From: {request.header('From')}",
            f"To: {to}",
            f"Call-ID: {request.header('Call-ID')}",
            f"CSeq: {request.header('CSeq')}",
            f"Contact: {self.contact}",
            "Content-Length: 0",
        ]
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), self.server.address)

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(condition, timeout)

    # -- sending

    def request(
        self,
        method: str,
        headers: dict[str, str],
        *,
        call_id: str | None = None,
        from_tag: str | None = None,
        to_tag: str = "",
        cseq: int = 1,
        contact: str | None = None,
    ) -> tuple[SipMessage, list[SipMessage]]:
        """Send ``method`` for the user (authenticating when challenged): the final reply and
        every final reply before it."""
        uri = self.server.uri(self.user.name) if method != "REGISTER" else self.server.uri()
        aor = self.server.uri(self.user.name)
        call_id = call_id or f"{secrets.token_hex(8)}@127.0.0.1"
        from_tag = from_tag or secrets.token_hex(4)
        authorization = ""
        finals: list[SipMessage] = []
        for attempt in range(2):
            branch = f"z9hG4bK{secrets.token_hex(8)}"
            to = f"<{aor}>" + (f";tag={to_tag}" if to_tag else "")
            lines = [
                f"{method} {uri} SIP/2.0",
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};rport;branch={branch}",
                "Max-Forwards: 70",
                f"From: <{aor}>;tag={from_tag}",
                f"To: {to}",
                f"Call-ID: {call_id}",
                f"CSeq: {cseq + attempt} {method}",
                f"Contact: {contact or self.contact}",
                *(f"{name}: {value}" for name, value in headers.items()),
            ]
            if authorization:
                lines.append(authorization)
            lines.append("Content-Length: 0")
            self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), self.server.address)
            reply = self._final_reply(call_id, f"{cseq + attempt} {method}")
            finals.append(reply)
            if reply.status != 401 or attempt:
                return reply, finals
            authorization = self._authorization(method, uri, reply.header("WWW-Authenticate"))
        raise AssertionError("unreachable")

    def _final_reply(self, call_id: str, cseq: str, timeout: float = 5.0) -> SipMessage:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no final reply to {cseq} within {timeout}s")
            try:
                reply = self.responses.get(timeout=left)
            except queue.Empty:
                continue
            if (
                reply.header("Call-ID") == call_id
                and reply.header("CSeq") == cseq
                and reply.status >= 200
            ):
                return reply

    def _authorization(self, method: str, uri: str, challenge: str) -> str:
        fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge.split("Digest", 1)[1]))
        algorithm = fields.get("algorithm", "MD5")
        digest = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm]

        def h(text: str) -> str:
            return digest(text.encode()).hexdigest()

        cnonce, nc = secrets.token_hex(4), "00000001"
        ha1 = h(f"{self.user.name}:{fields['realm']}:{self.user.password}")
        ha2 = h(f"{method}:{uri}")
        response = h(f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        return (
            f'Authorization: Digest username="{self.user.name}", realm="{fields["realm"]}", '
            f'nonce="{fields["nonce"]}", uri="{uri}", response="{response}", '
            f'algorithm={algorithm}, qop=auth, nc={nc}, cnonce="{cnonce}"'
        )

    def register(self, contact: str | None = None, expires: int = 60) -> SipMessage:
        """REGISTER this socket (or ``contact``, e.g. a sipp phone) as a phone of the user."""
        contact = contact or self.contact
        reply, _ = self.request("REGISTER", {"Expires": str(expires)}, contact=contact)
        if reply.status == 200 and expires and contact not in self.registered:
            self.registered.append(contact)
        return reply


def _call_id(prefix: str) -> tuple[str, list[str]]:
    """A Call-ID sipp will use for its first call, and the sipp options that make it so."""
    stem = f"{prefix}-{secrets.token_hex(6)}"
    return f"{stem}-1@127.0.0.1", ["-cid_str", f"{stem}-%u@%s"]


class Watcher:
    """The raw phone's side of a dialog subscription."""

    def __init__(self, phone: RawPhone) -> None:
        self.phone = phone
        self.call_id = f"sub-{secrets.token_hex(6)}@127.0.0.1"
        self.from_tag = secrets.token_hex(4)
        self.to_tag = ""
        self.cseq = 1

    def subscribe(self, expires: int = 120) -> tuple[SipMessage, list[SipMessage]]:
        reply, finals = self.phone.request(
            "SUBSCRIBE",
            {"Event": "dialog", "Accept": "application/dialog-info+xml", "Expires": str(expires)},
            call_id=self.call_id,
            from_tag=self.from_tag,
            to_tag=self.to_tag,
            cseq=self.cseq,
        )
        self.cseq += len(finals)
        if reply.status < 300 and not self.to_tag:
            self.to_tag = reply.header("To").partition(";tag=")[2].split(";")[0]
        return reply, finals

    @property
    def notifies(self) -> list[SipMessage]:
        return [n for n in self.phone.notifies if n.header("Call-ID") == self.call_id]

    def states(self, call_id: str) -> list[str]:
        """The states the NOTIFYs gave the dialog of ``call_id``, repeats left out."""
        states: list[str] = []
        for notify in self.notifies:
            for dialog in parse_dialog_info(notify.body) if notify.body.strip() else []:
                if dialog.call_id == call_id and (not states or states[-1] != dialog.state):
                    states.append(dialog.state)
        return states

    def dialogs(self, call_id: str) -> list[tuple[SipMessage, DialogState]]:
        return [
            (notify, dialog)
            for notify in self.notifies
            if notify.body.strip()
            for dialog in parse_dialog_info(notify.body)
            if dialog.call_id == call_id
        ]

    def wait_for_state(self, call_id: str, state: str, timeout: float = 5.0) -> bool:
        return self.phone.wait_for(lambda: state in self.states(call_id), timeout)


@pytest.fixture
def phone(kamailio_dialog: KamailioServer) -> Iterator[RawPhone]:
    raw = RawPhone(kamailio_dialog, kamailio_dialog.user("100"))
    yield raw
    # the registrar and presence server live for the session: leave nothing behind
    for contact in raw.registered:
        with suppress(AssertionError):
            raw.register(contact=contact, expires=0)
    for watcher in raw.watchers:
        with suppress(AssertionError):
            watcher.subscribe(expires=0)
    raw.close()


@pytest.fixture
def watcher(phone: RawPhone) -> Watcher:
    watcher = Watcher(phone)
    phone.watchers.append(watcher)
    return watcher


def test_a_dialog_subscription_is_challenged_then_accepted_with_an_initial_notify(
    watcher: Watcher,
) -> None:
    reply, finals = watcher.subscribe()

    assert [r.status for r in finals] == [401, reply.status]
    assert 'Digest realm="crm.test"' in finals[0].header("WWW-Authenticate")
    assert reply.status in (200, 202), reply.first_line
    assert reply.header("Expires") == "120"
    assert watcher.phone.wait_for(lambda: len(watcher.notifies) >= 1, 5)
    notify = watcher.notifies[0]
    assert notify.header("Event") == "dialog"
    assert notify.header("Subscription-State") == "active;expires=120"
    assert notify.header("Content-Type") == "application/dialog-info+xml"
    # no call going on: a full document with Kamailio's dummy dialog (terminated, no call-id),
    # or with the calls of the last ~10 s, terminated (other tests' calls)
    dialogs = parse_dialog_info(notify.body)
    assert dialogs
    assert all(d.state_attr == "full" and d.entity == "sip:100@127.0.0.1" for d in dialogs)
    assert {d.state for d in dialogs} == {"terminated"}


def test_a_wrong_password_is_refused(phone: RawPhone) -> None:
    watcher = Watcher(phone)
    phone.user = SipUser("100", "not-the-password")
    reply, _ = watcher.subscribe()
    assert reply.status == 403, reply.first_line


def test_an_event_other_than_dialog_is_refused(watcher: Watcher) -> None:
    reply, _ = watcher.phone.request("SUBSCRIBE", {"Event": "presence"})
    assert reply.status == 489, reply.first_line


def test_an_answered_call_is_notified_early_confirmed_terminated_under_its_call_id(
    kamailio_dialog: KamailioServer, phone: RawPhone, watcher: Watcher, sipp_dialog: SippPeers
) -> None:
    desk = sipp_dialog.uas("uas_answer", name="desk", answer_ms=1000)
    assert phone.register(contact=f"<sip:100@{desk.uri_hostport}>").status == 200
    assert phone.register().status == 200  # the raw phone rings too, on its own branch
    assert watcher.subscribe()[0].status in (200, 202)
    assert phone.wait_for(lambda: len(watcher.notifies) >= 1, 5)

    call_id, sipp_options = _call_id("answered")
    started = time.monotonic()
    caller = sipp_dialog.uac("100", "uac_call", pause_ms=500, extra=sipp_options)
    called = caller.wait(timeout=20)
    answered = desk.wait(timeout=10)
    assert watcher.wait_for_state(call_id, "terminated")

    assert called.ok, called.describe()
    assert answered.ok, answered.describe()
    assert watcher.states(call_id) == ["early", "confirmed", "terminated"]
    # the dialog is named by the Call-ID of the INVITE every branch got
    assert [i.header("Call-ID") for i in phone.invites] == [call_id]
    assert answered.received("INVITE")[0].count(f"Call-ID: {call_id}") == 1
    # the raw phone lost: cancelled because the desk answered
    assert phone.cancels[0].header("Reason") == 'SIP;cause=200;text="Call completed elsewhere"'
    seen = watcher.dialogs(call_id)
    assert {d.direction for _, d in seen} == {"recipient"}
    assert {d.entity for _, d in seen} == {"sip:100@127.0.0.1"}
    assert len({d.id for _, d in seen}) == 1
    remote = ET.fromstring(seen[0][0].body).find(
        f".//{DIALOG_INFO_NS}remote/{DIALOG_INFO_NS}identity"
    )
    assert remote is not None and (remote.text or "").startswith("sip:+4930123456@")
    # when: early as the phones ring (at once), confirmed as the desk answers (after ringing
    # for 1 s), terminated as the caller hangs up (after 0.5 s of talk); each NOTIFY follows
    # its SIP event within milliseconds
    first = {
        state: min(n.received_at for n, d in seen if d.state == state) - started
        for state in ("early", "confirmed", "terminated")
    }
    assert first["early"] < first["confirmed"] < first["terminated"]
    assert first["confirmed"] - first["early"] > 0.8
    assert first["terminated"] - first["confirmed"] > 0.4


def test_a_call_cancelled_while_ringing_goes_from_early_to_terminated(
    phone: RawPhone, watcher: Watcher, sipp_dialog: SippPeers
) -> None:
    assert phone.register().status == 200
    assert watcher.subscribe()[0].status in (200, 202)

    call_id, sipp_options = _call_id("cancelled")
    caller = sipp_dialog.uac("100", "uac_cancel", pause_ms=800, extra=sipp_options)
    called = caller.wait(timeout=20)
    assert watcher.wait_for_state(call_id, "terminated")

    assert called.ok, called.describe()
    assert watcher.states(call_id) == ["early", "terminated"]
    assert [c.header("Call-ID") for c in phone.cancels] == [call_id]


def test_unsubscribing_ends_the_subscription_with_a_last_notify(watcher: Watcher) -> None:
    assert watcher.subscribe()[0].status in (200, 202)
    assert watcher.phone.wait_for(lambda: len(watcher.notifies) >= 1, 5)

    reply, _ = watcher.subscribe(expires=0)

    assert reply.status in (200, 202), reply.first_line
    assert watcher.phone.wait_for(lambda: len(watcher.notifies) >= 2, 5)
    assert watcher.notifies[-1].header("Subscription-State").startswith("terminated")


def test_a_call_made_by_the_extension_is_notified_with_direction_initiator(
    kamailio_dialog: KamailioServer, phone: RawPhone, watcher: Watcher, sipp_dialog: SippPeers
) -> None:
    desk_101 = sipp_dialog.uas("uas_answer", name="desk-101", answer_ms=300)
    other = RawPhone(kamailio_dialog, kamailio_dialog.user("101"))
    try:
        assert other.register(contact=f"<sip:101@{desk_101.uri_hostport}>").status == 200
        assert watcher.subscribe()[0].status in (200, 202)

        call_id, sipp_options = _call_id("outgoing")
        caller = sipp_dialog.uac("101", "uac_call", caller="100", pause_ms=300, extra=sipp_options)
        called = caller.wait(timeout=20)
        assert watcher.wait_for_state(call_id, "terminated")
    finally:
        other.register(contact=f"<sip:101@{desk_101.uri_hostport}>", expires=0)
        other.close()

    assert called.ok, called.describe()
    # the caller's side starts at the INVITE, spelt "Trying" (RFC 4235 says "trying"); its
    # PUBLISH races the one for the 180 right after it, so their NOTIFYs come in either order
    states = watcher.states(call_id)
    assert sorted(states[:2]) == ["Trying", "early"], states
    assert states[2:] == ["confirmed", "terminated"], states
    assert {d.direction for _, d in watcher.dialogs(call_id)} == {"initiator"}


def test_the_fixture_says_what_is_missing_without_the_presence_modules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kamailio, "DIALOG_STATE_MODULES", ("dialog", "no_such_module"))
    with kamailio.kamailio_server(dialog_state=True) as server:
        assert isinstance(server, str)
        assert "no_such_module" in server or "not installed" in server
        assert "kamailio-presence-modules" in server or "not installed" in server

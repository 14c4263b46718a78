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
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

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
                    invite = next(
                        i for i in self.invites if i.header("Call-ID") == message.header("Call-ID")
                    )
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
            if reply.header("Call-ID") == call_id and reply.header("CSeq") == cseq:
                if reply.status >= 200:
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
        reply, _ = self.request("REGISTER", {"Expires": str(expires)}, contact=contact)
        return reply


@pytest.fixture
def phone(kamailio_dialog: KamailioServer) -> RawPhone:
    raw = RawPhone(kamailio_dialog, kamailio_dialog.user("100"))
    yield raw
    raw.close()


def _subscribe(phone: RawPhone, expires: int = 120) -> tuple[SipMessage, list[SipMessage], str]:
    call_id = f"sub-{secrets.token_hex(6)}@127.0.0.1"
    reply, finals = phone.request(
        "SUBSCRIBE",
        {
            "Event": "dialog",
            "Accept": "application/dialog-info+xml",
            "Expires": str(expires),
        },
        call_id=call_id,
    )
    return reply, finals, call_id


def test_a_dialog_subscription_is_challenged_then_accepted_with_an_initial_notify(
    phone: RawPhone,
) -> None:
    reply, finals, call_id = _subscribe(phone)

    assert finals[0].status == 401
    assert reply.status in (200, 202), reply.first_line
    assert phone.wait_for(lambda: len(phone.notifies) >= 1, 5)
    notify = phone.notifies[0]
    print(notify.first_line, notify.headers, notify.body)
    assert notify.header("Call-ID") == call_id
    assert notify.header("Event") == "dialog"
    assert "active" in notify.header("Subscription-State")


def _dialog_states(phone: RawPhone, call_id: str) -> list[str]:
    states = []
    for notify in phone.notifies:
        if notify.body.strip():
            for dialog in parse_dialog_info(notify.body):
                if dialog.call_id == call_id and (not states or states[-1] != dialog.state):
                    states.append(dialog.state)
    return states


def test_a_call_to_the_extension_is_notified_early_confirmed_terminated(
    kamailio_dialog: KamailioServer, phone: RawPhone, sipp_dialog: SippPeers
) -> None:
    desk = sipp_dialog.uas("uas_answer", name="desk", answer_ms=1000)
    assert phone.register(contact=f"<sip:100@{desk.uri_hostport}>").status == 200
    assert phone.register().status == 200
    reply, _, _ = _subscribe(phone)
    assert reply.status in (200, 202)
    assert phone.wait_for(lambda: len(phone.notifies) >= 1, 5)

    call_id = f"crm-dialog-{secrets.token_hex(6)}"
    started = time.monotonic()
    caller = sipp_dialog.uac("100", "uac_call", pause_ms=500, extra=["-cid_str", f"{call_id}-%u@%s"])
    called = caller.wait(timeout=20)
    answered = desk.wait(timeout=10)
    phone.wait_for(lambda: "terminated" in _dialog_states(phone, f"{call_id}-1@127.0.0.1"), 5)
    for n in phone.notifies:
        print(round(n.received_at - started, 3), n.first_line, n.header("Subscription-State"))
        print(n.body)
    print(kamailio_dialog.log()[-3000:])
    assert called.ok, called.describe()
    assert answered.ok, answered.describe()
    assert phone.invites and phone.invites[0].header("Call-ID") == f"{call_id}-1@127.0.0.1"
    assert _dialog_states(phone, f"{call_id}-1@127.0.0.1") == ["early", "confirmed", "terminated"]

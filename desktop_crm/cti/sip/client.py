"""A minimal SIP caller for ``desktop-crm simulate-call``: one real INVITE, then CANCEL.

:func:`send_call` rings ``target`` (``sip:USER@HOST:PORT``, e.g. a running ``desktop-crm
listen``) from ``number``: it sends an INVITE whose From and P-Asserted-Identity carry the
number as user part and the name as UTF-8 display name, waits for a provisional response
(retransmitting over UDP per RFC 3261 Timer A), lets it ring ``ring_seconds`` and then cancels.

``answer=True`` cannot really answer: the listener rings along but never accepts a call, so
there is nobody to talk to. It is simulated the way a PBX tells the other phones of a ring group
that a colleague picked up: the CANCEL carries ``Reason: SIP;cause=200;text="Call completed
elsewhere"`` (RFC 3326), which the listener reports as *answered elsewhere*.

If a real phone answers (200 OK) we ACK and hang up with BYE at once; a rejection (4xx-6xx
before the CANCEL) raises :class:`SipClientError` with the status.
"""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from desktop_crm.cti.sip.headers import SipParseError
from desktop_crm.cti.sip.message import SipResponse, parse_message, stream_message_length
from desktop_crm.cti.sip.uri import SipUri, parse_uri

__all__ = ["SentCall", "SipClientError", "send_call"]

T1 = 0.5
#: How long we wait for the target to say anything (a provisional or final response).
ANSWER_TIMEOUT = 5.0
_USER_SAFE = "+-_.!~*'()&=$,;?/"


class SipClientError(Exception):
    """The call could not be placed; the message says why in words."""


@dataclass
class SentCall:
    """What happened: ``call_id`` is the SIP Call-ID (the listener's event id is ``sip:`` + it)."""

    call_id: str
    statuses: list[int] = field(default_factory=list)
    final_status: int | None = None


def _quote_name(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Transport:
    def __init__(self, kind: str, host: str, port: int, timeout: float) -> None:
        self.kind = kind
        self.buffer = b""
        infos = socket.getaddrinfo(
            host, port, type=socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
        )
        family, socktype, proto, _, address = infos[0]
        self.sock = socket.socket(family, socktype, proto)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(address)
        except OSError:
            self.sock.close()
            raise
        local = self.sock.getsockname()
        self.local_host, self.local_port = str(local[0]), int(local[1])

    def send(self, data: bytes) -> None:
        if self.kind == "udp":
            self.sock.send(data)
        else:
            self.sock.sendall(data)

    def receive(self, timeout: float) -> SipResponse | None:
        """The next response within ``timeout`` seconds, or None; requests are ignored."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self.kind == "tcp":
                length = stream_message_length(self.buffer)
                if length is not None:
                    data, self.buffer = self.buffer[:length], self.buffer[length:]
                    message = _parse(data)
                    if message is not None:
                        return message
                    continue
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            except ConnectionRefusedError:  # UDP: ICMP port unreachable
                raise
            if self.kind == "tcp":
                if not data:
                    raise SipClientError("the target closed the TCP connection")
                self.buffer += data
                continue
            message = _parse(data)
            if message is not None:
                return message

    def close(self) -> None:
        self.sock.close()


def _parse(data: bytes) -> SipResponse | None:
    if not data.strip(b"\r\n"):
        return None
    try:
        message = parse_message(data)
    except SipParseError:
        return None
    return message if isinstance(message, SipResponse) else None


class _Call:
    def __init__(self, target: SipUri, transport: _Transport, number: str, name: str | None):
        self.target = target
        self.t = transport
        host = transport.local_host
        self.local = f"[{host}]" if ":" in host else host
        self.call_id = f"{secrets.token_hex(12)}@{self.local}"
        self.branch = "z9hG4bK" + secrets.token_hex(10)
        self.from_tag = secrets.token_hex(6)
        user = quote(number, safe=_USER_SAFE)
        display = f"{_quote_name(name)} " if name else ""
        self.from_value = f"{display}<sip:{user}@{self.local}>;tag={self.from_tag}"
        self.pai = f"{display}<sip:{user}@{self.local}>"
        self.contact = (
            f"<sip:{user}@{self.local}:{transport.local_port};transport={transport.kind}>"
        )
        self.to_value = f"<{target.raw}>"
        self.to_tag: str | None = None

    def via(self, branch: str) -> str:
        return (
            f"SIP/2.0/{self.t.kind.upper()} {self.local}:{self.t.local_port};branch={branch};rport"
        )

    def request(
        self,
        method: str,
        cseq: int,
        branch: str,
        *,
        to_tag: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> bytes:
        to = f"{self.to_value};tag={to_tag}" if to_tag else self.to_value
        lines = [
            f"{method} {self.target.raw} SIP/2.0",
            f"Via: {self.via(branch)}",
            "Max-Forwards: 70",
            f"From: {self.from_value}",
            f"To: {to}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method}",
        ]
        if method == "INVITE":
            lines += [f"Contact: {self.contact}", f"P-Asserted-Identity: {self.pai}"]
            lines.append("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS")
        lines += [*extra, "User-Agent: desktop-crm simulate-call", "Content-Length: 0"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def send_call(
    target: str,
    number: str,
    *,
    name: str | None = None,
    ring_seconds: float = 3.0,
    answer: bool = False,
    transport: str = "udp",
    timeout: float = ANSWER_TIMEOUT,
) -> SentCall:
    """Ring ``target`` from ``number``; see the module documentation. Blocks until done."""
    transport = transport.lower()
    if transport not in ("udp", "tcp"):
        raise ValueError(f"transport must be udp or tcp, got {transport!r}")
    if not number or any(c in number for c in "\r\n"):
        raise ValueError("a call needs a number (one line of text)")
    if name is not None and any(c in name for c in "\r\n"):
        raise ValueError("a caller name cannot contain line breaks")
    try:
        uri = parse_uri(target.strip())
    except SipParseError as exc:
        raise SipClientError(f"{target!r} is not a SIP URI: {exc.reason}") from None
    if not uri.is_sip or not uri.host:
        raise SipClientError(f"{target!r} is not a sip: URI such as sip:201@127.0.0.1:5062")
    host = uri.host.strip("[]")
    port = uri.port or 5060
    try:
        link = _Transport(transport, host, port, timeout)
    except OSError as exc:
        raise SipClientError(
            f"cannot reach {host}:{port} over {transport.upper()}: {exc.strerror or exc}"
        ) from None
    try:
        return _run(_Call(uri, link, number, name), ring_seconds, answer, timeout)
    except SipParseError as exc:  # a TCP stream we cannot frame
        raise SipClientError(f"{host}:{port} sent a malformed message: {exc.reason}") from None
    except ConnectionRefusedError:
        raise SipClientError(
            f"nothing listens on {host}:{port} ({transport.upper()}): is desktop-crm listen "
            "running with a [[sip]] source there?"
        ) from None
    except OSError as exc:
        raise SipClientError(f"talking to {host}:{port} failed: {exc.strerror or exc}") from None
    finally:
        link.close()


def _run(call: _Call, ring_seconds: float, answer: bool, timeout: float) -> SentCall:
    t = call.t
    result = SentCall(call_id=call.call_id)
    invite = call.request("INVITE", 1, call.branch)
    t.send(invite)
    started = time.monotonic()
    interval = T1
    next_send = started + interval
    # wait for the first response, retransmitting over UDP (Timer A)
    while True:
        now = time.monotonic()
        if now - started >= timeout:
            raise SipClientError(
                f"no answer from {call.target.raw} within {timeout:g} s: is desktop-crm listen "
                "running there, and is the port right?"
            )
        wait = min(next_send, started + timeout) - now if t.kind == "udp" else timeout
        response = t.receive(max(min(wait, started + timeout - now), 0.01))
        if response is None:
            if t.kind == "udp" and time.monotonic() >= next_send:
                t.send(invite)
                interval *= 2
                next_send = time.monotonic() + interval
            continue
        if not _ours(response, call.branch, "INVITE"):
            continue
        result.statuses.append(response.status)
        if response.status >= 200:
            return _final_before_cancel(call, response, result)
        if response.status > 100:
            call.to_tag = _to_tag(response) or call.to_tag
        break
    # ringing: wait ring_seconds, still reading (a final response may come meanwhile)
    ring_end = time.monotonic() + ring_seconds
    while (remaining := ring_end - time.monotonic()) > 0:
        response = t.receive(remaining)
        if response is None or not _ours(response, call.branch, "INVITE"):
            continue
        if response.status not in result.statuses:
            result.statuses.append(response.status)
        if response.status >= 200:
            return _final_before_cancel(call, response, result)
        call.to_tag = _to_tag(response) or call.to_tag
    # cancel (with a "completed elsewhere" reason to simulate an answer)
    extra: tuple[str, ...] = ()
    if answer:
        extra = ('Reason: SIP;cause=200;text="Call completed elsewhere"',)
    cancel = call.request("CANCEL", 1, call.branch, extra=extra)
    t.send(cancel)
    cancel_ok = False
    deadline = time.monotonic() + timeout
    interval = T1
    next_send = time.monotonic() + interval
    while time.monotonic() < deadline:
        response = t.receive(max(min(next_send, deadline) - time.monotonic(), 0.01))
        if response is None:
            if t.kind == "udp" and not cancel_ok and time.monotonic() >= next_send:
                t.send(cancel)
                interval = min(interval * 2, 4.0)
                next_send = time.monotonic() + interval
            continue
        if _ours(response, call.branch, "CANCEL"):
            cancel_ok = cancel_ok or response.status >= 200
            continue
        if _ours(response, call.branch, "INVITE") and response.status >= 200:
            result.statuses.append(response.status)
            result.final_status = response.status
            if response.status >= 300:
                t.send(call.request("ACK", 1, call.branch, to_tag=_to_tag(response)))
            else:
                _hang_up(call, response)
            return result
    raise SipClientError(
        f"{call.target.raw} did not end the call within {timeout:g} s after our CANCEL"
    )


def _final_before_cancel(call: _Call, response: SipResponse, result: SentCall) -> SentCall:
    result.final_status = response.status
    if response.status < 300:
        _hang_up(call, response)
        return result
    call.t.send(call.request("ACK", 1, call.branch, to_tag=_to_tag(response)))
    raise SipClientError(
        f"{call.target.raw} refused the call: {response.status} {response.reason}".rstrip()
    )


def _hang_up(call: _Call, response: SipResponse) -> None:
    """A phone answered: ACK the 200 and say BYE straight away (we carry no media)."""
    tag = _to_tag(response)
    call.t.send(call.request("ACK", 1, "z9hG4bK" + secrets.token_hex(10), to_tag=tag))
    call.t.send(call.request("BYE", 2, "z9hG4bK" + secrets.token_hex(10), to_tag=tag))


def _to_tag(response: SipResponse) -> str | None:
    return response.to_addr.tag if response.to_addr is not None else None


def _ours(response: SipResponse, branch: str, method: str) -> bool:
    if not response.vias or response.vias[0].branch != branch:
        return False
    return response.cseq is not None and response.cseq.method == method

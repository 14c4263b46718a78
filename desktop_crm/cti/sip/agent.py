"""The SIP user agent's listen mode: ring along with the phones, never answer.

:class:`SipListener` is a :class:`~desktop_crm.cti.events.CallSource`. It binds UDP and TCP on
one ``host:port`` (a PBX forks incoming calls to it like to any other phone of a ring group),
runs a selector loop in its own thread and turns what it sees into call events:

=====================  ===========================================  ==========================
request                we answer                                    event
=====================  ===========================================  ==========================
INVITE                 100 Trying, 180 Ringing (one To-tag)         RINGING
INVITE retransmitted   the last response again                      none
CANCEL                 200 OK, and 487 Request Terminated to INVITE  ANSWERED_ELSEWHERE when
                                                                    ``Reason: SIP;cause=200``,
                                                                    else MISSED
BYE in an early dialog 200 OK, and 487 to the INVITE                like CANCEL
BYE for an answered    200 OK                                       ENDED
BYE for an unknown     481 Call/Transaction Does Not Exist          none
ACK                    nothing (it ends the 487's retransmissions)  none
OPTIONS                200 OK (PBX keep-alive probes)               none
other known methods    405 Method Not Allowed (with Allow)          none
unknown methods        501 Not Implemented                          none
malformed              400 with the parser's reason, when a Via     none
                       can be read (505 for another SIP version);
                       otherwise dropped
=====================  ===========================================  ==========================

We never send 200 to an INVITE and never handle media, so no call is ever *answered* here;
ENDED exists for a later mode that watches dialogs (the BYE handling is already written for
it). A BYE the caller sends while it is still ringing (RFC 3261 §15 allows it on early dialogs)
ends the call like a CANCEL.

Responses go where RFC 3261 §18.2.2 and RFC 3581 say: over the connection the request came on
(TCP), or over UDP to the top Via's ``received``/``rport`` address; we add ``received=`` when the
packet's source differs from the Via's sent-by host and fill ``rport`` when the Via asks for it.
So we never resolve a host name in the loop.

State is bounded: at most ``max_calls`` calls are tracked (the oldest are evicted, and counted,
when an INVITE flood exceeds that), a call is forgotten ``linger`` seconds (Timer H, 32 s)
after its final state, and a call that rings for ``ring_timeout`` seconds without a CANCEL is
given up with 480 and a MISSED event. TCP connections are capped too.

In register mode (``mode="register"`` with a :class:`RegistrarAccount`) the same loop runs a
:class:`~desktop_crm.cti.sip.register.Registration`: responses to our REGISTERs are handed to
it, ``_on_timer`` ticks it, and it sends over our UDP socket or a TCP flow to the registrar
that we open without blocking and keep (it carries requests to us as well). Listen mode needs
nothing from the PBX but a static route to ``host:port``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import selectors
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from desktop_crm.cti.events import (
    CallDirection,
    CallEvent,
    CallSink,
    CallState,
    SourceProblem,
    SourceState,
    SourceStatus,
)
from desktop_crm.cti.sip.caller import (
    DEFAULT_IDENTITY_HEADERS,
    CallerIdentity,
    caller_identity,
    check_identity_headers,
)
from desktop_crm.cti.sip.dialog import Dialog, DialogInfo, DialogSubscription, remote_number
from desktop_crm.cti.sip.headers import Headers, SipParseError, split_header_list, split_params
from desktop_crm.cti.sip.message import (
    MAX_MESSAGE_SIZE,
    SipRequest,
    SipResponse,
    Via,
    parse_message,
    parse_via,
    response_for,
    stream_message_length,
)
from desktop_crm.cti.sip.register import RegistrarAccount, Registration

__all__ = ["DEFAULT_PORT", "SETTINGS_KEYS", "TRANSPORTS", "SipListener", "listener_from_settings"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 5062
TRANSPORTS = ("udp", "tcp")
MODES = ("listen", "register")
STOP_TIMEOUT = 1.0
MAX_CALLS = 10_000
MAX_CONNECTIONS = 256
T1 = 0.5
T2 = 4.0
TIMER_H = 64 * T1  # 32 s: how long a final response waits for its ACK, and we remember a call
RING_TIMEOUT = 300.0
MAX_TALK = 12 * 3600.0  # an answered call whose end we never hear of is forgotten after this
MAX_OUTGOING = 1000  # outgoing calls followed through dialog state at once
TCP_IDLE = 300.0
_TICK = 0.25
_ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY"
#: Methods we know but do not serve in listen mode: 405, not 501.
_NOT_ALLOWED = frozenset(
    {"REGISTER", "SUBSCRIBE", "MESSAGE", "INFO", "UPDATE", "PRACK", "REFER", "PUBLISH"}
)
_USER_AGENT = "desktop-crm"
_WS = " \t"


def _now() -> datetime:
    return datetime.now(UTC)


class _Connection:
    __slots__ = ("buffer", "last_active", "peer", "persistent", "sock")

    def __init__(
        self, sock: socket.socket, peer: tuple[str, int], persistent: bool = False
    ) -> None:
        self.sock = sock
        self.peer = peer
        self.buffer = b""
        self.last_active = time.monotonic()
        self.persistent = persistent  # our flow to the registrar: never closed for idleness


@dataclass
class _Reply:
    """Where responses to one request go: a UDP address, or a TCP connection."""

    address: tuple[str, int]
    connection: _Connection | None = None


@dataclass
class _Outgoing:
    """A call the extension's phone made, seen only through dialog state."""

    call_id: str
    remote_number: str | None
    remote_display_name: str
    started_at: datetime
    seen_at: float
    answered_at: datetime | None = None


@dataclass
class _Call:
    call_id: str
    invite: SipRequest
    branch: str | None
    cseq: int
    from_tag: str | None
    to_tag: str
    reply: _Reply
    identity: CallerIdentity
    line: str
    started_at: datetime
    rang_at: float
    last_response: bytes = b""
    final: CallState | None = None
    final_at: float = 0.0
    answered_at: datetime | None = None  # answered on another phone (dialog state)
    ended: bool = False  # that answered call was hung up (dialog state)
    # retransmission of a final response over UDP until the ACK (RFC 3261 Timer G)
    retransmit_at: float | None = None
    retransmit_interval: float = T1


class SipListener:
    """A :class:`~desktop_crm.cti.events.CallSource` that rings along on ``host:port``.

    ``port=0`` picks a free port (UDP and TCP get the same one); after :meth:`start`,
    :attr:`port` is the real one. ``identity_headers`` is the order the caller identity is read
    in (see :mod:`desktop_crm.cti.sip.caller`).
    """

    def __init__(
        self,
        *,
        name: str = "sip",
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        transports: Sequence[str] = TRANSPORTS,
        identity_headers: Sequence[str] = DEFAULT_IDENTITY_HEADERS,
        mode: str = "listen",
        max_calls: int = MAX_CALLS,
        linger: float = TIMER_H,
        ring_timeout: float = RING_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        account: RegistrarAccount | None = None,
        password: Callable[[], str] | None = None,
        register_timeout: float | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"SIP mode is {' or '.join(MODES)}, got {mode!r}")
        if mode == "register" and (account is None or password is None):
            raise ValueError("register mode needs a registrar account and a password")
        wanted = tuple(t.lower() for t in transports)
        unknown = [t for t in wanted if t not in TRANSPORTS]
        if unknown or not wanted:
            raise ValueError(f"SIP transports are {' and '.join(TRANSPORTS)}, got {transports!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is out of range")
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        self.name = name
        self.host = host
        self.port = port
        self.transports = wanted
        self.identity_headers = check_identity_headers(identity_headers)
        self.mode = mode
        self.max_calls = max_calls
        self.linger = linger
        self.ring_timeout = ring_timeout
        self.max_connections = max_connections
        self.account = account if mode == "register" else None
        self._password = password
        self._register_timeout = register_timeout
        self.registration: Registration | None = None
        self.subscription: DialogSubscription | None = None
        self._subscribed = False
        self._outgoing: OrderedDict[str, _Outgoing] = OrderedDict()
        self._registrar_address: tuple[str, int] | None = None
        self._registrar_conn: _Connection | None = None
        self._registrar_connecting: socket.socket | None = None
        self._registrar_outbox: list[bytes] = []
        # counters, for tests and for a status line
        self.evicted = 0
        self.malformed = 0
        self.received = 0
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._connections: dict[socket.socket, _Connection] = {}
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: CallSink | None = None

    # --- the CallSource interface -------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def tracked_calls(self) -> int:
        """How many calls the listener currently remembers (bounded by ``max_calls``)."""
        return len(self._calls)

    def start(self, sink: CallSink) -> None:
        """Bind the sockets (errors are raised here, in the caller's thread) and start."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self._bind()
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"cti-{self.name}", daemon=True)
        self._thread.start()
        if self.mode == "listen":
            self._report(
                SourceState.LISTENING,
                detail=f"listening on {self.host}:{self.port} ({', '.join(self.transports)})",
            )

    def stop(self) -> None:
        self._stop.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", self.name, STOP_TIMEOUT)
        self._thread = None
        if thread is None or not thread.is_alive():
            self._close_all()
        if thread is not None:
            self._report(SourceState.STOPPED)

    def _report(
        self,
        state: SourceState,
        problem: SourceProblem = SourceProblem.NONE,
        detail: str = "",
        retry_in: float | None = None,
    ) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(SourceStatus(self.name, state, problem, detail, retry_in))
        except Exception:
            log.warning("%s: the sink failed on a status change", self.name, exc_info=True)

    # --- sockets ------------------------------------------------------------------------

    def _bind(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        last_error: OSError | None = None
        for _attempt in range(20 if self.port == 0 else 1):
            udp = tcp = None
            try:
                port = self.port
                if "udp" in self.transports:
                    udp = socket.socket(family, socket.SOCK_DGRAM)
                    with contextlib.suppress(OSError):
                        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                    udp.bind((self.host, port))
                    port = udp.getsockname()[1]
                if "tcp" in self.transports:
                    tcp = socket.socket(family, socket.SOCK_STREAM)
                    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    tcp.bind((self.host, port))
                    tcp.listen(64)
                    port = tcp.getsockname()[1]
            except OSError as exc:
                for sock in (udp, tcp):
                    if sock is not None:
                        sock.close()
                last_error = exc
                continue
            self._udp, self._tcp, self.port = udp, tcp, port
            break
        else:
            assert last_error is not None
            raise OSError(
                last_error.errno,
                f"{self.name}: cannot listen on {self.host}:{self.port}: "
                f"{last_error.strerror or last_error}",
            ) from last_error
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        for sock in (self._udp, self._tcp, self._wake_r):
            if sock is not None:
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ)

    def _close_all(self) -> None:
        for conn in list(self._connections.values()):
            self._close_connection(conn)
        if self._registrar_connecting is not None:
            self._registrar_connecting.close()
            self._registrar_connecting = None
        for sock in (self._udp, self._tcp, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = self._wake_r = self._wake_w = None
        if self._selector is not None:
            self._selector.close()
            self._selector = None

    def _close_connection(
        self, conn: _Connection, reason: str = "the connection was closed"
    ) -> None:
        self._connections.pop(conn.sock, None)
        if self._selector is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(conn.sock)
        conn.sock.close()
        if conn is self._registrar_conn:
            self._registrar_conn = None
            if self.registration is not None and not self._stop.is_set():
                self.registration.transport_failed(reason)

    # --- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        selector = self._selector
        assert selector is not None
        next_tick = time.monotonic() + _TICK
        try:
            if self.account is not None:
                self._start_registration(self.account)
            while not self._stop.is_set():
                for key, events in selector.select(max(next_tick - time.monotonic(), 0)):
                    if self._stop.is_set():
                        break
                    try:
                        self._ready(key.fileobj, events)  # type: ignore[arg-type]
                    except Exception:  # one bad packet must not end the listener
                        log.warning(
                            "%s: unexpected error handling a packet", self.name, exc_info=True
                        )
                now = time.monotonic()
                if now < next_tick:
                    continue  # timers walk every call: a few times a second, not per packet
                next_tick = now + _TICK
                try:
                    self._on_timer(now)
                except Exception:
                    log.warning("%s: unexpected error in the timers", self.name, exc_info=True)
        finally:
            self._unregister()
            self._close_all()

    def _ready(self, sock: socket.socket, events: int = selectors.EVENT_READ) -> None:
        if sock is self._registrar_connecting:
            self._registrar_connected(sock)
        elif sock is self._wake_r:
            with contextlib.suppress(OSError):
                sock.recv(64)
        elif sock is self._udp:
            self._read_udp(sock)
        elif sock is self._tcp:
            self._accept(sock)
        else:
            conn = self._connections.get(sock)
            if conn is not None:
                self._read_tcp(conn)

    def _read_udp(self, sock: socket.socket) -> None:
        for _ in range(256):  # drain a burst, but give the timers a turn
            try:
                data, address = sock.recvfrom(MAX_MESSAGE_SIZE + 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP port unreachable reported on Linux
                log.debug("%s: UDP receive error: %s", self.name, exc)
                return
            self._datagram(data, _Reply((address[0], address[1])), "UDP")

    def _accept(self, sock: socket.socket) -> None:
        try:
            client, address = sock.accept()
        except OSError:
            return
        idle = [c for c in self._connections.values() if not c.persistent]
        if idle and len(self._connections) >= self.max_connections:
            oldest = min(idle, key=lambda c: c.last_active)
            log.warning("%s: too many TCP connections; closing the idlest", self.name)
            self._close_connection(oldest)
        client.settimeout(0.2)  # bounded sendall; reads only happen when the selector says so
        conn = _Connection(client, (address[0], address[1]))
        self._connections[client] = conn
        assert self._selector is not None
        self._selector.register(client, selectors.EVENT_READ)

    def _read_tcp(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return
        except OSError:
            self._close_connection(conn)
            return
        if not data:
            self._close_connection(conn)
            return
        conn.last_active = time.monotonic()
        conn.buffer += data
        while conn.buffer:
            try:
                length = stream_message_length(conn.buffer)
            except SipParseError as exc:
                self.malformed += 1
                log.warning("%s: closing TCP connection from %s: %s", self.name, conn.peer, exc)
                self._close_connection(conn)
                return
            if length is None:
                return
            message, conn.buffer = conn.buffer[:length], conn.buffer[length:]
            if message.strip(b"\r\n"):
                self._datagram(message, _Reply(conn.peer, conn), "TCP")

    # --- registration (register mode) --------------------------------------------------

    def _start_registration(self, account: RegistrarAccount) -> None:
        """Build the REGISTER client on the loop thread and send the first REGISTER."""
        assert self._password is not None
        transport = self.transports[0]
        host = self.host
        unresolved = self._resolve_registrar(account)
        if self._registrar_address is not None and ip_address(host).is_unspecified:
            host = _local_address_towards(self._registrar_address, host)
        sent_by = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        contact = f"sip:{_contact_user(account.user)}{sent_by}"
        if transport == "tcp":
            contact += ";transport=tcp"
        kwargs: dict[str, Any] = {}
        if self._register_timeout is not None:
            kwargs["timer_f"] = self._register_timeout
        account = replace(account, transport=transport)
        common: dict[str, Any] = {
            "contact": contact,
            "via_sent_by": sent_by,
            "password": self._password,
            "send": self._send_registrar,
            **kwargs,
        }
        self.registration = Registration(account, report=self._registration_report, **common)
        if account.dialog_state:
            self.subscription = DialogSubscription(account, on_info=self._dialog_info, **common)
        if unresolved:
            self.registration.transport_failed(unresolved)
        else:
            self.registration.start()

    def _registration_report(
        self, state: SourceState, problem: SourceProblem, detail: str, retry: float | None
    ) -> None:
        self._report(state, problem, detail, retry)
        if state is SourceState.REGISTERED and self.subscription and not self._subscribed:
            self._subscribed = True  # from now on it keeps itself going
            self.subscription.start()

    def _send_registrar(self, data: bytes) -> None:
        registration = self.registration
        assert registration is not None
        if self._registrar_address is None:
            assert self.account is not None
            problem = self._resolve_registrar(self.account)
            if problem:
                registration.transport_failed(problem)
                return
        if self.transports[0] == "udp":
            assert self._udp is not None and self._registrar_address is not None
            try:
                self._udp.sendto(data, self._registrar_address)
            except OSError as exc:
                registration.transport_failed(exc.strerror or str(exc))
            return
        conn = self._registrar_conn
        if conn is not None:
            try:
                conn.sock.sendall(data)
            except OSError as exc:
                self._close_connection(conn, reason=exc.strerror or str(exc))
            return
        self._registrar_outbox.append(data)
        if self._registrar_connecting is None:
            self._connect_registrar()

    def _resolve_registrar(self, account: RegistrarAccount) -> str:
        """Look the registrar up (once it works); what went wrong in words, or ""."""
        try:
            infos = socket.getaddrinfo(
                account.registrar_host, account.registrar_port, type=socket.SOCK_DGRAM
            )
        except OSError as exc:
            self._registrar_address = None
            return f"the host name does not resolve ({exc.strerror or exc})"
        self._registrar_address = (str(infos[0][4][0]), int(infos[0][4][1]))
        return ""

    def _connect_registrar(self) -> None:
        """Open the TCP flow to the registrar without blocking the loop."""
        assert self._registrar_address is not None and self._selector is not None
        family = socket.AF_INET6 if ":" in self._registrar_address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex(self._registrar_address)
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            sock.close()
            self._registrar_outbox.clear()
            assert self.registration is not None
            self.registration.transport_failed(os.strerror(code))
            return
        self._registrar_connecting = sock
        self._selector.register(sock, selectors.EVENT_WRITE)

    def _registrar_connected(self, sock: socket.socket) -> None:
        assert self._selector is not None and self.registration is not None
        self._registrar_connecting = None
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            sock.close()
            self._registrar_outbox.clear()
            self.registration.transport_failed(os.strerror(code))
            return
        sock.settimeout(0.2)  # bounded sendall, as for accepted connections
        assert self._registrar_address is not None
        conn = _Connection(sock, self._registrar_address, persistent=True)
        self._connections[sock] = conn
        self._selector.register(sock, selectors.EVENT_READ)
        self._registrar_conn = conn
        outbox, self._registrar_outbox = self._registrar_outbox, []
        for data in outbox:
            self._send_registrar(data)

    def _unregister(self) -> None:
        """Unsubscribe and remove our binding on the way out (best effort: answers are not
        awaited)."""
        farewells = []
        if self.subscription is not None:
            farewells.append(self.subscription.stop())
        if self.registration is not None:
            farewells.append(self.registration.unregister())
        for data in farewells:
            if data is None or self._registrar_address is None:
                continue
            with contextlib.suppress(OSError):
                if self.transports[0] == "udp" and self._udp is not None:
                    self._udp.sendto(data, self._registrar_address)
                elif self._registrar_conn is not None:
                    self._registrar_conn.sock.sendall(data)

    # --- dialog state (RFC 4235) --------------------------------------------------------

    def _notify(self, request: SipRequest, reply: _Reply) -> None:
        subscription = self.subscription
        if subscription is None or request.call_id != subscription.call_id:
            self._respond(request, reply, 481, "Subscription Does Not Exist")
            return
        event = (request.headers.get("Event") or "").split(";")[0].strip().lower()
        if event != "dialog":
            self._respond(request, reply, 489, "Bad Event", extra=("Allow-Events: dialog",))
            return
        try:
            code, reason = subscription.on_notify(request)
        except Exception:
            log.warning("%s: a dialog NOTIFY could not be read", self.name, exc_info=True)
            code, reason = 500, "Server Internal Error"
        self._respond(request, reply, code, reason)

    def _dialog_info(self, info: DialogInfo) -> None:
        """Follow the calls the extension's phones answered, ended or made."""
        listed: set[str] = set()
        for dialog in info.dialogs:
            if not dialog.call_id:
                continue  # e.g. the dummy dialog of an idle extension
            listed.add(dialog.call_id)
            call = self._calls.get(dialog.call_id)
            if call is not None:
                self._follow(call, dialog.state)
            elif dialog.direction == "initiator":
                self._follow_outgoing(dialog)
        if info.full:  # a call no longer listed has ended
            for call in list(self._calls.values()):
                if call.answered_at is not None and call.call_id not in listed:
                    self._follow(call, "terminated")
            for outgoing in list(self._outgoing.values()):
                if outgoing.call_id not in listed:
                    self._outgoing_state(outgoing, "terminated")

    def _follow(self, call: _Call, state: str) -> None:
        if state == "confirmed" and call.answered_at is None:
            call.answered_at = _now()
            self._emit(call, CallState.ANSWERED, f"answered on another phone of {call.line}")
        elif state == "terminated" and call.answered_at is not None and not call.ended:
            call.ended = True
            if call.final is None:
                call.final, call.final_at = CallState.ENDED, time.monotonic()
            self._emit(call, CallState.ENDED, "hung up")

    def _follow_outgoing(self, dialog: Dialog) -> None:
        outgoing = self._outgoing.get(dialog.call_id or "")
        if outgoing is None:
            if dialog.state == "terminated":
                return  # ended before we saw it (or listed again after its end)
            while len(self._outgoing) >= MAX_OUTGOING:
                self._outgoing.popitem(last=False)
            outgoing = _Outgoing(
                call_id=dialog.call_id or "",
                remote_number=remote_number(dialog),
                remote_display_name=dialog.remote_display,
                started_at=_now(),
                seen_at=time.monotonic(),
            )
            self._outgoing[outgoing.call_id] = outgoing
            self._emit_outgoing(outgoing, CallState.RINGING)
        self._outgoing_state(outgoing, dialog.state)

    def _outgoing_state(self, outgoing: _Outgoing, state: str) -> None:
        if state == "confirmed" and outgoing.answered_at is None:
            outgoing.answered_at = _now()
            self._emit_outgoing(outgoing, CallState.ANSWERED)
        elif state == "terminated":
            self._outgoing.pop(outgoing.call_id, None)
            answered = outgoing.answered_at is not None
            self._emit_outgoing(outgoing, CallState.ENDED if answered else CallState.MISSED)

    def _emit_outgoing(self, outgoing: _Outgoing, state: CallState) -> None:
        line = self.account.user if self.account is not None else ""
        self._deliver(
            CallEvent(
                call_id=f"sip:{outgoing.call_id}",
                state=state,
                source=self.name,
                direction=CallDirection.OUTBOUND,
                remote_number=outgoing.remote_number,
                remote_display_name=outgoing.remote_display_name,
                line=line,
                started_at=outgoing.started_at,
                answered_at=outgoing.answered_at,
                reason="not answered" if state is CallState.MISSED else "",
            )
        )

    # --- messages -----------------------------------------------------------------------

    def _datagram(self, data: bytes, reply: _Reply, transport: str) -> None:
        self.received += 1
        if not data.strip(b"\r\n"):
            return  # keep-alive
        try:
            message = parse_message(data)
        except SipParseError as exc:
            self._malformed(data, exc, reply, transport)
            return
        if isinstance(message, SipResponse):
            self._handle_response(message)
            return
        missing = message.missing_headers()
        if missing:
            self._malformed(
                data, SipParseError(f"missing {', '.join(missing)}"), reply, transport, message
            )
            return
        message = self._fix_reply(message, reply)
        try:
            self._handle_request(message, reply)
        except SipParseError as exc:
            self._malformed(data, exc, reply, transport, message)

    def _handle_response(self, response: SipResponse) -> None:
        for client in (self.registration, self.subscription):
            if client is not None and client.owns(response):
                client.on_response(response)
                return
        log.debug("%s: ignoring a %d response", self.name, response.status)

    def _malformed(
        self,
        data: bytes,
        error: SipParseError,
        reply: _Reply,
        transport: str,
        request: SipRequest | None = None,
    ) -> None:
        self.malformed += 1
        log.warning(
            "%s: malformed SIP message (%d bytes) from %s:%d: %s",
            self.name,
            len(data),
            reply.address[0],
            reply.address[1],
            error.reason,
        )
        response = _bad_request(data, error, request)
        if response is None:
            return
        if reply.connection is None:
            via = _first_via(data)
            if via is None:
                return
            reply.address = _via_destination(via, reply.address)
        self._send(response, reply)

    @staticmethod
    def _fix_reply(request: SipRequest, reply: _Reply) -> SipRequest:
        """RFC 3261 §18.2.1/§18.2.2 and RFC 3581: received/rport, and where to answer."""
        via = request.vias[0]
        source_host, source_port = reply.address
        params = dict(via.params)
        if reply.connection is None:
            add_received = _host_differs(via.host, source_host) or "rport" in params
            host = source_host if add_received else via.host
            port = source_port if "rport" in params else via.port or 5060
            reply.address = (host.strip("[]"), port)
        else:
            add_received = _host_differs(via.host, source_host) or "rport" in params
        if not (add_received or "rport" in params):
            return request
        headers = _stamp_via(request.headers, source_host, source_port, add_received)
        return replace(request, headers=headers)

    def _handle_request(self, request: SipRequest, reply: _Reply) -> None:
        method = request.method
        if method == "INVITE":
            self._invite(request, reply)
        elif method == "ACK":
            self._ack(request)
        elif method == "CANCEL":
            self._cancel(request, reply)
        elif method == "BYE":
            self._bye(request, reply)
        elif method == "NOTIFY":
            self._notify(request, reply)
        elif method == "OPTIONS":
            self._respond(
                request, reply, 200, "OK", extra=(f"Allow: {_ALLOW}", "Accept: application/sdp")
            )
        elif method in _NOT_ALLOWED:
            self._respond(request, reply, 405, "Method Not Allowed", extra=(f"Allow: {_ALLOW}",))
        else:
            self._respond(request, reply, 501, "Not Implemented", extra=(f"Allow: {_ALLOW}",))

    def _respond(
        self,
        request: SipRequest,
        reply: _Reply,
        code: int,
        reason: str,
        to_tag: str | None = None,
        extra: Sequence[str] = (),
    ) -> bytes:
        if to_tag is None and code > 100:
            to_tag = secrets.token_hex(6)
        data = _add_headers(
            response_for(request, code, reason, to_tag), (f"Server: {_USER_AGENT}", *extra)
        )
        self._send(data, reply)
        return data

    def _send(self, data: bytes, reply: _Reply) -> None:
        try:
            if reply.connection is not None:
                reply.connection.sock.sendall(data)
            elif self._udp is not None:
                self._udp.sendto(data, reply.address)
        except OSError as exc:
            log.warning("%s: cannot send a response to %s:%d: %s", self.name, *reply.address, exc)
            if reply.connection is not None:
                self._close_connection(reply.connection)

    # --- calls --------------------------------------------------------------------------

    def _invite(self, request: SipRequest, reply: _Reply) -> None:
        assert request.call_id is not None and request.cseq is not None
        assert request.to_addr is not None and request.from_addr is not None
        via = request.vias[0]
        branch = via.branch if via.rfc3261_branch else None
        call = self._calls.get(request.call_id)
        if call is not None:
            if self._same_transaction(call, request, branch):
                call.reply = reply  # a TCP retransmission may come on a new connection
                if call.last_response:
                    self._send(call.last_response, reply)
                return
            if call.final is None:
                self._respond(request, reply, 482, "Loop Detected")
                return
        if request.to_addr.tag:
            # a re-INVITE: we never establish a dialog, so there is none to refresh
            self._respond(request, reply, 481, "Call/Transaction Does Not Exist")
            return
        if call is not None:
            del self._calls[request.call_id]  # a finished call's Call-ID reused: a new call
        while len(self._calls) >= self.max_calls:
            _old_id, old = self._calls.popitem(last=False)
            self.evicted += 1
            if self.evicted == 1 or self.evicted % 1000 == 0:
                log.warning(
                    "%s: more than %d calls at once; %d forgotten so far",
                    self.name,
                    self.max_calls,
                    self.evicted,
                )
            if old.final is None:
                self._emit(old, CallState.MISSED, "forgotten: too many calls at once")
        try:
            identity = caller_identity(request, self.identity_headers)
        except ValueError:
            identity = CallerIdentity(None, "", False)
        call = _Call(
            call_id=request.call_id,
            invite=request,
            branch=branch,
            cseq=request.cseq.number,
            from_tag=request.from_addr.tag,
            to_tag=secrets.token_hex(8),
            reply=reply,
            identity=identity,
            line=request.uri.user or "",
            started_at=_now(),
            rang_at=time.monotonic(),
        )
        self._calls[call.call_id] = call
        self._respond(request, reply, 100, "Trying", call.to_tag)
        contact = f"Contact: <sip:{_contact_user(call.line)}{self._contact_host()}>"
        call.last_response = self._respond(request, reply, 180, "Ringing", call.to_tag, (contact,))
        self._emit(call, CallState.RINGING)

    def _contact_host(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @staticmethod
    def _same_transaction(call: _Call, request: SipRequest, branch: str | None) -> bool:
        assert request.cseq is not None and request.from_addr is not None
        if request.cseq.number != call.cseq:
            return False
        if branch is not None or call.branch is not None:
            return branch == call.branch
        return request.from_addr.tag == call.from_tag  # RFC 2543 peers: no magic cookie

    def _find(self, request: SipRequest) -> _Call | None:
        assert request.call_id is not None
        return self._calls.get(request.call_id)

    def _ack(self, request: SipRequest) -> None:
        call = self._find(request)
        if call is not None and call.final is not None:
            call.retransmit_at = None  # the ACK of our 487/480: absorbed

    def _cancel(self, request: SipRequest, reply: _Reply) -> None:
        call = self._find(request)
        assert request.cseq is not None
        via = request.vias[0]
        branch = via.branch if via.rfc3261_branch else None
        if call is None or not self._same_transaction(call, request, branch):
            self._respond(request, reply, 481, "Call/Transaction Does Not Exist")
            return
        self._respond(request, reply, 200, "OK", call.to_tag)
        if call.final is None:
            self._terminate(call, request)

    def _bye(self, request: SipRequest, reply: _Reply) -> None:
        call = self._find(request)
        if call is None:
            self._respond(request, reply, 481, "Call/Transaction Does Not Exist")
            return
        self._respond(request, reply, 200, "OK", call.to_tag)
        if call.final is None:
            if call.answered_at is not None:
                self._finish(call, CallState.ENDED, _reason_text(request))
            else:
                self._terminate(call, request)  # the caller gave up on an early dialog

    def _terminate(self, call: _Call, request: SipRequest) -> None:
        """487 to the INVITE; ANSWERED_ELSEWHERE or MISSED after what the request says."""
        call.last_response = _add_headers(
            response_for(call.invite, 487, "Request Terminated", call.to_tag),
            (f"Server: {_USER_AGENT}",),
        )
        self._send(call.last_response, call.reply)
        state = CallState.MISSED
        for reason in request.reasons:
            if reason.protocol.upper() == "SIP" and reason.cause == 200:
                state = CallState.ANSWERED_ELSEWHERE
                break
        # dialog state may already have told us the desk phone answered: nothing new then
        self._finish(call, state, _reason_text(request), emit=call.answered_at is None)

    def _finish(self, call: _Call, state: CallState, reason: str, *, emit: bool = True) -> None:
        now = time.monotonic()
        call.final = state
        call.final_at = now
        if call.reply.connection is None and call.last_response.startswith(b"SIP/2.0 4"):
            call.retransmit_at = now + T1
            call.retransmit_interval = T1
        if emit:
            self._emit(call, state, reason)

    def _emit(self, call: _Call, state: CallState, reason: str = "") -> None:
        self._deliver(
            CallEvent(
                call_id=f"sip:{call.call_id}",
                state=state,
                source=self.name,
                remote_number=call.identity.number,
                remote_display_name=call.identity.display_name,
                withheld=call.identity.withheld,
                line=call.line,
                started_at=call.started_at,
                answered_at=call.answered_at,
                reason=reason,
            )
        )

    def _deliver(self, event: CallEvent) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(event)
        except Exception:  # a broken consumer must not end the source
            log.warning(
                "%s: the sink failed on %s %s",
                self.name,
                event.call_id,
                event.state.value,
                exc_info=True,
            )

    # --- timers -------------------------------------------------------------------------

    def _on_timer(self, now: float) -> None:
        expired: list[str] = []
        given_up: list[_Call] = []
        for call in self._calls.values():
            if call.final is None:
                if now - call.rang_at > self.ring_timeout:
                    given_up.append(call)
                continue
            talking = call.answered_at is not None and not call.ended
            if now - call.final_at > (MAX_TALK if talking else self.linger):
                expired.append(call.call_id)
            elif call.retransmit_at is not None and now >= call.retransmit_at:
                self._send(call.last_response, call.reply)
                call.retransmit_interval = min(call.retransmit_interval * 2, T2)
                call.retransmit_at = now + call.retransmit_interval
        for call_id in expired:
            del self._calls[call_id]
        for call in given_up:
            call.last_response = _add_headers(
                response_for(call.invite, 480, "Temporarily Unavailable", call.to_tag),
                (f"Server: {_USER_AGENT}",),
            )
            self._send(call.last_response, call.reply)
            self._finish(call, CallState.MISSED, "rang too long without a CANCEL")
        for conn in list(self._connections.values()):
            if now - conn.last_active > TCP_IDLE and not conn.persistent:
                self._close_connection(conn)
        if self.registration is not None:
            self.registration.on_timer()
        if self.subscription is not None and self._subscribed:
            self.subscription.on_timer()


#: The keys of a ``[[sip]]`` settings table.
SETTINGS_KEYS = frozenset(
    {"name", "mode", "host", "port", "transports", "identity_headers", "max_calls"}
)


def listener_from_settings(
    entry: Mapping[str, Any],
    where: str = "sip",
    *,
    account: RegistrarAccount | None = None,
    password: Callable[[], str] | None = None,
) -> SipListener:
    """A listener from one ``[[sip]]`` table; ValueError names the key that is wrong.

    ``name`` defaults to ``"sip"``, ``mode`` to ``"listen"``, ``host`` to ``127.0.0.1``,
    ``port`` to 5062, ``transports`` to ``["udp", "tcp"]``, ``identity_headers`` to
    ``["P-Asserted-Identity", "Remote-Party-ID", "From"]`` (lists may also be written as
    comma-separated text, ``"udp, tcp"``), ``max_calls`` to 10,000.
    """
    unknown = sorted(set(entry) - SETTINGS_KEYS)
    if unknown:
        raise ValueError(
            f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(SETTINGS_KEYS))})"
        )

    def text(key: str, default: str) -> str:
        value = entry.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}.{key}: expected text, got {value!r}")
        return value.strip()

    def texts(key: str, default: Sequence[str]) -> tuple[str, ...]:
        value = entry.get(key, list(default))
        if isinstance(value, str):  # "udp, tcp": the settings file may hold lists as text
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where}.{key}: expected a list of names, got {value!r}")
        return tuple(value)

    def integer(key: str, default: int) -> int:
        value = entry.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}.{key}: expected a whole number, got {value!r}")
        return value

    name = text("name", "sip")
    try:
        return SipListener(
            name=name if name == "sip" or name.startswith("sip:") else f"sip:{name}",
            mode=text("mode", "listen"),
            host=text("host", "127.0.0.1"),
            port=integer("port", DEFAULT_PORT),
            transports=texts("transports", TRANSPORTS),
            identity_headers=texts("identity_headers", DEFAULT_IDENTITY_HEADERS),
            max_calls=integer("max_calls", MAX_CALLS),
            account=account,
            password=password,
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


# --- helpers ----------------------------------------------------------------------------


def _reason_text(request: SipRequest) -> str:
    for reason in request.reasons:
        text = reason.text or (f"cause {reason.cause}" if reason.cause is not None else "")
        return f"{reason.protocol}: {text}" if text else reason.protocol
    return ""


def _local_address_towards(remote: tuple[str, int], fallback: str) -> str:
    """The local address the system would use to reach ``remote`` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in remote[0] else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(remote)
            return str(probe.getsockname()[0])
    except OSError:
        return fallback


def _contact_user(line: str) -> str:
    safe = "".join(c for c in line if c.isascii() and (c.isalnum() or c in "-_.!~*'()+"))
    return f"{safe}@" if safe else ""


def _host_differs(via_host: str, source: str) -> bool:
    try:
        return ip_address(via_host.strip("[]")) != ip_address(source)
    except ValueError:
        return True  # a host name: RFC 3261 always adds received then


def _stamp_via(headers: Headers, source_host: str, source_port: int, received: bool) -> Headers:
    """A copy of ``headers`` whose top Via carries received= and a filled-in rport."""
    out = Headers()
    done = False
    for name, value in headers:
        if name == "Via" and not done:
            done = True
            values = split_header_list(value)
            parts = split_params(values[0])
            kept = [parts[0]]
            for part in parts[1:]:
                key = part.partition("=")[0].strip(" \t").lower()
                if key == "received":
                    continue
                if key == "rport":
                    part = f"rport={source_port}"
                kept.append(part)
            if received:
                kept.append(f"received={source_host}")
            values[0] = ";".join(kept)
            value = ", ".join(values)
        out.add(name, value)
    return out


def _via_destination(via: Via, source: tuple[str, int]) -> tuple[str, int]:
    params = dict(via.params)
    host = source[0] if (_host_differs(via.host, source[0]) or "rport" in params) else via.host
    port = source[1] if "rport" in params else (via.port or 5060)
    return host.strip("[]"), port


def _first_via(data: bytes) -> Via | None:
    """The top Via of a message the parser refused, if one can be read at all."""
    for line in _raw_header_lines(data):
        name, _, value = line.partition(":")
        if name.strip(" \t").lower() in ("via", "v"):
            try:
                return parse_via(split_header_list(value.strip(" \t"))[0])
            except (SipParseError, IndexError):
                return None
    return None


def _raw_header_lines(data: bytes) -> list[str]:
    head = data[:MAX_MESSAGE_SIZE].lstrip(b"\r\n").split(b"\r\n\r\n", 1)[0]
    lines = head.decode("utf-8", "replace").split("\r\n")
    return [line for line in lines[1:101] if line and line[0] not in " \t"]


def _bad_request(data: bytes, error: SipParseError, request: SipRequest | None) -> bytes | None:
    """400 (or 505) for a request we could not accept; None for responses, ACKs and garbage."""
    code = 505 if error.status == 505 else 400
    phrase = "Version Not Supported" if code == 505 else "Bad Request"
    detail = "".join(c if c.isprintable() and c.isascii() else "?" for c in error.reason)[:120]
    reason = f"{phrase} ({detail})" if detail else phrase
    if request is not None:
        if request.method == "ACK":
            return None
        return response_for(request, code, reason, secrets.token_hex(6))
    first_line = data.lstrip(b"\r\n").split(b"\r\n", 1)[0]
    method = first_line.split(b" ", 1)[0].upper()
    if not method or method.startswith(b"SIP/") or method == b"ACK" or _first_via(data) is None:
        return None
    lines = [f"SIP/2.0 {code} {reason}"]
    wanted = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To"}
    wanted |= {"call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}
    for line in _raw_header_lines(data):
        name, _, value = line.partition(":")
        canonical = wanted.get(name.strip(" \t").lower())
        if canonical and not any(c in value for c in "\r\n"):
            lines.append(f"{canonical}: {value.strip(_WS)}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")


def _add_headers(response: bytes, lines: Sequence[str]) -> bytes:
    """``lines`` inserted before the Content-Length that ends a bodiless response."""
    head, sep, rest = response.rpartition(b"Content-Length: 0\r\n\r\n")
    if not sep or rest:
        return response
    extra = "".join(f"{line}\r\n" for line in lines).encode("utf-8")
    return head + extra + sep

"""The SIP listener and the simulate-call sender over real loopback sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from desktop_crm.cti.events import CallEvent, CallState, SourceStatus
from desktop_crm.cti.sip import SipRequest, SipResponse, parse_message, response_for
from desktop_crm.cti.sip.agent import SipListener, listener_from_settings
from desktop_crm.cti.sip.client import SipClientError, send_call
from tests.helpers.integration import testdata as shared_testdata
from tests.unit.test_sip_rfc4475 import CASES, REJECT


class Events:
    def __init__(self) -> None:
        self.items: list[CallEvent] = []
        self.statuses: list[SourceStatus] = []
        self._lock = threading.Lock()

    def __call__(self, event: CallEvent | SourceStatus) -> None:
        with self._lock:
            if isinstance(event, SourceStatus):
                self.statuses.append(event)
            else:
                self.items.append(event)

    def wait_for(self, count: int, timeout: float = 3.0) -> list[CallEvent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.items) >= count:
                    return list(self.items)
            time.sleep(0.01)
        with self._lock:
            return list(self.items)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def listener(events: Events) -> Iterator[SipListener]:
    agent = SipListener(name="sip:test", port=0)
    agent.start(events)
    yield agent
    agent.stop()


def target(agent: SipListener, user: str = "201") -> str:
    return f"sip:{user}@127.0.0.1:{agent.port}"


class Peer:
    """A raw UDP socket that sends hand-written messages and reads the answers."""

    def __init__(self, agent: SipListener) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.agent = agent

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.agent.port))

    def receive(self, timeout: float = 2.0) -> SipResponse | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        message = parse_message(data)
        assert isinstance(message, SipResponse)
        return message

    def responses(self, quiet: float = 0.3) -> list[SipResponse]:
        out = []
        while (response := self.receive(quiet)) is not None:
            out.append(response)
        return out

    def request(
        self,
        method: str,
        call_id: str = "call-1",
        *,
        cseq: int = 1,
        branch: str = "z9hG4bKbranch1",
        extra: tuple[str, ...] = (),
        from_: str = '"Alice" <sip:0421@127.0.0.1>;tag=ft',
        via_params: str = "",
    ) -> bytes:
        lines = [
            f"{method} sip:201@127.0.0.1:{self.agent.port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch}{via_params}",
            "Max-Forwards: 70",
            f"From: {from_}",
            f"To: <sip:201@127.0.0.1:{self.agent.port}>",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            *extra,
            "Content-Length: 0",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def peer(listener: SipListener) -> Iterator[Peer]:
    p = Peer(listener)
    yield p
    p.close()


def states(items: list[CallEvent]) -> list[CallState]:
    return [e.state for e in items]


# --- send_call → SipListener ---------------------------------------------------------------


def test_ringing_then_missed(listener: SipListener, events: Events) -> None:
    sent = send_call(target(listener), "+49 421 70331-66", ring_seconds=0.1)
    assert sent.statuses == [100, 180, 487]
    got = events.wait_for(2)
    assert states(got) == [CallState.RINGING, CallState.MISSED]
    ringing = got[0]
    assert ringing.call_id == f"sip:{sent.call_id}"
    assert ringing.source == "sip:test"
    assert ringing.line == "201"
    assert ringing.remote_number == "+494217033166"
    assert not ringing.withheld
    assert got[1].started_at == ringing.started_at


def test_answer_is_answered_elsewhere(listener: SipListener, events: Events) -> None:
    send_call(target(listener), "0421", ring_seconds=0.0, answer=True)
    got = events.wait_for(2)
    assert states(got) == [CallState.RINGING, CallState.ANSWERED_ELSEWHERE]
    assert "completed elsewhere" in got[1].reason


def test_utf8_display_name(listener: SipListener, events: Events) -> None:
    send_call(target(listener), "0421 70331", name="Jürgen Groß", ring_seconds=0.0)
    ringing = events.wait_for(1)[0]
    assert ringing.remote_display_name == "Jürgen Groß"
    assert ringing.remote_number == "042170331"


def test_tcp_transport(listener: SipListener, events: Events) -> None:
    sent = send_call(target(listener), "0421", name="Ann", ring_seconds=0.05, transport="tcp")
    assert sent.final_status == 487
    got = events.wait_for(2)
    assert states(got) == [CallState.RINGING, CallState.MISSED]
    assert got[0].remote_display_name == "Ann"


def test_unframeable_tcp_stream_is_closed(listener: SipListener, events: Events) -> None:
    with socket.create_connection(("127.0.0.1", listener.port), timeout=2) as conn:
        conn.sendall(b"OPTIONS sip:201@127.0.0.1 SIP/2.0\r\nVia: x\r\n\r\n")  # no length
        assert conn.recv(100) == b""  # closed by the listener
    send_call(target(listener), "0421", ring_seconds=0.0, transport="tcp")
    assert states(events.wait_for(2)) == [CallState.RINGING, CallState.MISSED]


def test_no_listener_is_a_clear_error() -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))  # a port that answers nothing
    port = probe.getsockname()[1]
    try:
        with pytest.raises(SipClientError, match=r"no answer|nothing listens"):
            send_call(f"sip:201@127.0.0.1:{port}", "0421", timeout=0.6)
    finally:
        probe.close()
    with pytest.raises(SipClientError, match="not a sip"):
        send_call("mailto:a@b", "0421")


def test_a_refusing_target_is_a_clear_error() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(3)
    port = server.getsockname()[1]
    seen: list[str] = []

    def busy() -> None:
        data, address = server.recvfrom(65536)
        invite = parse_message(data)
        assert isinstance(invite, SipRequest)
        server.sendto(response_for(invite, 486, "Busy Here", "t1"), address)
        ack, _ = server.recvfrom(65536)  # the client ACKs the rejection
        seen.append(ack.split(b" ", 1)[0].decode())

    thread = threading.Thread(target=busy, name="busy-uas")
    thread.start()
    try:
        with pytest.raises(SipClientError, match="refused the call: 486 Busy Here"):
            send_call(f"sip:201@127.0.0.1:{port}", "0421")
    finally:
        thread.join(4)
        server.close()
    assert seen == ["ACK"]


# --- hand-written messages -------------------------------------------------------------------


def test_pai_preferred_over_from(peer: Peer, events: Events) -> None:
    peer.send(peer.request("INVITE", extra=('P-Asserted-Identity: "Böhm" <sip:0301234@pbx>',)))
    ringing = events.wait_for(1)[0]
    assert (ringing.remote_number, ringing.remote_display_name) == ("0301234", "Böhm")


def test_privacy_id_is_withheld(peer: Peer, events: Events) -> None:
    peer.send(peer.request("INVITE", extra=("Privacy: id",)))
    ringing = events.wait_for(1)[0]
    assert ringing.withheld and ringing.remote_number is None


def test_tel_uri(peer: Peer, events: Events) -> None:
    peer.send(peer.request("INVITE", extra=("P-Asserted-Identity: <tel:+49-421-1234>",)))
    assert events.wait_for(1)[0].remote_number == "+494211234"


def test_provisional_responses_share_a_to_tag(peer: Peer, events: Events) -> None:
    peer.send(peer.request("INVITE"))
    trying, ringing = peer.responses()
    assert (trying.status, ringing.status) == (100, 180)
    assert ringing.to_addr is not None and ringing.to_addr.tag
    assert trying.to_addr is not None and trying.to_addr.tag == ringing.to_addr.tag
    assert ringing.headers.get("Contact")
    peer.send(peer.request("CANCEL"))
    final = {r.cseq.method: r for r in peer.responses() if r.cseq is not None}
    assert final["CANCEL"].status == 200
    assert final["INVITE"].status == 487
    assert final["INVITE"].to_addr is not None
    assert final["INVITE"].to_addr.tag == ringing.to_addr.tag
    # the ACK is absorbed: no answer to it
    peer.send(peer.request("ACK", extra=()))
    assert peer.responses() == []
    assert states(events.wait_for(2)) == [CallState.RINGING, CallState.MISSED]


def test_487_is_retransmitted_until_the_ack(peer: Peer) -> None:
    peer.send(peer.request("INVITE"))
    peer.responses(0.2)
    peer.send(peer.request("CANCEL"))
    first = peer.responses(0.2)
    assert sorted(r.status for r in first) == [200, 487]
    again = peer.receive(1.5)  # Timer G: T1 = 0.5 s
    assert again is not None and again.status == 487
    peer.send(peer.request("ACK"))
    peer.responses(0.2)
    assert peer.receive(1.2) is None


def test_retransmitted_invite_gives_one_event(peer: Peer, events: Events) -> None:
    invite = peer.request("INVITE")
    peer.send(invite)
    assert [r.status for r in peer.responses()] == [100, 180]
    peer.send(invite)
    assert [r.status for r in peer.responses()] == [180]
    time.sleep(0.1)
    assert states(events.items) == [CallState.RINGING]


def test_bye_while_ringing_ends_like_cancel(peer: Peer, events: Events) -> None:
    peer.send(peer.request("INVITE"))
    peer.responses(0.2)
    peer.send(peer.request("BYE", cseq=2, branch="z9hG4bKbye"))
    statuses = sorted((r.cseq.method, r.status) for r in peer.responses() if r.cseq)
    assert statuses == [("BYE", 200), ("INVITE", 487)]
    assert states(events.wait_for(2)) == [CallState.RINGING, CallState.MISSED]


def test_cancel_or_bye_for_an_unknown_call(peer: Peer) -> None:
    peer.send(peer.request("CANCEL", call_id="nobody"))
    assert [r.status for r in peer.responses()] == [481]
    peer.send(peer.request("BYE", call_id="nobody"))
    assert [r.status for r in peer.responses()] == [481]


def test_options_and_other_methods(peer: Peer) -> None:
    peer.send(peer.request("OPTIONS"))
    (ok,) = peer.responses()
    assert ok.status == 200
    assert "INVITE" in (ok.headers.get("Allow") or "")
    peer.send(peer.request("REGISTER", call_id="r"))
    assert [r.status for r in peer.responses()] == [405]
    peer.send(peer.request("FROBNICATE", call_id="f"))
    assert [r.status for r in peer.responses()] == [501]


def test_received_and_rport(peer: Peer) -> None:
    # the Via claims another host and asks for rport: the answer still reaches us
    message = peer.request("OPTIONS").replace(
        f"127.0.0.1:{peer.port};branch=z9hG4bKbranch1".encode(),
        b"198.51.100.7:5999;branch=z9hG4bKbranch1;rport",
    )
    peer.send(message)
    (ok,) = peer.responses()
    via = ok.vias[0]
    assert dict(via.params)["received"] == "127.0.0.1"
    assert dict(via.params)["rport"] == str(peer.port)


def test_garbage_then_a_valid_invite(peer: Peer, events: Events) -> None:
    peer.send(b"\x00\xff garbage \r\n\r\n")
    peer.send(peer.request("INVITE").replace(b"Max-Forwards: 70", b"Max-Forwards: many"))
    bad = peer.responses()
    assert [r.status for r in bad] == [400]
    assert "Max-Forwards" in bad[0].reason
    peer.send(peer.request("INVITE", call_id="good"))
    assert [r.status for r in peer.responses()] == [100, 180]
    assert events.wait_for(1)[0].call_id == "sip:good"


def test_flood_is_bounded(events: Events) -> None:
    agent = SipListener(name="sip:flood", port=0, max_calls=500)
    agent.start(events)
    p = Peer(agent)
    try:
        started = time.monotonic()
        for i in range(2000):
            p.send(p.request("INVITE", call_id=f"flood-{i}", branch=f"z9hG4bKf{i}"))
        assert time.monotonic() - started < 5
        time.sleep(0.3)
        assert agent.tracked_calls <= 500
        assert agent.running
        p.sock.settimeout(0.05)
        while True:  # drain the answers to the flood
            try:
                p.sock.recv(65536)
            except TimeoutError:
                break
        p.send(p.request("OPTIONS", call_id="after-flood"))
        answers = p.responses(1.0)
        assert any(r.status == 200 and r.call_id == "after-flood" for r in answers)
        if agent.tracked_calls == 500:
            assert agent.evicted > 0
    finally:
        p.close()
        agent.stop()


def test_finished_calls_expire(events: Events) -> None:
    agent = SipListener(name="sip:short", port=0, linger=0.1)
    agent.start(events)
    try:
        send_call(target(agent), "0421", ring_seconds=0.0)
        deadline = time.monotonic() + 2
        while agent.tracked_calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert agent.tracked_calls == 0
    finally:
        agent.stop()


def test_ring_timeout_gives_up(events: Events) -> None:
    agent = SipListener(name="sip:slow", port=0, ring_timeout=0.2)
    agent.start(events)
    p = Peer(agent)
    try:
        p.send(p.request("INVITE"))
        statuses = [r.status for r in p.responses(0.8)]
        assert statuses[:3] == [100, 180, 480]
        assert states(events.wait_for(2)) == [CallState.RINGING, CallState.MISSED]
    finally:
        p.close()
        agent.stop()


def test_stop_within_a_second(events: Events) -> None:
    agent = SipListener(name="sip:stop", port=0)
    agent.start(events)
    assert agent.running
    started = time.monotonic()
    agent.stop()
    assert time.monotonic() - started < 1.0
    assert not agent.running


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="mode"):
        SipListener(mode="register")
    with pytest.raises(ValueError, match="transports"):
        SipListener(transports=("tls",))
    with pytest.raises(ValueError):
        SipListener(identity_headers=("Diversion",))


def test_listener_from_settings() -> None:
    agent = listener_from_settings(
        {"name": "office", "host": "127.0.0.1", "port": 5070, "transports": ["udp"]}
    )
    assert (agent.name, agent.port, agent.transports) == ("sip:office", 5070, ("udp",))
    assert agent.identity_headers == ("P-Asserted-Identity", "Remote-Party-ID", "From")
    as_text = listener_from_settings({"transports": "udp, tcp", "identity_headers": "from"})
    assert (as_text.transports, as_text.identity_headers) == (("udp", "tcp"), ("From",))
    default = listener_from_settings({})
    assert (default.name, default.host, default.port) == ("sip", "127.0.0.1", 5062)
    with pytest.raises(ValueError, match=r"sip\.prot: unknown key"):
        listener_from_settings({"prot": 1})
    with pytest.raises(ValueError, match=r"sip\.port: expected a whole number"):
        listener_from_settings({"port": "5062"})
    with pytest.raises(ValueError, match="transports"):
        listener_from_settings({"transports": ["tls"]})
    with pytest.raises(ValueError, match="Diversion"):
        listener_from_settings({"identity_headers": ["Diversion"]})


def test_port_in_use_is_reported(listener: SipListener) -> None:
    other = SipListener(name="sip:clash", port=listener.port)
    with pytest.raises(OSError, match="cannot listen"):
        other.start(lambda event: None)


def test_a_failing_sink_does_not_end_the_listener(listener: SipListener) -> None:
    def broken(event: CallEvent) -> None:
        raise RuntimeError("boom")

    agent = SipListener(name="sip:broken", port=0)
    agent.start(broken)
    try:
        send_call(target(agent), "0421", ring_seconds=0.0)
        send_call(target(agent), "0422", ring_seconds=0.0)
    finally:
        agent.stop()


# --- RFC 4475 -------------------------------------------------------------------------------


def test_rfc4475_messages_do_not_hurt(listener: SipListener, events: Events) -> None:
    """Every torture message: the listener survives, refuses the invalid ones, and still works.

    The messages' Vias name other hosts, so answers go there (RFC 3261 §18.2.2), not to us;
    an OPTIONS after each message is the barrier that says the listener has dealt with it.
    """
    folder = shared_testdata("rfc4475")
    files = sorted(folder.glob("*.dat"))
    assert files
    p = Peer(listener)
    try:
        for n, path in enumerate(files):
            malformed, rang = listener.malformed, len(events.items)
            p.send(path.read_bytes())
            p.send(p.request("OPTIONS", call_id=f"barrier-{n}", branch=f"z9hG4bKb{n}"))
            answers = p.responses(0.1)
            assert any(r.call_id == f"barrier-{n}" and r.status == 200 for r in answers), path.name
            assert listener.running, path.name
            verdict = CASES.get(path.name, (REJECT, ""))[0]
            if verdict == REJECT:
                assert listener.malformed == malformed + 1, path.name
                assert len(events.items) == rang, f"{path.name} rang"
        rang = len(events.items)
        p.send(p.request("INVITE", call_id="after-rfc4475", branch="z9hG4bKafter"))
        answers = [r for r in p.responses(0.5) if r.call_id == "after-rfc4475"]
        assert [r.status for r in answers] == [100, 180]
        got = events.wait_for(rang + 1)
        assert got[-1].call_id == "sip:after-rfc4475"
    finally:
        p.close()


def test_a_notify_without_our_subscription_is_refused(listener: SipListener, peer: Peer) -> None:
    peer.send(peer.request("NOTIFY", extra=("Event: dialog", "Subscription-State: active")))
    [response] = peer.responses()
    assert response.status == 481

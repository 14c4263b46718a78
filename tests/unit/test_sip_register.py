"""The REGISTER client's rules, on a clock the test turns: refresh, back-off, challenges.

The same client runs against a real Kamailio in tests/integration/test_sip_register.py; here
the registrar's answers are written by hand so that the rare ones (423, stale nonces,
Retry-After, keep-alive timing) are covered too.
"""

from __future__ import annotations

import pytest

from desktop_crm.cti.events import SourceProblem, SourceState
from desktop_crm.cti.sip.message import SipRequest, SipResponse, parse_message, response_for
from desktop_crm.cti.sip.register import (
    RegistrarAccount,
    Registration,
    refresh_delay,
    retry_delay,
)


class Registrar:
    """Drives one Registration: what it sent, what it reported, and a clock."""

    def __init__(self, **account: object) -> None:
        self.now = 1000.0
        self.sent: list[bytes] = []
        self.reports: list[tuple[SourceState, SourceProblem, str, float | None]] = []
        self.registration = Registration(
            RegistrarAccount("127.0.0.1", 5070, "100", **account),  # type: ignore[arg-type]
            contact="sip:100@127.0.0.1:5062",
            via_sent_by="127.0.0.1:5062",
            password=lambda: "pw",
            send=self.sent.append,
            report=lambda *r: self.reports.append(r),
            clock=lambda: self.now,
            rng=lambda: 1.0,  # the top of each back-off range
        )
        self.registration.start()

    @property
    def last(self) -> SipRequest:
        request = parse_message(self.sent[-1])
        assert isinstance(request, SipRequest)
        return request

    def answer(self, code: int, reason: str, *headers: str) -> None:
        data = response_for(self.last, code, reason, "t1")
        if headers:
            head, _, _ = data.partition(b"Content-Length: 0")
            data = (
                head + "".join(f"{h}\r\n" for h in headers).encode() + b"Content-Length: 0\r\n\r\n"
            )
        response = parse_message(data)
        assert isinstance(response, SipResponse)
        self.registration.on_response(response)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.registration.on_timer()

    def states(self) -> list[SourceState]:
        return [r[0] for r in self.reports]


def test_refresh_comes_at_half_time_or_a_minute_before_expiry() -> None:
    assert refresh_delay(3600) == 3540
    assert refresh_delay(600) == 540
    assert refresh_delay(60) == 30
    assert refresh_delay(2) == 1


def test_back_off_doubles_to_five_minutes_within_its_upper_half() -> None:
    for failures, ceiling in [(1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (30, 300)]:
        assert retry_delay(failures, lambda: 0.0) == ceiling / 2
        assert retry_delay(failures, lambda: 1.0) == ceiling


def test_the_first_register_asks_for_the_configured_time_and_refreshes() -> None:
    r = Registrar(expires=120)
    first = r.last
    assert first.method == "REGISTER" and first.uri.raw == "sip:127.0.0.1:5070"
    assert first.headers.get("Expires") == "120"
    assert first.headers.get("Authorization") is None
    r.answer(200, "OK", "Contact: <sip:100@127.0.0.1:5062>;expires=100")
    assert r.registration.granted == 100  # what the registrar granted, not what we asked
    assert r.states() == [SourceState.REGISTERING, SourceState.REGISTERED]
    r.advance(49.0)
    assert [d for d in r.sent if d.startswith(b"REGISTER")] == r.sent[:1]  # and keep-alives
    r.advance(1.5)
    refresh = r.last
    assert refresh.headers.get("CSeq") == "2 REGISTER"
    assert refresh.call_id == first.call_id  # one Call-ID for the registration's life


def test_a_stale_nonce_is_answered_again_and_not_taken_for_a_wrong_password() -> None:
    r = Registrar()
    r.answer(401, "Unauthorized", 'WWW-Authenticate: Digest realm="crm", nonce="n1", qop="auth"')
    assert 'nonce="n1"' in (r.last.headers.get("Authorization") or "")
    r.answer(
        401,
        "Unauthorized",
        'WWW-Authenticate: Digest realm="crm", nonce="n2", qop="auth", stale=true',
    )
    assert 'nonce="n2"' in (r.last.headers.get("Authorization") or "")
    r.answer(200, "OK")
    assert r.states()[-1] is SourceState.REGISTERED


def test_a_second_challenge_after_our_answer_is_a_wrong_password() -> None:
    r = Registrar()
    r.answer(401, "Unauthorized", 'WWW-Authenticate: Digest realm="crm", nonce="n1"')
    r.answer(401, "Unauthorized", 'WWW-Authenticate: Digest realm="crm", nonce="n3"')
    state, problem, detail, retry = r.reports[-1]
    assert (state, problem) == (SourceState.FAILED, SourceProblem.WRONG_PASSWORD)
    assert "refused the password of 100" in detail and retry is not None and retry >= 60


def test_interval_too_brief_is_answered_with_min_expires() -> None:
    r = Registrar(expires=30)
    r.answer(423, "Interval Too Brief", "Min-Expires: 300")
    assert r.last.headers.get("Expires") == "300"
    r.answer(200, "OK")
    assert r.registration.granted == 300


def test_a_busy_registrar_is_retried_no_sooner_than_it_asks() -> None:
    r = Registrar()
    r.answer(503, "Service Unavailable", "Retry-After: 120")
    state, problem, detail, retry = r.reports[-1]
    assert (state, problem) == (SourceState.FAILED, SourceProblem.UNREACHABLE)
    assert "503 Service Unavailable" in detail and retry == 120
    r.advance(119)
    assert len(r.sent) == 1
    r.advance(2)
    assert len(r.sent) == 2 and r.states()[-1] is SourceState.REGISTERING


@pytest.mark.parametrize(
    ("code", "reason", "problem", "words"),
    [
        (404, "Not Found", SourceProblem.REJECTED, "does not know user 100"),
        (403, "Forbidden", SourceProblem.REJECTED, "forbids user 100"),
        (500, "Server Internal Error", SourceProblem.REJECTED, "refused the registration"),
    ],
)
def test_refusals_are_named(code: int, reason: str, problem: SourceProblem, words: str) -> None:
    r = Registrar()
    r.answer(code, reason)
    assert r.reports[-1][1] is problem and words in r.reports[-1][2]


def test_udp_retransmits_then_gives_up_as_unreachable() -> None:
    r = Registrar()
    for _ in range(6):
        r.advance(0.5)
    assert len(r.sent) > 2 and r.sent[1] == r.sent[0]  # Timer E: the same bytes again
    r.advance(40)
    state, problem, detail, _ = r.reports[-1]
    assert (state, problem) == (SourceState.FAILED, SourceProblem.UNREACHABLE)
    assert "no answer from the registrar 127.0.0.1:5070 (UDP) within 32 s" in detail


def test_keepalives_hold_the_nat_binding_while_registered() -> None:
    r = Registrar(keepalive=25.0)
    r.answer(200, "OK", "Expires: 600")
    r.advance(24)
    assert len(r.sent) == 1
    r.advance(1.5)
    assert r.sent[-1] == b"\r\n\r\n"
    r.advance(25.5)
    assert r.sent[-2:] == [b"\r\n\r\n", b"\r\n\r\n"]


def test_unregister_sends_expires_zero_only_when_registered() -> None:
    r = Registrar()
    assert Registrar().registration.unregister() is None
    r.answer(200, "OK")
    data = r.registration.unregister()
    assert data is not None and b"Expires: 0\r\n" in data
    r.advance(10_000)
    assert r.states()[-1] is SourceState.REGISTERED  # nothing more after stop

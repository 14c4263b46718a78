"""Fuzzing the SIP parser: whatever arrives, it returns a message or raises SipParseError, fast.

The seeds are the RFC 4475 torture messages (read in place from ../shared/testdata); hypothesis
flips, cuts, inserts and inflates them, and also throws plain random bytes. A parser bug that the
catch-all in ``parse_message`` turns into "internal parser error" still fails here.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_crm.cti.sip import (
    MAX_MESSAGE_SIZE,
    SipParseError,
    SipRequest,
    SipResponse,
    parse_message,
    response_for,
    stream_message_length,
)
from tests.helpers.integration import SHARED_TESTDATA, unavailable

#: CPU seconds per message; the real cost is well under a millisecond, so this only catches
#: blow-ups. CPU time of this thread, not the wall clock: a busy machine's stall is no blow-up.
TIME_LIMIT = 0.5

FUZZ = settings(
    max_examples=250,
    deadline=None,  # timed by hand below: hypothesis deadlines are flaky on a busy CI machine
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def seeds() -> tuple[bytes, ...]:
    folder = SHARED_TESTDATA / "rfc4475"
    return tuple(p.read_bytes() for p in sorted(Path(folder).glob("*.dat")))


@pytest.fixture(scope="module", autouse=True)
def _corpus_present() -> None:
    if len(seeds()) != 50:
        unavailable(f"the RFC 4475 corpus is not in {SHARED_TESTDATA / 'rfc4475'}")


def check(data: bytes) -> None:
    started = time.thread_time()
    try:
        message = parse_message(data)
    except SipParseError as exc:
        assert isinstance(exc.reason, str) and exc.reason
        assert not exc.reason.startswith("internal parser error"), exc.__cause__
        assert exc.status in (400, 505)
        message = None
    try:
        size = stream_message_length(data)
        assert size is None or 0 < size <= len(data)
    except SipParseError as exc:
        assert exc.reason
    elapsed = time.thread_time() - started
    assert elapsed < TIME_LIMIT, f"parsing {len(data)} bytes took {elapsed:.3f} s of CPU"
    if message is None:
        return
    assert isinstance(message, SipRequest | SipResponse)
    # what a UA does next must not fail either
    _ = (message.asserted_identities, message.remote_party_ids, message.privacy, message.reasons)
    again = parse_message(message.serialize())
    assert type(again) is type(message)
    assert again.body == message.body
    if isinstance(message, SipRequest):
        message.missing_headers()
        answer = parse_message(response_for(message, 400, "Bad Request", to_tag="t1"))
        assert isinstance(answer, SipResponse) and answer.status == 400


INFLATE = [
    b"9",
    b";",
    b",",
    b'"',
    b"<",
    b">",
    b"\\",
    b"%",
    b"\r\n ",
    b"a=b;",
    b"\x00",
    b"\xff",
    b" ",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "inflate", "delete", "dup"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            i = min(at, len(data) - 1)
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "inflate":
            unit = draw(st.sampled_from(INFLATE))
            count = draw(st.sampled_from([10, 1000, 5000, 30000]))
            data[at:at] = unit * count
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "dup":
            line_end = data.find(b"\r\n", at)
            if line_end > 0:
                start = data.rfind(b"\r\n", 0, at) + 2
                data[line_end + 2 : line_end + 2] = data[start : line_end + 2]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_torture_messages(data: bytes) -> None:
    check(data)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    check(data)


SIP_ALPHABET = st.sampled_from(
    [*'SIP/2.0 INVITE sip:@;=,<>"\\%:?&tag=branch z9hG4bK\t', "\r\n", "\r\n ", "Via: ", "From: "]
)


@FUZZ
@given(st.lists(SIP_ALPHABET, max_size=400))
def test_sip_shaped_noise(pieces: list[str]) -> None:
    check(("INVITE sip:a@b SIP/2.0\r\n" + "".join(pieces)).encode())


HEAD = (
    b"INVITE sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
    b"From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c\r\n"
    b"CSeq: 1 INVITE\r\n"
)


@pytest.mark.parametrize(
    "attack",
    [
        b"Contact: " + b"<sip:a@b>," * 6000 + b"\r\n",
        b"Contact: " + b'"' + b"\\" * 60000 + b"\r\n",
        b"X: a\r\n" + b" b\r\n" * 20000,
        b"From: " + b"<" * 60000 + b"\r\n",
        b"Via: SIP/2.0/UDP h" + b";x" * 30000 + b"\r\n",
        b"P-Asserted-Identity: " + b"<tel:1>," * 7000 + b"\r\n",
        b"Reason: SIP" + b';text="' * 8000 + b"\r\n",
        b"\r\n" * 30000,
        b"X: y\r\n" * 10000,
        b"CSeq: " + b"1" * 60000 + b" INVITE\r\n",
        b"To: <sip:" + b"%41" * 2000 + b"@h>\r\n",
    ],
    ids=lambda a: repr(a[:24]),
)
def test_large_adversarial_messages_stay_fast(attack: bytes) -> None:
    data = HEAD + attack + b"\r\n"
    check(data[:MAX_MESSAGE_SIZE])
    check(b"\r\n".join(data.split(b"\r\n")[:2]) + b"\r\n" + attack[: MAX_MESSAGE_SIZE - 200])

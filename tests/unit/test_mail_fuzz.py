"""Fuzzing the mail reader: whatever a mailbox holds, a ParsedMail or a MessageError, never a
crash (the watcher skips a MessageError with its reason and goes on)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_crm.mail.headers import decode_words, header_text
from desktop_crm.mail.message import (
    MessageError,
    ParsedMail,
    attachments_from_structure,
    parse_headers,
    parse_message,
    text_section,
)
from tests.helpers.integration import SHARED_TESTDATA

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

WRITTEN = (
    b"From: =?UTF-8?Q?J=C3=B6rg?= =?UTF-8?Q?_M=C3?= =?UTF-8?Q?=BCller?= <j@x.de>\r\n"
    b'From  : obsolete <o@x.de>\r\nTo: a@x.de, "B, C" <bc@y.de>\r\nSubject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n'
    b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n'
    b"<p>Hallo</p>\r\n--b--\r\n"
)


@cache
def seeds() -> tuple[bytes, ...]:
    found = sorted(Path(SHARED_TESTDATA / "mail-samples").glob("*.eml"))
    return (WRITTEN, *(p.read_bytes() for p in found))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 8))):
        what = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if what == "flip":
            data[at] = draw(st.integers(0, 255))
        elif what == "cut":
            del data[at : at + draw(st.integers(1, 200))]
        elif what == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b"=?",
                        b"?=",
                        b"\r\n",
                        b"\r\n\r\n",
                        b"<",
                        b">",
                        b'"',
                        b"\xff",
                        b":",
                        b"=?utf-8?b?",
                        b"--b\r\n",
                    ]
                )
            )
        else:
            data[at:at] = bytes(data[at : at + 50]) * draw(st.integers(2, 20))
    return bytes(data)


def _read(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except MessageError:
        return
    assert isinstance(parsed, ParsedMail)
    assert parsed.message_id and parsed.sent_at.tzinfo is not None
    parse_headers(raw)


@FUZZ
@given(mutated())
def test_mutated_mail_never_crashes_the_reader(raw: bytes) -> None:
    _read(raw)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_the_reader(raw: bytes) -> None:
    _read(raw)


@FUZZ
@given(st.text(max_size=300))
def test_any_header_text_decodes(text: str) -> None:
    assert isinstance(decode_words(text), str)
    assert isinstance(header_text(text.encode("utf-8", "surrogatepass")), str)


structures = st.recursive(
    st.one_of(st.none(), st.integers(), st.binary(max_size=20)),
    lambda children: st.one_of(
        st.tuples(children, children, children),
        st.lists(children, max_size=4).map(tuple),
        st.lists(children, max_size=3),
    ),
    max_leaves=30,
)


@FUZZ
@given(structures)
def test_any_bodystructure_is_read_without_crashing(structure: object) -> None:
    attachments_from_structure(structure)
    text_section(structure)

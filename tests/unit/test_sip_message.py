"""The SIP message layer: what a caller-ID user agent reads from INVITE, CANCEL and friends."""

from __future__ import annotations

import pytest

from desktop_crm.cti.sip import (
    COMPACT_FORMS,
    MAX_HEADERS,
    MAX_LINE_LENGTH,
    MAX_MESSAGE_SIZE,
    Headers,
    SipParseError,
    SipRequest,
    SipResponse,
    parse_message,
    parse_name_addr,
    parse_reason,
    parse_uri,
    response_for,
    stream_message_length,
)


def sip(*lines: str, body: bytes = b"") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


INVITE_LINES = (
    "INVITE sip:200@pbx.example.com SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a1;rport",
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-b2, SIP/2.0/TCP 192.0.2.2:5070;branch=z9hG4bK-c3",
    "Max-Forwards: 70",
    'From: "Jürgen Groß" <sip:+49301234567@pbx.example.com;user=phone>;tag=abc',
    "To: <sip:200@pbx.example.com>",
    "Call-ID: 8f3e@192.0.2.10",
    "CSeq: 101 INVITE",
    "Contact: <sip:+49301234567@192.0.2.10:5060>",
)


def invite(*extra: str, body: bytes = b"") -> SipRequest:
    message = parse_message(sip(*INVITE_LINES, *extra, f"Content-Length: {len(body)}", body=body))
    assert isinstance(message, SipRequest)
    return message


def reject(data: bytes, reason: str) -> SipParseError:
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert reason in caught.value.reason
    return caught.value


# --- headers -------------------------------------------------------------------------------


def test_compact_forms_expand() -> None:
    msg = parse_message(
        sip(
            "SUBSCRIBE sip:bob@example.com SIP/2.0",
            "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
            "f: <sip:alice@example.com>;tag=1",
            "t: <sip:bob@example.com>",
            "i: compact@192.0.2.1",
            "CSeq: 1 SUBSCRIBE",
            "m: <sip:alice@192.0.2.1>",
            "k: timer, replaces",
            "s: hello",
            "o: dialog",
            "x: 1800",
            "r: <sip:carol@example.com>",
            "b: <sip:alice@example.com>",
            "u: presence",
            "e: gzip",
            "c: text/plain",
            "l: 2",
            body=b"hi",
        )
    )
    assert isinstance(msg, SipRequest)
    assert msg.call_id == "compact@192.0.2.1"
    assert msg.from_addr is not None and msg.from_addr.uri.user == "alice"
    assert msg.to_addr is not None and msg.to_addr.uri.user == "bob"
    assert msg.vias[0].branch == "z9hG4bK1"
    assert msg.contacts[0].uri.host == "192.0.2.1"
    assert msg.header_values("Supported") == ["timer", "replaces"]
    for long_name, value in [
        ("Subject", "hello"),
        ("Event", "dialog"),
        ("Session-Expires", "1800"),
        ("Refer-To", "<sip:carol@example.com>"),
        ("Referred-By", "<sip:alice@example.com>"),
        ("Allow-Events", "presence"),
        ("Content-Encoding", "gzip"),
        ("Content-Type", "text/plain"),
    ]:
        assert msg.headers.get(long_name) == value
        assert msg.headers.get(long_name.upper()) == value
    assert msg.body == b"hi"
    assert {"i", "f", "t", "v", "m", "l", "c", "k", "s", "e", "o", "x", "r", "b", "u"} <= set(
        COMPACT_FORMS
    )


def test_headers_are_an_ordered_case_insensitive_multimap() -> None:
    headers = Headers(
        [("X-A", "1"), ("x-a", "2"), ("v", "SIP/2.0/UDP h"), ("Via", "SIP/2.0/UDP i")]
    )
    assert headers.get_all("X-A") == ["1", "2"]
    assert headers.get("VIA") == "SIP/2.0/UDP h"
    assert headers.count("v") == 2
    assert [name for name, _ in headers] == ["X-A", "x-a", "Via", "Via"]
    assert "via" in headers and "Route" not in headers


def test_folded_header_lines_are_joined() -> None:
    msg = invite("Subject: first part", "  second part", "\tthird part")
    assert msg.headers.get("Subject") == "first part second part third part"


def test_continuation_before_any_header_is_rejected() -> None:
    reject(sip("OPTIONS sip:a@b SIP/2.0", " folded", "CSeq: 1 OPTIONS"), "continuation")


def test_commas_inside_quotes_and_brackets_do_not_split() -> None:
    msg = invite()
    data = sip(
        "REGISTER sip:example.com SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK9",
        "From: <sip:a@example.com>;tag=1",
        "To: <sip:a@example.com>",
        "Call-ID: r1",
        "CSeq: 1 REGISTER",
        'Contact: "Doe, John" <sip:john@192.0.2.1;x=1>;expires=60, <sip:john@192.0.2.2>',
        "Content-Length: 0",
    )
    reg = parse_message(data)
    assert isinstance(reg, SipRequest)
    assert [c.display_name for c in reg.contacts] == ["Doe, John", ""]
    assert reg.contacts[0].param("expires") == "60"
    assert [v.host for v in msg.vias] == ["192.0.2.10", "192.0.2.1", "192.0.2.2"]
    assert [v.port for v in msg.vias] == [5060, None, 5070]
    assert msg.vias[0].params == (("branch", "z9hG4bK-a1"), ("rport", None))


# --- name-addr and URIs --------------------------------------------------------------------


def test_utf8_display_name() -> None:
    msg = invite()
    assert msg.from_addr is not None
    assert msg.from_addr.display_name == "Jürgen Groß"
    assert msg.from_addr.tag == "abc"
    assert msg.from_addr.uri.phone_number == "+49301234567"


def test_invalid_utf8_display_name_is_replaced_not_fatal() -> None:
    data = sip(*INVITE_LINES[:4], "Content-Length: 0").replace(
        b"Max-Forwards: 70", b'From: "J\xfcrgen" <sip:j@example.com>;tag=9'
    )
    msg = parse_message(data)
    assert msg.from_addr is not None
    assert msg.from_addr.display_name == "J\ufffdrgen"


def test_display_name_escapes_and_tokens() -> None:
    assert parse_name_addr(r'"A \"B\" \\ C" <sip:x@y>').display_name == 'A "B" \\ C'
    assert parse_name_addr("Anna  Berg <sip:x@y>").display_name == "Anna Berg"
    assert parse_name_addr("<sip:x@y>").display_name == ""
    with pytest.raises(SipParseError):
        parse_name_addr("Berg, Anna <sip:x@y>")
    # not RFC 3261 (UTF-8 belongs in a quoted string), but PBXs send it; read it
    assert parse_name_addr("Jürgen Groß <sip:x@y>").display_name == "Jürgen Groß"
    with pytest.raises(SipParseError):
        parse_name_addr("Jürgen@home <sip:x@y>")


def test_sip_uri_parts() -> None:
    uri = parse_uri("sips:J%C3%BCrgen:secret@[2001:db8::1]:5061;transport=tls;lr?Subject=hi")
    assert uri.scheme == "sips"
    assert uri.user == "Jürgen"
    assert uri.password == "secret"
    assert uri.host == "[2001:db8::1]"
    assert uri.port == 5061
    assert uri.param("transport") == "tls" and uri.has_param("lr")
    assert uri.headers == (("Subject", "hi"),)


@pytest.mark.parametrize(
    ("text", "user", "number"),
    [
        ("tel:+49-30-123(456)7;phone-context=+49", "+49-30-123(456)7", "+49301234567"),
        ("tel:+1.212.555.0101", "+1.212.555.0101", "+12125550101"),
        ("sip:+49-30-1234.567@gw.example.com;user=phone", "+49-30-1234.567", "+49301234567"),
        ("sip:030%20123%20456@pbx.example.com", "030 123 456", "030123456"),
        ("sip:alice@example.com", "alice", None),
        ("sip:**21*@pbx", "**21*", "**21*"),
    ],
)
def test_phone_numbers_with_visual_separators(text: str, user: str, number: str | None) -> None:
    uri = parse_uri(text)
    assert uri.user == user
    assert uri.phone_number == number


def test_tel_uri_params() -> None:
    uri = parse_uri("tel:7042;phone-context=example.com")
    assert (uri.scheme, uri.user, uri.host) == ("tel", "7042", "")
    assert uri.param("phone-context") == "example.com"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sip:",
        "sip:@host",
        "sip:a@",
        "sip:a b@c",
        "sip:a@h:99999",
        "1sip:x",
        "nocolon",
        "sip:a@h;;x",
    ],
)
def test_bad_uris(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


def test_privacy_id() -> None:
    assert invite("Privacy: id").privacy == frozenset({"id"})
    assert invite("Privacy: header; ID").privacy == frozenset({"header", "id"})
    assert invite().privacy == frozenset()


def test_p_asserted_identity_with_sip_and_tel() -> None:
    msg = invite(
        'P-Asserted-Identity: "Anna Berg" <sip:+4930555@pbx.example.com;user=phone>, <tel:+4930555>'
    )
    ids = msg.asserted_identities
    assert [i.uri.scheme for i in ids] == ["sip", "tel"]
    assert ids[0].display_name == "Anna Berg"
    assert [i.uri.phone_number for i in ids] == ["+4930555", "+4930555"]
    two_lines = invite(
        "P-Asserted-Identity: <sip:+4930555@pbx.example.com>", "P-Asserted-Identity: <tel:+4930555>"
    )
    assert len(two_lines.asserted_identities) == 2


def test_remote_party_id() -> None:
    msg = invite('Remote-Party-ID: "Anna" <sip:4930555@pbx>;party=calling;privacy=full;screen=yes')
    (rpid,) = msg.remote_party_ids
    assert rpid.display_name == "Anna"
    assert rpid.param("privacy") == "full"


def test_malformed_optional_identity_is_skipped_not_fatal() -> None:
    assert invite('P-Asserted-Identity: "broken <sip:x@y>').asserted_identities == []


# --- CANCEL and Reason ---------------------------------------------------------------------


def test_cancel_with_reason() -> None:
    msg = parse_message(
        sip(
            "CANCEL sip:200@pbx.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a1",
            "From: <sip:+49301234567@pbx.example.com>;tag=abc",
            "To: <sip:200@pbx.example.com>",
            "Call-ID: 8f3e@192.0.2.10",
            "CSeq: 101 CANCEL",
            "Max-Forwards: 70",
            'Reason: SIP;cause=200;text="Call completed elsewhere"',
            "Content-Length: 0",
        )
    )
    assert isinstance(msg, SipRequest) and msg.method == "CANCEL"
    (reason,) = msg.reasons
    assert (reason.protocol, reason.cause, reason.text) == ("SIP", 200, "Call completed elsewhere")


def test_parse_reason_variants() -> None:
    reason = parse_reason('Q.850 ; cause=16 ; text="Normal call clearing"')
    assert (reason.protocol, reason.cause, reason.text) == ("Q.850", 16, "Normal call clearing")
    assert parse_reason("SIP").cause is None
    with pytest.raises(SipParseError):
        parse_reason("SIP;cause=abc")


# --- responses -----------------------------------------------------------------------------


def test_180_ringing_for_an_invite() -> None:
    request = invite()
    data = response_for(request, 180, "Ringing", to_tag="crm42")
    text = data.decode()
    assert text.startswith("SIP/2.0 180 Ringing\r\n")
    assert text.endswith("Content-Length: 0\r\n\r\n")
    ringing = parse_message(data)
    assert isinstance(ringing, SipResponse)
    assert (ringing.status, ringing.reason) == (180, "Ringing")
    assert ringing.headers.get_all("Via") == request.headers.get_all("Via")
    assert [v.branch for v in ringing.vias] == ["z9hG4bK-a1", "z9hG4bK-b2", "z9hG4bK-c3"]
    assert ringing.from_addr is not None and ringing.from_addr.tag == "abc"
    assert ringing.from_addr.display_name == "Jürgen Groß"
    assert ringing.to_addr is not None and ringing.to_addr.tag == "crm42"
    assert ringing.call_id == request.call_id
    assert ringing.cseq == request.cseq
    assert ringing.body == b""
    assert ringing.headers.get("Contact") is None


def test_response_keeps_an_existing_to_tag() -> None:
    request = parse_message(
        sip(*INVITE_LINES, "Content-Length: 0").replace(
            b"To: <sip:200@pbx.example.com>", b"To: <sip:200@pbx.example.com>;tag=old"
        )
    )
    assert isinstance(request, SipRequest)
    answer = parse_message(response_for(request, 200, "OK", to_tag="new"))
    assert answer.to_addr is not None and answer.to_addr.tag == "old"


@pytest.mark.parametrize(
    ("code", "reason", "tag"),
    [(99, "x", None), (700, "x", None), (200, "O\r\nK", None), (200, "OK", "a b")],
)
def test_response_for_refuses_bad_arguments(code: int, reason: str, tag: str | None) -> None:
    with pytest.raises(ValueError):
        response_for(invite(), code, reason, to_tag=tag)


def test_serialize_round_trip() -> None:
    request = invite("Subject: Grüße", body=b"v=0\r\n")
    data = request.serialize()
    again = parse_message(data)
    assert isinstance(again, SipRequest)
    assert (again.method, again.uri.raw, again.body) == ("INVITE", request.uri.raw, b"v=0\r\n")
    assert again.headers.items() == request.headers.items()
    assert again.serialize() == data
    ringing = parse_message(response_for(request, 180, "Ringing", to_tag="t"))
    assert isinstance(ringing, SipResponse)
    assert parse_message(ringing.serialize()).serialize() == ringing.serialize()


def test_serialize_writes_the_real_content_length() -> None:
    data = sip(*INVITE_LINES, "Content-Length: 3", body=b"abcEXTRA")
    msg = parse_message(data)
    assert msg.body == b"abc"
    assert b"Content-Length: 3\r\n\r\nabc" in msg.serialize()
    assert msg.serialize().endswith(b"abc")


# --- framing and validation ----------------------------------------------------------------


def test_body_without_content_length_is_the_rest_of_the_datagram() -> None:
    msg = parse_message(sip(*INVITE_LINES, body=b"v=0\r\n"))
    assert msg.body == b"v=0\r\n"


def test_short_body_is_rejected() -> None:
    reject(sip(*INVITE_LINES, "Content-Length: 10", body=b"abc"), "body shorter")


def test_leading_crlf_keepalives_are_ignored() -> None:
    msg = parse_message(b"\r\n\r\n" + sip(*INVITE_LINES, "Content-Length: 0"))
    assert isinstance(msg, SipRequest)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty message"),
        (b"\r\n\r\n", "empty message"),
        (sip("INVITE sip:a@b SIP/3.0"), "unsupported SIP version"),
        (sip("INVITE sip:a@b SIP/2"), "malformed SIP version"),
        (sip("INVITE sip:a@b"), "request line"),
        (sip("INV<ITE sip:a@b SIP/2.0"), "malformed method"),
        (sip("SIP/2.0 20 OK"), "three digits"),
        (sip("SIP/2.0 099 Low"), "out of range"),
        (sip("OPTIONS sip:a@b SIP/2.0", "CSeq: 1"), "CSeq method"),
        (sip("OPTIONS sip:a@b SIP/2.0", "CSeq: " + "9" * 5000 + " OPTIONS"), "CSeq number"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Content-Length: " + "9" * 5000), "Content-Length"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Max-Forwards: many"), "Max-Forwards"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP"), "Via host"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Via: HTTP/1.1/TCP h"), "Via protocol"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP h:0x50"), "port"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Contact: <sip:a@b>,,"), "empty Contact"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Call-ID: a b"), "Call-ID"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Bad Name: x"), "header name"),
        (sip("OPTIONS sip:a@b SIP/2.0", "From: <sip:a@b"), "From"),
        (sip("OPTIONS sip:a@b SIP/2.0", "To: <sip:a@b> junk"), "unexpected text"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nX: a\nY: b\r\n\r\n", "bare CR or LF"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    reject(data, reason)


def test_version_error_carries_505() -> None:
    assert reject(sip("OPTIONS sip:a@b SIP/2.1"), "version").status == 505
    assert reject(sip("OPTIONS sip:a@b SIP/x"), "version").status == 400


def test_size_caps() -> None:
    reject(b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: " + b"a" * MAX_MESSAGE_SIZE, "larger than")
    many = [f"X-{i}: v" for i in range(MAX_HEADERS + 1)]
    reject(sip("OPTIONS sip:a@b SIP/2.0", *many), f"more than {MAX_HEADERS} headers")
    reject(sip("OPTIONS sip:a@b SIP/2.0", "X: " + "a" * MAX_LINE_LENGTH), "longer than")
    folded = ["X: a", *[" " + "b" * 100] * (MAX_LINE_LENGTH // 100 + 1)]
    reject(sip("OPTIONS sip:a@b SIP/2.0", *folded), "longer than")


def test_missing_headers() -> None:
    msg = parse_message(sip("OPTIONS sip:a@b SIP/2.0", "CSeq: 1 OPTIONS"))
    assert isinstance(msg, SipRequest)
    assert msg.missing_headers() == ("Call-ID", "From", "To", "Via")
    assert invite().missing_headers() == ()


def test_max_forwards_overflow_is_read_as_255() -> None:
    assert invite().max_forwards == 70
    msg = parse_message(sip("OPTIONS sip:a@b SIP/2.0", "Max-Forwards: 300"))
    assert msg.max_forwards == 255


def test_input_types() -> None:
    msg = parse_message(bytearray(sip(*INVITE_LINES, "Content-Length: 0")))  # type: ignore[arg-type]
    assert isinstance(msg, SipRequest)
    reject(b"\x00\xff\xfe", "")
    reject("INVITE sip:a@b SIP/2.0\r\n\r\n", "not bytes")  # type: ignore[arg-type]


# --- stream framing ------------------------------------------------------------------------


def test_stream_framing_splits_back_to_back_messages() -> None:
    first = sip(*INVITE_LINES, "Content-Length: 5", body=b"v=0\r\n")
    second = sip("OPTIONS sip:a@b SIP/2.0", "CSeq: 2 OPTIONS", "l: 0")
    buffer = b"\r\n" + first + second
    size = stream_message_length(buffer)
    assert size == 2 + len(first)
    assert parse_message(buffer[:size]).body == b"v=0\r\n"
    assert stream_message_length(buffer[size:]) == len(second)
    assert stream_message_length(first[:-1]) is None  # body not complete yet
    assert stream_message_length(first[:40]) is None  # header section not complete yet
    assert stream_message_length(b"") is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (sip("OPTIONS sip:a@b SIP/2.0", "CSeq: 1 OPTIONS"), "exactly one Content-Length"),
        (sip("OPTIONS sip:a@b SIP/2.0", "l: 1", "Content-Length: 1"), "exactly one"),
        (sip("OPTIONS sip:a@b SIP/2.0", "Content-Length: -1"), "not a number"),
        (sip("OPTIONS sip:a@b SIP/2.0", f"Content-Length: {MAX_MESSAGE_SIZE + 1}"), "larger"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"a" * MAX_MESSAGE_SIZE, "header section larger"),
    ],
)
def test_stream_framing_errors(data: bytes, reason: str) -> None:
    with pytest.raises(SipParseError) as caught:
        stream_message_length(data)
    assert reason in caught.value.reason

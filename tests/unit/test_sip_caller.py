"""The caller identity of an INVITE: which header wins, numbers, names, privacy."""

from __future__ import annotations

import pytest

from desktop_crm.cti.sip import SipRequest, parse_message
from desktop_crm.cti.sip.caller import CallerIdentity, caller_identity, check_identity_headers


def invite(*headers: str, from_: str = '"Alice" <sip:alice@example.com>;tag=1') -> SipRequest:
    lines = [
        "INVITE sip:201@127.0.0.1 SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc",
        f"From: {from_}",
        "To: <sip:201@127.0.0.1>",
        "Call-ID: c1",
        "CSeq: 1 INVITE",
        *headers,
        "Content-Length: 0",
    ]
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
    assert isinstance(message, SipRequest)
    return message


def test_from_only() -> None:
    request = invite(from_='"Jürgen Groß" <sip:+49-421-70331-66@pbx>;tag=1')
    assert caller_identity(request) == CallerIdentity("+494217033166", "Jürgen Groß", False)


def test_pai_preferred_over_from() -> None:
    request = invite('P-Asserted-Identity: "Katharina Böhm" <sip:042170331@pbx>')
    assert caller_identity(request) == CallerIdentity("042170331", "Katharina Böhm", False)


def test_remote_party_id_between_pai_and_from() -> None:
    request = invite('Remote-Party-ID: "Bob" <sip:0301234@pbx>;party=calling;screen=yes')
    assert caller_identity(request) == CallerIdentity("0301234", "Bob", False)
    both = invite(
        "P-Asserted-Identity: <sip:111@pbx>", 'Remote-Party-ID: "Bob" <sip:222@pbx>;party=calling'
    )
    # the number from PAI, the name from the first header that has one
    assert caller_identity(both) == CallerIdentity("111", "Bob", False)


def test_order_is_configurable() -> None:
    request = invite("P-Asserted-Identity: <sip:111@pbx>", from_="<sip:222@pbx>;tag=1")
    assert caller_identity(request, ("From", "P-Asserted-Identity")).number == "222"
    assert check_identity_headers(["from", "p-asserted-identity"]) == (
        "From",
        "P-Asserted-Identity",
    )
    with pytest.raises(ValueError, match="Diversion"):
        check_identity_headers(["Diversion"])
    with pytest.raises(ValueError):
        check_identity_headers([])


def test_tel_uri() -> None:
    request = invite("P-Asserted-Identity: <tel:+49-421-70331-66>")
    assert caller_identity(request) == CallerIdentity("+494217033166", "Alice", False)


def test_pai_with_sip_and_tel_prefers_the_number() -> None:
    request = invite('P-Asserted-Identity: "Ann" <sip:ann@pbx>, <tel:+4930123>')
    assert caller_identity(request) == CallerIdentity("+4930123", "Ann", False)


def test_no_number_anywhere_gives_the_user_part() -> None:
    assert caller_identity(invite()) == CallerIdentity("alice", "Alice", False)


@pytest.mark.parametrize(
    "extra, from_",
    [
        (("Privacy: id",), '"Alice" <sip:0421@pbx>;tag=1'),
        (("Privacy: header;id",), '"Alice" <sip:0421@pbx>;tag=1'),
        (("Privacy: header",), '"Alice" <sip:0421@pbx>;tag=1'),
        ((), '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1'),
        ((), "<sip:unknown@pbx>;tag=1"),
        ((), "<sip:Restricted@pbx>;tag=1"),
        ((), "<sip:0421@anonymous.invalid>;tag=1"),
        (("Remote-Party-ID: <sip:0421@pbx>;party=calling;privacy=full",), "<sip:0421@pbx>;tag=1"),
        (("P-Asserted-Identity: <sip:anonymous@pbx>",), "<sip:0421@pbx>;tag=1"),
    ],
)
def test_withheld(extra: tuple[str, ...], from_: str) -> None:
    assert caller_identity(invite(*extra, from_=from_)) == CallerIdentity(None, "", True)


def test_privacy_none_is_not_withheld() -> None:
    request = invite("Privacy: none", from_="<sip:0421@pbx>;tag=1")
    assert caller_identity(request) == CallerIdentity("0421", "", False)


def test_malformed_identity_headers_fall_back_to_from() -> None:
    request = invite('P-Asserted-Identity: "unterminated <sip:1@x>', from_="<sip:0421@pbx>;tag=1")
    assert caller_identity(request).number == "0421"

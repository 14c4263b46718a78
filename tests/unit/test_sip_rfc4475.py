"""RFC 4475 torture messages: every file, with the verdict its README (../shared/testdata) gives.

The files are read in place and never copied into the repository; SHA256SUMS is checked so an
editor that "fixes" line endings or trailing spaces is caught.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from desktop_crm.cti.sip import (
    SipParseError,
    SipRequest,
    SipResponse,
    parse_message,
    response_for,
)
from tests.helpers.integration import testdata as shared_testdata

ACCEPT = "accept"
REJECT = "reject"

# file -> (verdict, what the README names). REJECT entries carry a word of the reason, so a
# message refused for the wrong cause is noticed. Where the RFC lets a liberal element repair a
# message (lwsstart, trws, ltgtruri, lwsruri, escruri, baddate, regbadct, quotbal), we choose
# the strict answer the README lists as the verdict.
CASES: dict[str, tuple[str, str]] = {
    # 3.1.1 valid
    "wsinv.dat": (ACCEPT, ""),
    "intmeth.dat": (ACCEPT, ""),
    "esc01.dat": (ACCEPT, ""),
    "escnull.dat": (ACCEPT, ""),
    "esc02.dat": (ACCEPT, ""),
    "lwsdisp.dat": (ACCEPT, ""),
    "longreq.dat": (ACCEPT, ""),
    "dblreq.dat": (ACCEPT, ""),
    "semiuri.dat": (ACCEPT, ""),
    "transports.dat": (ACCEPT, ""),
    "mpart01.dat": (ACCEPT, ""),
    "unreason.dat": (ACCEPT, ""),
    "noreason.dat": (ACCEPT, ""),
    # 3.1.2 invalid
    "badinv01.dat": (REJECT, "empty or malformed parameter"),
    "clerr.dat": (REJECT, "body shorter than Content-Length"),
    "ncl.dat": (REJECT, "Content-Length"),
    "scalar02.dat": (REJECT, "CSeq"),
    "scalarlg.dat": (REJECT, "CSeq"),
    "quotbal.dat": (REJECT, "unterminated quoted"),
    "ltgtruri.dat": (REJECT, "angle bracket"),
    "lwsruri.dat": (REJECT, "request line"),
    "lwsstart.dat": (REJECT, "request line"),
    "trws.dat": (REJECT, "request line"),
    "escruri.dat": (REJECT, "Request-URI"),
    "baddate.dat": (REJECT, "Date"),
    "regbadct.dat": (REJECT, "enclosed in <>"),
    "badaspec.dat": (REJECT, "whitespace"),
    "baddn.dat": (REJECT, "display name"),
    "badvers.dat": (REJECT, "version"),
    "mismatch01.dat": (REJECT, "CSeq method"),
    "mismatch02.dat": (REJECT, "CSeq method"),
    "bigcode.dat": (REJECT, "status code"),
    # 3.2 transaction layer
    "badbranch.dat": (ACCEPT, ""),
    # 3.3 application layer
    "insuf.dat": (ACCEPT, ""),
    "unkscm.dat": (ACCEPT, ""),
    "novelsc.dat": (ACCEPT, ""),
    "unksm2.dat": (ACCEPT, ""),
    "bext01.dat": (ACCEPT, ""),
    "invut.dat": (ACCEPT, ""),
    "regaut01.dat": (ACCEPT, ""),
    "multi01.dat": (REJECT, "more than one"),
    "mcl01.dat": (REJECT, "more than one Content-Length"),
    "bcast.dat": (ACCEPT, ""),
    "zeromf.dat": (ACCEPT, ""),
    "cparam01.dat": (ACCEPT, ""),
    "cparam02.dat": (ACCEPT, ""),
    "regescrt.dat": (ACCEPT, ""),
    "sdp01.dat": (ACCEPT, ""),
    # 3.4 backward compatibility
    "inv2543.dat": (ACCEPT, ""),
}


def corpus() -> Path:
    return shared_testdata("rfc4475")


def read(name: str) -> bytes:
    return (corpus() / name).read_bytes()


def request(name: str) -> SipRequest:
    message = parse_message(read(name))
    assert isinstance(message, SipRequest)
    return message


def response(name: str) -> SipResponse:
    message = parse_message(read(name))
    assert isinstance(message, SipResponse)
    return message


def test_the_files_are_unchanged() -> None:
    folder = corpus()
    sums = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name.lstrip("*")] = digest
    assert len(sums) == 50
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_the_table_covers_every_file() -> None:
    files = {p.name for p in corpus().glob("*.dat")}
    assert len(files) == 50
    assert set(CASES) | {"test.dat"} == files


@pytest.mark.parametrize("name", sorted(CASES))
def test_verdict(name: str) -> None:
    verdict, reason = CASES[name]
    if verdict == ACCEPT:
        assert isinstance(parse_message(read(name)), SipRequest | SipResponse)
    else:
        with pytest.raises(SipParseError) as caught:
            parse_message(read(name))
        assert reason in caught.value.reason


def test_test_dat_does_not_crash() -> None:
    # no expectation beyond "a message or a SipParseError" (RFC 2543-era, no version)
    try:
        outcome: object = parse_message(read("test.dat"))
    except SipParseError as exc:
        outcome = exc
    assert isinstance(outcome, SipRequest | SipResponse | SipParseError)


# --- 3.1.1 valid messages, the fields the README names -------------------------------------


def test_wsinv() -> None:
    msg = request("wsinv.dat")
    assert msg.method == "INVITE"
    assert msg.from_addr is not None and msg.to_addr is not None
    assert msg.from_addr.display_name == 'J Rosenberg \\"'
    assert msg.from_addr.uri.user == "jdrosen"
    assert msg.from_addr.tag == "98asjd8"
    assert msg.to_addr.tag == "1918181833n"
    assert msg.to_addr.uri.user == "vivekg"
    assert msg.cseq is not None and (msg.cseq.number, msg.cseq.method) == (9, "INVITE")
    assert msg.max_forwards == 68
    assert msg.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert msg.headers.get("Subject") == ""
    assert [v.branch for v in msg.vias] == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"]
    assert [v.transport for v in msg.vias] == ["UDP", "TCP", "UDP"]
    assert msg.contacts[0].display_name == 'Quoted string ""'
    assert msg.contacts[0].param("newparam") == "newvalue"
    assert msg.contacts[0].param("q") == "0.33"
    assert len(msg.body) == 150 and msg.body.startswith(b"v=0")


def test_intmeth() -> None:
    msg = request("intmeth.dat")
    assert msg.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert msg.to_addr is not None and msg.from_addr is not None
    assert msg.to_addr.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert msg.from_addr.display_name == "token1~` token2'+_ token3*%!.-"
    assert msg.from_addr.param("fromparam''~+*_!.-%") == "работающий"
    assert msg.from_addr.tag == "_token~1'+`*%!-."
    assert msg.uri.user is not None and msg.uri.user.startswith("1_unusual.URI~")
    assert msg.uri.host == "example.com"


def test_esc01_user_with_spaces() -> None:
    msg = request("esc01.dat")
    assert msg.from_addr is not None
    assert msg.from_addr.uri.user == "I have spaces"


def test_escnull_two_different_contacts() -> None:
    msg = request("escnull.dat")
    assert msg.to_addr is not None and msg.to_addr.uri.user == "null-\x00-null"
    users = [c.uri.user for c in msg.contacts]
    assert users == ["\x00", "\x00\x00"]


def test_esc02_method_is_not_register() -> None:
    msg = request("esc02.dat")
    assert msg.method == "RE%47IST%45R"
    assert msg.to_addr is not None and msg.to_addr.display_name == "%Z%45"
    # C%6Fntact is an unknown header, not a Contact
    assert [c.uri.host for c in msg.contacts] == ["host1.example.com", "host3.example.com"]
    assert msg.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def test_lwsdisp() -> None:
    msg = request("lwsdisp.dat")
    assert msg.from_addr is not None
    assert msg.from_addr.display_name == "caller"
    assert msg.from_addr.uri.user == "caller"


def test_longreq() -> None:
    msg = request("longreq.dat")
    assert msg.from_addr is not None
    assert msg.from_addr.uri.user == "amazinglylongcallername" * 5
    assert msg.to_addr is not None and "extremeextreme" in msg.to_addr.display_name
    assert len(msg.vias) == 34
    assert msg.vias[-1].host == "host.example.com"


def test_dblreq_ignores_trailing_octets() -> None:
    msg = request("dblreq.dat")
    assert msg.method == "REGISTER"
    assert msg.body == b""


def test_semiuri_user_part() -> None:
    msg = request("semiuri.dat")
    assert msg.uri.user == "user;par=u@example.net"
    assert msg.uri.host == "example.com"
    assert "message/sipfrag" in msg.header_values("Accept")


def test_transports() -> None:
    msg = request("transports.dat")
    assert len(msg.vias) >= 4


def test_mpart01_binary_body_kept() -> None:
    msg = request("mpart01.dat")
    assert msg.method == "MESSAGE"
    assert len(msg.body) == int(msg.headers.get("Content-Length") or 0)


def test_unreason() -> None:
    msg = response("unreason.dat")
    assert msg.status == 200
    assert msg.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"


def test_noreason() -> None:
    msg = response("noreason.dat")
    assert (msg.status, msg.reason) == (100, "")


# --- other accepted messages -------------------------------------------------------------


def test_badbranch_parses_but_is_not_rfc3261() -> None:
    msg = request("badbranch.dat")
    assert msg.vias[0].branch == "z9hG4bK"
    assert not msg.vias[0].rfc3261_branch


def test_insuf_parses_and_misses_headers() -> None:
    msg = request("insuf.dat")
    assert set(msg.missing_headers()) == {"Call-ID", "From", "To"}


def test_unknown_schemes() -> None:
    assert request("unkscm.dat").uri.scheme == "nobodyknowsthisscheme"
    assert request("novelsc.dat").uri.scheme == "soap.beep"
    msg = request("unksm2.dat")
    assert msg.from_addr is not None and msg.from_addr.uri.scheme == "http"
    assert msg.from_addr.uri.user is None  # no caller to look up
    assert msg.to_addr is not None and msg.to_addr.uri.scheme == "isbn"


def test_bcast_two_vias() -> None:
    assert [v.host for v in response("bcast.dat").vias] == ["192.0.2.198", "255.255.255.255"]


def test_zeromf() -> None:
    assert request("zeromf.dat").max_forwards == 0


def test_contact_parameters() -> None:
    bare = request("cparam01.dat").contacts[0]
    assert not bare.bracketed and bare.param("unknownparam") is None
    assert bare.params == (("unknownparam", None),)
    assert bare.uri.params == ()
    bracketed = request("cparam02.dat").contacts[0]
    assert bracketed.uri.has_param("unknownparam") and bracketed.params == ()


def test_regescrt_header_in_contact_uri() -> None:
    contact = request("regescrt.dat").contacts[0]
    assert contact.uri.headers == (("Route", "<sip:sip.example.com>"),)


def test_inv2543_telephone_caller() -> None:
    msg = request("inv2543.dat")
    assert msg.from_addr is not None
    assert msg.from_addr.tag is None
    assert msg.from_addr.uri.user == "+13035551111"
    assert msg.from_addr.uri.param("user") == "phone"
    assert msg.from_addr.uri.phone_number == "+13035551111"
    assert msg.vias[0].branch is None
    assert msg.max_forwards is None
    assert msg.body.startswith(b"v=0")  # no Content-Length: the rest of the datagram


def test_badvers_answers_505() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(read("badvers.dat"))
    assert caught.value.status == 505


@pytest.mark.parametrize("name", [n for n, (v, _) in CASES.items() if v == ACCEPT])
def test_accepted_requests_get_a_well_formed_response(name: str) -> None:
    msg = parse_message(read(name))
    if not isinstance(msg, SipRequest) or msg.missing_headers():
        return
    answer = parse_message(response_for(msg, 400, "Bad Request", to_tag="x1"))
    assert isinstance(answer, SipResponse)
    assert answer.call_id == msg.call_id
    assert answer.cseq == msg.cseq
    assert len(answer.vias) == len(msg.vias)

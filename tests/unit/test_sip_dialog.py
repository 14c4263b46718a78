"""Reading RFC 4235 dialog-info documents, including what a PBX really sends and hostile ones."""

from __future__ import annotations

import pytest

from desktop_crm.cti.sip.dialog import (
    DialogInfoError,
    parse_dialog_info,
    remote_number,
)

KAMAILIO_EARLY = b"""<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="2" state="full"
             entity="sip:100@127.0.0.1">
  <dialog id="padi-6b02e480-1ace-1" call-id="crm-dialog-ae01-1@127.0.0.1"
          local-tag="6902SIPpTag011" remote-tag="6908SIPpTag001" direction="recipient">
    <state>early</state>
    <remote><identity display="J\xc3\xbcrgen Gro\xc3\x9f">sip:+4930123456@127.0.0.1:60989</identity>
      <target uri="sip:+4930123456@127.0.0.1:60989"/></remote>
    <local><identity>sip:100@127.0.0.1:58905</identity></local>
  </dialog>
  <dialog id="other" call-id="out-1@pbx" direction="initiator">
    <state>Trying</state><duration>12</duration>
    <remote><identity>tel:+49891234</identity></remote>
  </dialog>
  <dialog id="615293b33c62dec073e05d9421e9f48b" direction="recipient">
    <state>terminated</state>
  </dialog>
</dialog-info>"""


def test_a_kamailio_document_is_read() -> None:
    info = parse_dialog_info(KAMAILIO_EARLY)
    assert (info.version, info.full, info.entity) == (2, True, "sip:100@127.0.0.1")
    early, outgoing, dummy = info.dialogs
    assert (early.call_id, early.state, early.direction) == (
        "crm-dialog-ae01-1@127.0.0.1",
        "early",
        "recipient",
    )
    assert early.remote_display == "Jürgen Groß"
    assert remote_number(early) == "+4930123456"
    assert (outgoing.state, outgoing.duration, remote_number(outgoing)) == (
        "trying",
        12,
        "+49891234",
    )
    assert dummy.call_id is None and remote_number(dummy) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<dialog-info", "not well-formed"),
        (b'<presence xmlns="urn:ietf:params:xml:ns:pidf"/>', "not a dialog-info document"),
        (b'<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" state="full"/>', "version"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b'<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1">&lol2;</dialog-info>',
            "document type declaration",
        ),
    ],
)
def test_what_is_not_a_dialog_info_document_is_refused_with_a_reason(
    body: bytes, reason: str
) -> None:
    with pytest.raises(DialogInfoError, match=reason):
        parse_dialog_info(body)


def test_anonymous_remotes_have_no_number() -> None:
    body = (
        b'<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="partial">'
        b'<dialog id="a" call-id="c"><state>confirmed</state><remote>'
        b"<identity>sip:anonymous@anonymous.invalid</identity></remote></dialog></dialog-info>"
    )
    info = parse_dialog_info(body)
    assert not info.full
    assert remote_number(info.dialogs[0]) is None

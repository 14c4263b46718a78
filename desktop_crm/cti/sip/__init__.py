"""Our own SIP user agent, starting with the message layer (issue 4).

Only the stdlib: the parser faces whatever reaches the UDP port, so it is small enough to read,
fuzzed, and checked against every RFC 4475 torture message.
"""

from desktop_crm.cti.sip.headers import COMPACT_FORMS, Headers, SipParseError
from desktop_crm.cti.sip.message import (
    MAX_HEADERS,
    MAX_LINE_LENGTH,
    MAX_MESSAGE_SIZE,
    CSeq,
    Reason,
    SipRequest,
    SipResponse,
    Via,
    parse_message,
    parse_reason,
    parse_via,
    response_for,
    stream_message_length,
)
from desktop_crm.cti.sip.uri import NameAddress, SipUri, parse_name_addr, parse_uri

__all__ = [
    "COMPACT_FORMS",
    "MAX_HEADERS",
    "MAX_LINE_LENGTH",
    "MAX_MESSAGE_SIZE",
    "CSeq",
    "Headers",
    "NameAddress",
    "Reason",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "SipUri",
    "Via",
    "parse_message",
    "parse_name_addr",
    "parse_reason",
    "parse_uri",
    "parse_via",
    "response_for",
    "stream_message_length",
]

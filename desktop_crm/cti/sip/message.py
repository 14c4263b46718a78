"""SIP requests and responses: parsing hostile datagrams, serialising, building responses.

``parse_message`` returns a :class:`SipRequest` or :class:`SipResponse`, or raises
:class:`SipParseError` with a reason. It never raises anything else, caps size, header count and
line length, and does a bounded amount of work per byte, because anybody who can reach the UDP
port can send it anything (RFC 4475 is the reference for what "anything" means).

Framing follows the datagram rules of RFC 3261 §18.3: without Content-Length the body is the
rest of the datagram; a body shorter than Content-Length is an error; octets beyond it are
ignored. Stream framing (wait for more data) is the transport's job.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import NamedTuple

from desktop_crm.cti.sip.headers import (
    Headers,
    SipParseError,
    canonical_name,
    is_token,
    split_header_list,
    split_params,
)
from desktop_crm.cti.sip.uri import (
    NameAddress,
    Params,
    SipUri,
    parse_name_addr,
    parse_params,
    parse_port,
    parse_uri,
)

__all__ = [
    "MAX_HEADERS",
    "MAX_LINE_LENGTH",
    "MAX_MESSAGE_SIZE",
    "CSeq",
    "Reason",
    "SipRequest",
    "SipResponse",
    "Via",
    "parse_message",
    "parse_reason",
    "parse_via",
    "response_for",
    "stream_message_length",
]

log = logging.getLogger(__name__)

#: Largest datagram or message we read at all (RFC 3261 allows 65535 octets over UDP).
MAX_MESSAGE_SIZE = 64 * 1024
#: Most header lines (after unfolding) in one message.
MAX_HEADERS = 256
#: Longest physical line, and longest header after unfolding.
MAX_LINE_LENGTH = 8 * 1024

SIP_VERSION = "SIP/2.0"
_VERSION = re.compile(r"SIP/[0-9]+\.[0-9]+", re.IGNORECASE)
_MAX_CSEQ = 2**32 - 1
#: Headers a message may carry at most once (RFC 4475 §3.3.8 and §3.3.9).
_SINGLE = ("Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length", "Content-Type")
_RFC1123 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    r"[0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)


def _text(raw: str) -> str:
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _digits(text: str, what: str, max_digits: int) -> int:
    # checked before int(): a 5,000-digit "number" is cheap to reject, costly to convert
    if not (text.isascii() and text.isdigit()):
        raise SipParseError(f"{what} is not a number: {text[:20]!r}")
    if len(text) > max_digits:
        raise SipParseError(f"{what} is too large")
    return int(text)


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


@dataclass(frozen=True)
class Via:
    """One Via value: ``SIP/2.0/UDP host:port;branch=...``."""

    transport: str
    host: str
    port: int | None
    params: Params = ()

    @property
    def branch(self) -> str | None:
        for key, value in self.params:
            if key == "branch":
                return value
        return None

    @property
    def rfc3261_branch(self) -> bool:
        """A branch with the magic cookie and something after it (RFC 3261 §8.1.1.7)."""
        branch = self.branch
        return branch is not None and branch.startswith("z9hG4bK") and len(branch) > 7


def parse_via(value: str) -> Via:
    parts = split_params(value)
    sent_protocol, _, sent_by = parts[0].rpartition("/")
    pieces = [p.strip(" \t") for p in sent_protocol.split("/")]
    sent_by = sent_by.strip(" \t")
    transport, _, sent_by = sent_by.partition(" ")
    if len(pieces) != 2 or pieces[0].upper() != "SIP" or not all(is_token(p) for p in pieces):
        raise SipParseError(f"malformed Via protocol: {parts[0][:40]!r}")
    if not is_token(transport):
        raise SipParseError("malformed Via transport")
    sent_by = sent_by.strip(" \t")
    if sent_by.startswith("["):
        end = sent_by.find("]")
        host, port_text = sent_by[: end + 1], sent_by[end + 1 :]
    else:
        host, colon, port_text = sent_by.partition(":")
        port_text = colon + port_text
    if not host or not re.fullmatch(r"[A-Za-z0-9\-._]+|\[[0-9A-Fa-f:.]+\]", host):
        raise SipParseError(f"malformed Via host: {sent_by[:40]!r}")
    port = None
    if port_text:
        if not port_text.startswith(":"):
            raise SipParseError("malformed Via port")
        port = parse_port(port_text[1:].strip(" \t"))
    params = parse_params(parts[1:], "Via")
    return Via(transport=transport.upper(), host=host.lower(), port=port, params=params)


@dataclass(frozen=True)
class Reason:
    """A Reason header value (RFC 3326), e.g. ``SIP;cause=200;text="Call completed elsewhere"``."""

    protocol: str
    cause: int | None
    text: str


def parse_reason(value: str) -> Reason:
    parts = split_params(value)
    protocol = parts[0]
    if not is_token(protocol):
        raise SipParseError("malformed Reason protocol")
    params = dict(parse_params(parts[1:], "Reason"))
    cause_text = params.get("cause")
    cause = _digits(cause_text, "Reason cause", 5) if cause_text is not None else None
    return Reason(protocol=protocol, cause=cause, text=_text(params.get("text") or ""))


@dataclass(frozen=True, kw_only=True, eq=False)
class _Message:
    headers: Headers
    body: bytes
    call_id: str | None
    cseq: CSeq | None
    from_addr: NameAddress | None
    to_addr: NameAddress | None
    vias: tuple[Via, ...]
    contacts: tuple[NameAddress, ...]
    max_forwards: int | None

    def header_values(self, name: str) -> list[str]:
        """All values of ``name``; raises :class:`SipParseError` on an unbalanced quote."""
        return self.headers.values(name)

    @property
    def reasons(self) -> list[Reason]:
        """Parsed Reason values; malformed ones are skipped (they explain, never decide)."""
        result: list[Reason] = []
        for value in self._values_or_nothing("Reason"):
            try:
                result.append(parse_reason(value))
            except SipParseError:
                continue
        return result

    @property
    def asserted_identities(self) -> list[NameAddress]:
        """P-Asserted-Identity values (one sip/sips and one tel at most, RFC 3325)."""
        return self._addresses("P-Asserted-Identity")

    @property
    def remote_party_ids(self) -> list[NameAddress]:
        return self._addresses("Remote-Party-ID")

    @property
    def privacy(self) -> frozenset[str]:
        """Privacy values (RFC 3323), lower-cased: ``{"id"}``, ``{"none"}``, ..."""
        found: set[str] = set()
        for line in self.headers.get_all("Privacy"):
            for part in line.replace(",", ";").split(";"):
                part = part.strip(" \t").lower()
                if part:
                    found.add(part)
        return frozenset(found)

    def _addresses(self, name: str) -> list[NameAddress]:
        result: list[NameAddress] = []
        for value in self._values_or_nothing(name):
            try:
                result.append(parse_name_addr(value))
            except SipParseError:
                continue
        return result

    def _values_or_nothing(self, name: str) -> list[str]:
        """The values of a header that informs but is not required; unsplittable lines skipped."""
        result: list[str] = []
        for line in self.headers.get_all(name):
            try:
                result.extend(split_header_list(line))
            except SipParseError:
                continue
        return result

    def _serialize(self, start_line: str) -> bytes:
        lines = [start_line]
        for name, value in self.headers:
            if name.lower() != "content-length":
                lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("utf-8", "surrogateescape") + self.body


@dataclass(frozen=True, kw_only=True, eq=False)
class SipRequest(_Message):
    method: str
    uri: SipUri

    def serialize(self) -> bytes:
        return self._serialize(f"{self.method} {self.uri.raw} {SIP_VERSION}")

    def missing_headers(self) -> tuple[str, ...]:
        """Mandatory headers (RFC 3261 §8.1.1) absent: a UA answers 400 when there are any."""
        present = {
            "Call-ID": self.call_id is not None,
            "CSeq": self.cseq is not None,
            "From": self.from_addr is not None,
            "To": self.to_addr is not None,
            "Via": bool(self.vias),
        }
        return tuple(name for name, ok in present.items() if not ok)


@dataclass(frozen=True, kw_only=True, eq=False)
class SipResponse(_Message):
    status: int
    reason: str

    def serialize(self) -> bytes:
        return self._serialize(f"{SIP_VERSION} {self.status} {self.reason}")


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Parse one datagram. Raises :class:`SipParseError` and nothing else."""
    try:
        return _parse(data)
    except SipParseError:
        raise
    except Exception as exc:  # a parser bug must not take the listener thread down
        log.warning("SIP parser failed on a %d-byte message: %r", len(data), exc)
        raise SipParseError(f"internal parser error ({type(exc).__name__})") from exc


def _parse(data: bytes) -> SipRequest | SipResponse:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SipParseError("message is not bytes")
    data = bytes(data)
    if len(data) > MAX_MESSAGE_SIZE:
        raise SipParseError(f"message larger than {MAX_MESSAGE_SIZE} bytes")
    # RFC 3261 §7.5: CRLFs before the start line (keep-alives) are ignored
    start = 0
    while data.startswith(b"\r\n", start):
        start += 2
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        # liberal: a datagram whose header section lacks the closing empty line (baddn.dat)
        head_bytes, rest = data[start:], b""
        head_bytes = head_bytes.removesuffix(b"\r\n")
    else:
        head_bytes, rest = data[start:end], data[end + 4 :]
    if not head_bytes:
        raise SipParseError("empty message")
    head = head_bytes.decode("utf-8", "surrogateescape")
    lines = head.split("\r\n")
    start_line, header_lines = lines[0], lines[1:]
    for line in lines:
        if len(line) > MAX_LINE_LENGTH:
            raise SipParseError(f"line longer than {MAX_LINE_LENGTH} characters")
        if "\r" in line or "\n" in line:
            raise SipParseError("bare CR or LF in the header section")
    headers = _parse_headers(header_lines)
    for name in _SINGLE:
        if headers.count(name) > 1:
            raise SipParseError(f"more than one {name} header")

    body = _frame_body(headers, rest)
    common = _common_fields(headers)
    if _VERSION.match(start_line) and start_line[:4].upper() == "SIP/":
        status, reason = _parse_status_line(start_line)
        return SipResponse(
            headers=headers, body=body, status=status, reason=reason, **common._asdict()
        )
    method, uri = _parse_request_line(start_line)
    if common.cseq is not None and common.cseq.method != method:
        raise SipParseError(f"CSeq method {common.cseq.method!r} does not match {method!r}")
    return SipRequest(headers=headers, body=body, method=method, uri=uri, **common._asdict())


class _Fields(NamedTuple):
    call_id: str | None
    cseq: CSeq | None
    from_addr: NameAddress | None
    to_addr: NameAddress | None
    vias: tuple[Via, ...]
    contacts: tuple[NameAddress, ...]
    max_forwards: int | None


def stream_message_length(buffer: bytes) -> int | None:
    """How many leading bytes of a TCP/TLS stream buffer make up the next message.

    ``None`` means "wait for more data". On a stream Content-Length is mandatory (RFC 3261
    §18.3); a missing, repeated or malformed one, or a header section beyond the caps, raises
    :class:`SipParseError` and the connection should be closed. Leading CRLF keep-alives count
    towards the returned length, so the caller just cuts that many bytes off and parses them.
    """
    start = 0
    while buffer.startswith(b"\r\n", start):
        start += 2
    end = buffer.find(b"\r\n\r\n", start, start + MAX_MESSAGE_SIZE + 4)
    if end < 0:
        if len(buffer) - start > MAX_MESSAGE_SIZE:
            raise SipParseError(f"header section larger than {MAX_MESSAGE_SIZE} bytes")
        return None
    lengths = []
    for line in buffer[start:end].split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.rstrip(b" \t").lower() in (b"content-length", b"l"):
            lengths.append(value.strip(b" \t").decode("ascii", "replace"))
    if len(lengths) != 1:
        raise SipParseError("a message on a stream needs exactly one Content-Length")
    length = _digits(lengths[0], "Content-Length", 10)
    if length > MAX_MESSAGE_SIZE:
        raise SipParseError(f"message larger than {MAX_MESSAGE_SIZE} bytes")
    total = end + 4 + length
    return total if len(buffer) >= total else None


def _parse_headers(lines: list[str]) -> Headers:
    entries: list[tuple[str, list[str]]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not entries:
                raise SipParseError("continuation line before the first header")
            parts = entries[-1][1]
            parts.append(line.strip(" \t"))
            continue
        if len(entries) >= MAX_HEADERS:
            raise SipParseError(f"more than {MAX_HEADERS} headers")
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon:
            raise SipParseError(f"header line without a colon: {line[:40]!r}")
        if not is_token(name):
            raise SipParseError(f"malformed header name {name[:40]!r}")
        entries.append((name, [value.strip(" \t")]))
    headers = Headers()
    for name, parts in entries:
        value = " ".join(p for p in parts if p)
        if len(value) > MAX_LINE_LENGTH:
            raise SipParseError(f"header {name!r} longer than {MAX_LINE_LENGTH} characters")
        headers.add(name, value)
    return headers


def _frame_body(headers: Headers, rest: bytes) -> bytes:
    length_text = headers.get("Content-Length")
    if length_text is None:
        return rest  # datagram: the body is everything that is left
    length = _digits(length_text.strip(" \t"), "Content-Length", 10)
    if length > len(rest):
        raise SipParseError(f"body shorter than Content-Length ({len(rest)} < {length})")
    return rest[:length]


def _common_fields(headers: Headers) -> _Fields:
    call_id = headers.get("Call-ID")
    if call_id is not None and (not call_id or " " in call_id or "\t" in call_id):
        raise SipParseError("malformed Call-ID")
    cseq = None
    cseq_text = headers.get("CSeq")
    if cseq_text is not None:
        number_text, _, method = cseq_text.replace("\t", " ").partition(" ")
        method = method.strip(" ")
        number = _digits(number_text, "CSeq number", 10)
        if number > _MAX_CSEQ:
            raise SipParseError("CSeq number larger than 2**32-1")
        if not is_token(method):
            raise SipParseError("malformed CSeq method")
        cseq = CSeq(number, method)
    from_addr = _address(headers, "From")
    to_addr = _address(headers, "To")
    vias = []
    for line in headers.get_all("Via"):
        for value in split_header_list(line, keep_empty=True):
            if not value:
                raise SipParseError("empty Via value")
            vias.append(parse_via(value))
    contacts = []
    for line in headers.get_all("Contact"):
        for value in split_header_list(line, keep_empty=True):
            if not value:
                raise SipParseError("empty Contact value")
            if value == "*":
                continue
            contacts.append(parse_name_addr(value))
    max_forwards = None
    mf_text = headers.get("Max-Forwards")
    if mf_text is not None:
        # liberal (RFC 4475 §3.1.2.4): an overlarge value is read as the 255 maximum
        max_forwards = min(_digits(mf_text, "Max-Forwards", 10), 255)
    date = headers.get("Date")
    if date is not None and not _RFC1123.fullmatch(date):
        raise SipParseError("Date is not an RFC 1123 date in GMT")
    return _Fields(
        call_id=call_id,
        cseq=cseq,
        from_addr=from_addr,
        to_addr=to_addr,
        vias=tuple(vias),
        contacts=tuple(contacts),
        max_forwards=max_forwards,
    )


def _address(headers: Headers, name: str) -> NameAddress | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return parse_name_addr(value)
    except SipParseError as exc:
        raise SipParseError(f"{name}: {exc.reason}") from None


def _parse_request_line(line: str) -> tuple[str, SipUri]:
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise SipParseError("request line is not 'METHOD SP Request-URI SP SIP-Version'")
    method, uri_text, version = parts
    if not is_token(method):
        raise SipParseError(f"malformed method {method[:40]!r}")
    _check_version(version)
    return method, parse_uri(uri_text, allow_headers=False)


def _check_version(version: str) -> None:
    if version.upper() == SIP_VERSION:
        return
    if _VERSION.fullmatch(version):
        raise SipParseError(f"unsupported SIP version {version!r}", status=505)
    raise SipParseError(f"malformed SIP version {version[:20]!r}")


def _parse_status_line(line: str) -> tuple[int, str]:
    version, _, rest = line.partition(" ")
    _check_version(version)
    code_text, _, reason = rest.partition(" ")
    if len(code_text) != 3 or not (code_text.isascii() and code_text.isdigit()):
        raise SipParseError(f"status code is not three digits: {code_text[:20]!r}")
    code = int(code_text)
    if not 100 <= code <= 699:
        raise SipParseError(f"status code {code} out of range")
    return code, _text(reason)


def response_for(request: SipRequest, code: int, reason: str, to_tag: str | None = None) -> bytes:
    """A response to ``request`` with the headers RFC 3261 §8.2.6.2 copies, and no body.

    ``to_tag`` is added to To unless it already carries one (a request inside a dialog).
    """
    if not 100 <= code <= 699:
        raise ValueError(f"status code {code} out of range")
    if any(c in reason for c in "\r\n"):
        raise ValueError("a reason phrase cannot contain CR or LF")
    if to_tag is not None and not is_token(to_tag):
        raise ValueError(f"malformed To tag {to_tag!r}")
    lines = [f"{SIP_VERSION} {code} {reason}"]
    lines.extend(f"Via: {value}" for value in request.headers.get_all("Via"))
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = request.headers.get(name)
        if value is None:
            continue
        if name == "To" and to_tag and request.to_addr is not None and not request.to_addr.tag:
            value = f"{value};tag={to_tag}"
        lines.append(f"{canonical_name(name)}: {value}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")

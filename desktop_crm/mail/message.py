"""One mail as the CRM keeps it: author, recipients, subject, date, snippet, attachment names.

Two ways in, the same result: :func:`parse_message` reads a whole message (tests, files), and
the watcher builds the same :class:`ParsedMail` from the header block, the server's
BODYSTRUCTURE and the first bytes of the text part (:func:`text_section`,
:func:`snippet_from_part`, :func:`attachments_from_structure`), so a mailbox with years of mail
is read without downloading a single attachment.

The author is the From mailbox (not Sender, not Reply-To), read by
:func:`desktop_crm.identify.sender_address`, which gives the address in angle brackets even when
the display name looks like another address; encoded-words are decoded only for display, after
the address was taken from the raw value.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import quopri
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any

from desktop_crm.identify.sender import automated_reason, sender_address, split_mailboxes

from .headers import decode_bytes, decode_charset, decode_words, header_end, split_headers

#: Characters of body text kept in the history.
SNIPPET_CHARS = 2000
#: Bytes of the text part fetched to make the snippet (never the whole body).
SNIPPET_FETCH_BYTES = 16 * 1024
#: A Message-ID longer than this is stored as its hash (the history column holds 400).
MAX_MESSAGE_ID = 300

#: Precedence values of list and bulk mail: not a customer writing (RFC 3834 §3.1.8 and
#: common practice; ``auto_reply`` is already a robot for the sender resolution).
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})


class MessageError(Exception):
    """A message that cannot be read; the watcher logs the reason and skips it."""


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # without <>; "synthetic:…" when the mail has none, "sha256:…" when huge
    synthetic_id: bool
    subject: str
    sent_at: datetime  # aware, UTC
    from_value: str  # the From field as written (8-bit decoded, encoded-words kept)
    sender: str | None  # the author's address, lower-cased; None: unknown sender
    sender_name: str  # decoded display name, "" when none
    to: tuple[str, ...]  # addresses, lower-cased, in order, without repeats
    cc: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]  # every field, names stripped (for robot detection)
    automated: str | None  # why this is a robot's mail (bounce, auto-reply, list), or None
    snippet: str = ""
    attachments: tuple[str, ...] = ()
    size: int = 0


# --- headers -------------------------------------------------------------------------------


def _first(fields: Sequence[tuple[str, bytes]], name: str) -> bytes | None:
    lowered = name.lower()
    return next((value for key, value in fields if key.lower() == lowered), None)


def _all(fields: Sequence[tuple[str, bytes]], name: str) -> list[bytes]:
    lowered = name.lower()
    return [value for key, value in fields if key.lower() == lowered]


def addresses(values: Iterable[str]) -> tuple[str, ...]:
    """Every mailbox address in address-list values (To, Cc), lower-cased, without repeats."""
    out: dict[str, None] = {}
    for value in values:
        for mailbox in split_mailboxes(value.replace("\r", " ").replace("\n", " ")):
            # group syntax: "Team: a@x.de, b@y.de;" and "undisclosed-recipients:;"
            mailbox = mailbox.rstrip(";").strip()
            if ":" in mailbox and "<" not in mailbox.split(":", 1)[0]:
                head, rest = mailbox.split(":", 1)
                if "@" not in head:
                    mailbox = rest.strip()
            address = sender_address(mailbox)
            if address is not None:
                out.setdefault(address, None)
    return tuple(out)


def display_name(from_value: str) -> str:
    """The decoded display name of the first mailbox of ``from_value`` ("" when none)."""
    mailboxes = split_mailboxes(from_value)
    if not mailboxes:
        return ""
    mailbox = mailboxes[0]
    if "<" in mailbox:
        name = mailbox[: mailbox.rfind("<")].strip()
    else:
        comment = re.search(r"\((.*)\)", mailbox)
        name = comment.group(1).strip() if comment else ""
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return " ".join(decode_words(name).split())[:200]


def message_id_of(value: str | None) -> str | None:
    """``<abc@x>`` -> ``abc@x``; a huge one becomes its hash; None when there is none."""
    if not value:
        return None
    match = re.search(r"<([^<>]+)>", value)
    text = (match.group(1) if match else value).strip()
    text = "".join(text.split()).strip("<>")
    if not text:
        return None
    if len(text) > MAX_MESSAGE_ID:
        return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return text


def synthetic_message_id(
    date: bytes | None, from_: bytes | None, subject: bytes | None, body_start: bytes
) -> str:
    """A stable id for a mail without Message-ID: the same mail gives the same id in every
    folder and on every run (date, author, subject and the first body bytes)."""
    digest = hashlib.sha256()
    for part in (date or b"", from_ or b"", subject or b"", body_start[:1024]):
        digest.update(b" ".join(part.split()))
        digest.update(b"\x00")
    return "synthetic:" + digest.hexdigest()[:40]


def parse_date(value: str | None, fallback: datetime | None = None) -> datetime:
    """The Date field as aware UTC; unreadable: ``fallback`` (the server's arrival time) or now."""
    if value:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            try:
                return parsed.astimezone(UTC)
            except (OverflowError, ValueError):
                pass
    if fallback is not None:
        return fallback if fallback.tzinfo else fallback.replace(tzinfo=UTC)
    return datetime.now(UTC)


def robot_reason(sender: str | None, headers: Sequence[tuple[str, str]]) -> str | None:
    """Why a mail is not a customer's: bounces and auto-replies (as the sender resolution
    sees them) and list or bulk mail (``Precedence: bulk``/``list``/``junk``)."""
    local = (sender or "").rpartition("@")[0].split("+", 1)[0]
    if reason := automated_reason(local, headers):
        return reason
    for name, value in headers:
        if name.lower() == "precedence":
            keyword = value.strip().lower().split(";", 1)[0].strip()
            if keyword in _BULK_PRECEDENCE:
                return f"Precedence: {keyword}"
    return None


def parse_headers(
    raw: bytes, *, internal_date: datetime | None = None, body_start: bytes = b""
) -> ParsedMail:
    """A :class:`ParsedMail` from a header block (or a whole message), without body parts."""
    fields = split_headers(raw)
    if not fields:
        raise MessageError("no header fields (not a mail message)")
    headers = tuple((name, decode_bytes(value)) for name, value in fields)
    from_raw = _first(fields, "From")
    from_value = " ".join(decode_bytes(from_raw).split()) if from_raw is not None else ""
    sender = sender_address(from_value) if from_value else None
    subject_raw = _first(fields, "Subject")
    date_raw = _first(fields, "Date")
    message_id = message_id_of(decode_bytes(_first(fields, "Message-ID") or b""))
    synthetic = message_id is None
    if message_id is None:
        message_id = synthetic_message_id(date_raw, from_raw, subject_raw, body_start)
    subject = " ".join(decode_words(decode_bytes(subject_raw or b"")).split())
    return ParsedMail(
        message_id=message_id,
        synthetic_id=synthetic,
        subject=subject,
        sent_at=parse_date(decode_bytes(date_raw) if date_raw else None, internal_date),
        from_value=from_value,
        sender=sender,
        sender_name=display_name(from_value) if from_value else "",
        to=addresses(decode_bytes(v) for v in _all(fields, "To")),
        cc=addresses(decode_bytes(v) for v in _all(fields, "Cc")),
        headers=headers,
        automated=robot_reason(sender, headers),
    )


# --- bodies --------------------------------------------------------------------------------


class _TextFromHtml(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title", "template"})
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(self._skipping - 1, 0)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; anything it still refuses is not worth a crash
        return tidy_text(re.sub(r"<[^>]*>", " ", html))
    return tidy_text("".join(parser.parts))


def tidy_text(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Blank runs collapsed, at most one empty line in a row, cut to ``limit`` characters."""
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()[:limit]


def _transfer_decode(data: bytes, encoding: str) -> bytes:
    encoding = encoding.lower()
    if encoding == "base64":
        compact = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        compact = compact[: len(compact) - len(compact) % 4]  # a partial fetch cuts anywhere
        try:
            return base64.b64decode(compact)
        except (binascii.Error, ValueError):
            return b""
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


def snippet_from_part(data: bytes, *, encoding: str, charset: str | None, subtype: str) -> str:
    """The snippet from the (first bytes of the) text part the server sent."""
    text = decode_charset(_transfer_decode(data, encoding), charset)
    if subtype.lower() == "html":
        return html_to_text(text)
    return tidy_text(text)


# BODYSTRUCTURE as imapclient parses it: nested tuples of bytes, a list for the children of a
# multipart (RFC 3501 §7.4.2).


def _s(value: Any) -> str:
    if isinstance(value, bytes):
        return decode_bytes(value)
    return "" if value is None else str(value)


def _params(value: Any) -> dict[str, str]:
    if not isinstance(value, tuple | list):
        return {}
    items = [_s(v) for v in value]
    pairs = list(zip(items[0::2], items[1::2], strict=False))
    decoded: Sequence[tuple[str, Any]]
    try:
        decoded = email.utils.decode_params([("", ""), *pairs])[1:]
    except Exception:
        decoded = pairs
    out: dict[str, str] = {}
    for name, raw in decoded:
        try:
            text = email.utils.collapse_rfc2231_value(raw)
        except Exception:
            text = str(raw)
        out[name.lower()] = decode_words(str(text).strip('"'))
    return out


def _walk(structure: Any, prefix: str = "") -> Iterator[tuple[str, tuple[Any, ...]]]:
    """``(section, part)`` for every leaf part, sections as FETCH BODY[…] wants them."""
    if not isinstance(structure, tuple | list) or not structure:
        return
    if isinstance(structure[0], list):
        for number, child in enumerate(structure[0], start=1):
            yield from _walk(child, f"{prefix}{number}" if not prefix else f"{prefix}.{number}")
        return
    yield (prefix or "1", tuple(structure))


def _disposition(part: tuple[Any, ...]) -> tuple[str, dict[str, str]]:
    kind = _s(part[0]).lower()
    # extension data follows the basic fields: text has "lines", message/rfc822 three more
    start = 8 if kind == "text" else (10 if kind == "message" else 7)
    start += 1  # body MD5
    value = part[start] if len(part) > start else None
    if isinstance(value, tuple | list) and value:
        return _s(value[0]).lower(), _params(value[1] if len(value) > 1 else None)
    return "", {}


def attachments_from_structure(structure: Any) -> tuple[str, ...]:
    """Names of the attached files in a BODYSTRUCTURE (a part with a file name, or marked
    attachment)."""
    names: list[str] = []
    for _section, part in _walk(structure):
        disposition, dparams = _disposition(part)
        params = _params(part[2]) if len(part) > 2 else {}
        name = dparams.get("filename") or params.get("name") or ""
        if name or disposition == "attachment":
            kind = f"{_s(part[0]).lower()}/{_s(part[1]).lower()}"
            names.append(name or ("message.eml" if kind == "message/rfc822" else "attachment"))
    return tuple(names)


@dataclass(frozen=True)
class TextPart:
    section: str
    subtype: str  # plain or html
    charset: str | None
    encoding: str
    size: int


def text_section(structure: Any) -> TextPart | None:
    """The part whose text makes the snippet: the first text/plain that is not an attachment,
    else the first such text/html."""
    found: dict[str, TextPart] = {}
    for section, part in _walk(structure):
        if _s(part[0]).lower() != "text":
            continue
        subtype = _s(part[1]).lower()
        disposition, _ = _disposition(part)
        if subtype not in ("plain", "html") or disposition == "attachment" or subtype in found:
            continue
        params = _params(part[2])
        size = part[6] if len(part) > 6 and isinstance(part[6], int) else 0
        found[subtype] = TextPart(section, subtype, params.get("charset"), _s(part[5]), size)
    return found.get("plain") or found.get("html")


# --- a whole message -----------------------------------------------------------------------


def _part_text(part: EmailMessage) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    return decode_charset(data, part.get_content_charset())


def _body_parts(message: EmailMessage) -> tuple[str, tuple[str, ...]]:
    plain = html = None
    names: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        disposition = (part.get_content_disposition() or "").lower()
        if filename or disposition == "attachment":
            names.append(decode_words(str(filename)) if filename else "attachment")
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = _part_text(part)
        elif kind == "text/html" and html is None:
            html = _part_text(part)
    if plain is not None:
        return tidy_text(plain), tuple(names)
    if html is not None:
        return html_to_text(html), tuple(names)
    return "", tuple(names)


def parse_message(
    raw: bytes, *, internal_date: datetime | None = None, max_bytes: int | None = None
) -> ParsedMail:
    """Read a whole message; raises :class:`MessageError` with the reason when it cannot."""
    if max_bytes is not None and len(raw) > max_bytes:
        raise MessageError(f"too large ({len(raw):,} bytes, limit {max_bytes:,})")
    body_start = raw[header_end(raw) :][:1024]
    mail = parse_headers(raw, internal_date=internal_date, body_start=body_start)
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        snippet, names = _body_parts(message)
    except Exception as exc:  # the stdlib raises many kinds on hostile MIME
        raise MessageError(f"body cannot be read: {type(exc).__name__}: {exc}") from exc
    return replace(mail, snippet=snippet, attachments=names, size=len(raw))

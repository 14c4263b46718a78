"""SIP header names and values: the ordered multi-map, compact forms, list splitting.

Everything here is written for hostile input: every loop is a single pass over the text, so a
crafted header cannot make the parser quadratic, and every failure is a :class:`SipParseError`.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = [
    "COMPACT_FORMS",
    "MULTI_VALUE_HEADERS",
    "Headers",
    "SipParseError",
    "canonical_name",
    "is_token",
    "split_header_list",
    "split_params",
]


class SipParseError(ValueError):
    """A message (or a part of one) is malformed; ``reason`` says why in plain words.

    ``status`` is the response code a UA would answer with (400, or 505 for an unknown version).
    """

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


#: RFC 3261 §7.3.3 and later extensions (RFC 3265, 3515, 3892, 4028, 3841 ...).
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID",
    "f": "From",
    "t": "To",
    "v": "Via",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
    "o": "Event",
    "x": "Session-Expires",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
    "a": "Accept-Contact",
    "j": "Reject-Contact",
    "d": "Request-Disposition",
    "y": "Identity",
    "n": "Identity-Info",
}

_WELL_KNOWN = [
    "Accept",
    "Accept-Contact",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Diversion",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "History-Info",
    "Identity",
    "Identity-Info",
    "In-Reply-To",
    "Max-Forwards",
    "MIME-Version",
    "Min-Expires",
    "Organization",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Reject-Contact",
    "Remote-Party-ID",
    "Reply-To",
    "Request-Disposition",
    "Require",
    "Retry-After",
    "Route",
    "RSeq",
    "RAck",
    "Server",
    "Service-Route",
    "Session-Expires",
    "Subject",
    "Subscription-State",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
]
_CANONICAL = {name.lower(): name for name in _WELL_KNOWN}

#: Headers whose grammar is a comma-separated list, so several values may share one line.
MULTI_VALUE_HEADERS = frozenset(
    name.lower()
    for name in (
        "Accept",
        "Accept-Contact",
        "Accept-Encoding",
        "Accept-Language",
        "Alert-Info",
        "Allow",
        "Allow-Events",
        "Call-Info",
        "Contact",
        "Content-Encoding",
        "Content-Language",
        "Diversion",
        "Error-Info",
        "History-Info",
        "In-Reply-To",
        "P-Asserted-Identity",
        "P-Preferred-Identity",
        "Path",
        "Proxy-Require",
        "Reason",
        "Record-Route",
        "Reject-Contact",
        "Remote-Party-ID",
        "Require",
        "Route",
        "Service-Route",
        "Supported",
        "Unsupported",
        "Via",
        "Warning",
    )
)

_TOKEN_EXTRA = frozenset("-.!%*_+`'~")


def is_token(text: str) -> bool:
    """RFC 3261 ``token``: alphanumerics and ``-.!%*_+`'~``, at least one character."""
    if not text:
        return False
    return all((c.isascii() and c.isalnum()) or c in _TOKEN_EXTRA for c in text)


def canonical_name(name: str) -> str:
    """The long, conventionally spelt form of a header name (compact forms expanded)."""
    lower = name.lower()
    if len(lower) == 1 and lower in COMPACT_FORMS:
        return COMPACT_FORMS[lower]
    return _CANONICAL.get(lower, name)


def _scan(value: str, separator: str, keep_empty: bool) -> list[str]:
    """Split at ``separator`` outside quoted strings and ``<...>``; one pass, no backtracking."""
    parts: list[str] = []
    start = 0
    in_quotes = False
    in_angle = False
    escaped = False
    for i, ch in enumerate(value):
        if in_quotes:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_quotes = False
        elif in_angle:
            if ch == ">":
                in_angle = False
        elif ch == '"':
            in_quotes = True
        elif ch == "<":
            in_angle = True
        elif ch == separator:
            part = value[start:i].strip(" \t")
            if part or keep_empty:
                parts.append(part)
            start = i + 1
    if in_quotes:
        raise SipParseError("unterminated quoted string")
    if in_angle:
        raise SipParseError("unterminated '<'")
    part = value[start:].strip(" \t")
    if part or keep_empty:
        parts.append(part)
    return parts


def split_header_list(value: str, keep_empty: bool = False) -> list[str]:
    """The comma-separated values of one header line (commas in quotes and ``<>`` kept)."""
    return _scan(value, ",", keep_empty)


def split_params(value: str) -> list[str]:
    """``a ; b=c ; d`` → ``["a", "b=c", "d"]`` with empty parts kept (callers reject them)."""
    return _scan(value, ";", True)


class Headers:
    """An ordered multi-map with case-insensitive names; compact names are stored expanded."""

    __slots__ = ("_entries", "_index")

    def __init__(self, entries: list[tuple[str, str]] | None = None) -> None:
        self._entries: list[tuple[str, str]] = []
        self._index: dict[str, list[int]] = {}
        for name, value in entries or ():
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        name = canonical_name(name)
        self._index.setdefault(name.lower(), []).append(len(self._entries))
        self._entries.append((name, value))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` (a compact name works too)."""
        found = self._index.get(canonical_name(name).lower())
        return self._entries[found[0]][1] if found else default

    def get_all(self, name: str) -> list[str]:
        """Every header line of ``name``, in order, as written (not split at commas)."""
        found = self._index.get(canonical_name(name).lower(), [])
        return [self._entries[i][1] for i in found]

    def values(self, name: str) -> list[str]:
        """Every value of ``name``; list-valued headers are split at their commas."""
        lines = self.get_all(name)
        if canonical_name(name).lower() not in MULTI_VALUE_HEADERS:
            return lines
        result: list[str] = []
        for line in lines:
            result.extend(split_header_list(line))
        return result

    def count(self, name: str) -> int:
        return len(self._index.get(canonical_name(name).lower(), []))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical_name(name).lower() in self._index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, str]]:
        return list(self._entries)

    def __repr__(self) -> str:
        return f"Headers({self._entries!r})"

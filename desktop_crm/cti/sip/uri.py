"""SIP, SIPS and tel URIs and name-addr values (From, To, Contact, P-Asserted-Identity ...).

The caller-ID code reads the user part and the display name from here; both come from the
network, so they are decoded leniently (UTF-8 with replacement) while the structure around them
is checked strictly (RFC 3261 §19.1, §20.10, §25.1; RFC 3966 for tel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from desktop_crm.cti.sip.headers import SipParseError, is_token, split_params

__all__ = ["NameAddress", "SipUri", "parse_name_addr", "parse_params", "parse_uri"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_HOST = re.compile(r"[A-Za-z0-9\-._]+|\[[0-9A-Fa-f:.]+\]")
_FORBIDDEN_IN_URI = frozenset(' \t<>"\r\n')
_VISUAL_SEPARATORS = str.maketrans("", "", "-.() ")
_PHONE = re.compile(r"\+?[0-9*#]+")

Params = tuple[tuple[str, str | None], ...]


def _text(raw: str) -> str:
    """Header text is kept with surrogate escapes; this gives readable text for people."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _unescape(raw: str) -> str:
    """%-unescape a URI component (invalid escapes such as ``%Z4`` stay as they are)."""
    if "%" not in raw:
        return _text(raw)
    return unquote(_text(raw), errors="replace")


def parse_params(parts: list[str], what: str) -> Params:
    """``name[=value]`` pieces (LWS around ``=`` allowed); a quoted value is unquoted."""
    result: list[tuple[str, str | None]] = []
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip(" \t")
        if not is_token(name):
            raise SipParseError(f"empty or malformed parameter in {what}: {part[:40]!r}")
        if not sep:
            result.append((name.lower(), None))
            continue
        value = value.strip(" \t")
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = _unquote(value)
        elif not value or any(c in ' \t"' for c in value):
            raise SipParseError(f"malformed value of parameter {name!r} in {what}")
        result.append((name.lower(), value))
    return tuple(result)


def _unquote(quoted: str) -> str:
    """The content of ``"..."`` with quoted-pairs resolved (``quoted`` includes the quotes)."""
    out: list[str] = []
    escaped = False
    for ch in quoted[1:-1]:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    return "".join(out)


def _param(params: Params, name: str) -> str | None:
    for key, value in params:
        if key == name:
            return value
    return None


@dataclass(frozen=True)
class SipUri:
    """A parsed URI. ``user`` is %-unescaped; for ``tel:`` it is the number as written.

    Other schemes (``http:``, ``isbn:`` ...) keep only ``scheme`` and ``raw``: they are legal in
    a message but carry no caller for us.
    """

    raw: str
    scheme: str
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def is_sip(self) -> bool:
        return self.scheme in ("sip", "sips")

    def param(self, name: str) -> str | None:
        return _param(self.params, name.lower())

    def has_param(self, name: str) -> bool:
        return any(key == name.lower() for key, _ in self.params)

    @property
    def phone_number(self) -> str | None:
        """The user part as dialled digits when it is a telephone number, else ``None``.

        Only the RFC 3966 visual separators (``-.()`` and spaces) are removed; reading the
        number with dialling rules is the caller look-up's job, not the URI's.
        """
        if self.user is None or not (self.is_sip or self.scheme == "tel"):
            return None
        digits = self.user.translate(_VISUAL_SEPARATORS)
        return digits if _PHONE.fullmatch(digits) else None

    def __str__(self) -> str:
        return self.raw


def parse_uri(text: str, *, allow_headers: bool = True) -> SipUri:
    """Parse one URI; ``allow_headers=False`` for a Request-URI (RFC 3261 §19.1.1 table)."""
    if not text:
        raise SipParseError("empty URI")
    if any(c in _FORBIDDEN_IN_URI for c in text):
        raise SipParseError(f"whitespace, quote or angle bracket inside URI {text[:60]!r}")
    scheme, colon, rest = text.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        raise SipParseError(f"URI without a valid scheme: {text[:60]!r}")
    scheme = scheme.lower()
    if scheme in ("sip", "sips"):
        return _parse_sip(text, scheme, rest, allow_headers)
    if scheme == "tel":
        number, _, param_text = rest.partition(";")
        if not number:
            raise SipParseError("tel URI without a number")
        params = parse_params(param_text.split(";"), "tel URI") if param_text else ()
        return SipUri(raw=text, scheme=scheme, user=_unescape(number), params=params)
    if not rest:
        raise SipParseError(f"URI without content: {text[:60]!r}")
    return SipUri(raw=text, scheme=scheme)


def _parse_sip(text: str, scheme: str, rest: str, allow_headers: bool) -> SipUri:
    # The user part may contain ?, ;, / and : (RFC 4475 intmeth), but '@' is not allowed
    # unescaped anywhere after it, so the last '@' ends the userinfo.
    at = rest.rfind("@")
    user: str | None = None
    password: str | None = None
    if at >= 0:
        userinfo, hostpart = rest[:at], rest[at + 1 :]
        raw_user, colon, raw_password = userinfo.partition(":")
        if not raw_user:
            raise SipParseError(f"SIP URI with an empty user part: {text[:60]!r}")
        user = _unescape(raw_user)
        password = _unescape(raw_password) if colon else None
    else:
        hostpart = rest
    hostpart, question, header_text = hostpart.partition("?")
    if question and not allow_headers:
        raise SipParseError("headers ('?') are not allowed in a Request-URI")
    hostport, _, param_text = hostpart.partition(";")
    params = parse_params(param_text.split(";"), "SIP URI") if param_text else ()
    host, port = _split_hostport(hostport, text)
    headers: list[tuple[str, str]] = []
    if question:
        for item in header_text.split("&"):
            name, _, value = item.partition("=")
            if not name:
                raise SipParseError("empty header in SIP URI")
            headers.append((_unescape(name), _unescape(value)))
    return SipUri(
        raw=text,
        scheme=scheme,
        user=user,
        password=password,
        host=host.lower(),
        port=port,
        params=params,
        headers=tuple(headers),
    )


def _split_hostport(hostport: str, text: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        host, port_text = hostport[: end + 1], hostport[end + 1 :]
        if end < 0 or (port_text and not port_text.startswith(":")):
            raise SipParseError(f"malformed IPv6 reference in {text[:60]!r}")
        port_text = port_text[1:]
        has_port = bool(hostport[end + 1 :])
    else:
        host, colon, port_text = hostport.partition(":")
        has_port = bool(colon)
    if not _HOST.fullmatch(host):
        raise SipParseError(f"malformed host in {text[:60]!r}")
    if not has_port:
        return host, None
    return host, parse_port(port_text)


def parse_port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or int(text) > 65535:
        raise SipParseError(f"malformed port {text[:20]!r}")
    return int(text)


@dataclass(frozen=True)
class NameAddress:
    """A From/To/Contact/P-Asserted-Identity value: display name, URI and header params."""

    display_name: str
    uri: SipUri
    params: Params = ()
    bracketed: bool = True

    @property
    def tag(self) -> str | None:
        return _param(self.params, "tag")

    def param(self, name: str) -> str | None:
        return _param(self.params, name.lower())


def parse_name_addr(value: str) -> NameAddress:
    """Parse ``"Name" <uri>;params``, ``Name <uri>`` or a bare ``uri;params``."""
    text = value.strip(" \t")
    if not text:
        raise SipParseError("empty address")
    display = ""
    if text[0] == '"':
        end = _closing_quote(text)
        display = _text(_unquote(text[: end + 1]))
        rest = text[end + 1 :].lstrip(" \t")
        if not rest.startswith("<"):
            raise SipParseError("quoted display name not followed by <URI>")
    else:
        lt = text.find("<")
        if lt >= 0:
            words = text[:lt].replace("\t", " ").split(" ")
            words = [word for word in words if word]
            if not all(_display_word(word) for word in words):
                raise SipParseError("display name with non-token characters must be quoted")
            display = _text(" ".join(words))
            rest = text[lt:]
        else:
            rest = ""
    if rest:
        gt = rest.find(">")
        if gt < 0:
            raise SipParseError("'<' without '>' in address")
        uri = parse_uri(rest[1:gt])
        tail = rest[gt + 1 :].strip(" \t")
        bracketed = True
    else:
        # addr-spec without brackets: ';' starts header params, and '?' or ',' are illegal
        uri_text, semi, tail = text.partition(";")
        uri_text = uri_text.strip(" \t")
        if any(c in uri_text for c in "?,"):
            raise SipParseError("an address with '?' or ',' must be enclosed in <>")
        uri = parse_uri(uri_text)
        tail = semi + tail
        bracketed = False
    if tail and not tail.startswith(";"):
        raise SipParseError(f"unexpected text after address: {tail[:40]!r}")
    params = parse_params(split_params(tail[1:]), "address") if tail else ()
    return NameAddress(display_name=display, uri=uri, params=params, bracketed=bracketed)


def _display_word(word: str) -> bool:
    """A token, liberally also allowing non-ASCII letters: PBXs send ``From: Jürgen <sip:..>``."""
    return all(not c.isascii() or is_token(c) for c in word)


def _closing_quote(text: str) -> int:
    escaped = False
    for i in range(1, len(text)):
        ch = text[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            return i
    raise SipParseError("unterminated quoted display name")

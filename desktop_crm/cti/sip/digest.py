"""Digest authentication for REGISTER and SUBSCRIBE (RFC 3261 §22.4, RFC 7616, RFC 8760).

A registrar answers our first request with ``401`` (``WWW-Authenticate``) or ``407``
(``Proxy-Authenticate``) carrying one or more ``Digest`` challenges; we pick the strongest
algorithm we know (SHA-256 before MD5, the ``-sess`` variants too), answer with ``qop=auth``
when offered (a fresh client nonce and a counted ``nc`` per nonce) and the RFC 2069 form when
not. ``auth-int`` alone is refused: we never need to prove a body.

The password is only ever an argument here: nothing in this module stores or logs it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from desktop_crm.cti.sip.headers import SipParseError

__all__ = ["Challenge", "DigestError", "DigestSession", "parse_challenges", "pick_challenge"]

#: Algorithms in order of preference; the hash each one uses.
_ALGORITHMS: dict[str, str] = {
    "SHA-256": "sha256",
    "SHA-256-SESS": "sha256",
    "MD5": "md5",
    "MD5-SESS": "md5",
}
_MAX_PARAMS = 32


class DigestError(ValueError):
    """A challenge we cannot answer; the message says why in words."""


@dataclass(frozen=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"  # upper case, as in _ALGORITHMS
    qop: tuple[str, ...] = ()  # lower case: "auth", "auth-int"
    opaque: str | None = None
    stale: bool = False
    proxy: bool = False  # from Proxy-Authenticate (answer with Proxy-Authorization)

    @property
    def header_name(self) -> str:
        return "Proxy-Authorization" if self.proxy else "Authorization"


def _auth_params(text: str) -> dict[str, str]:
    """``realm="a, b", nonce=xyz`` → ``{"realm": "a, b", "nonce": "xyz"}`` (keys lower case)."""
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0:
            raise SipParseError(f"malformed auth parameter: {text[i : i + 30]!r}")
        key = text[i:eq].strip(" \t").lower()
        if not key or any(c in key for c in ' \t,"'):
            raise SipParseError(f"malformed auth parameter name: {key[:30]!r}")
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            value: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            if i >= n:
                raise SipParseError("unterminated quoted auth parameter")
            i += 1
            params[key] = "".join(value)
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            params[key] = text[i:end].strip(" \t")
            i = end
        if len(params) > _MAX_PARAMS:
            raise SipParseError("too many auth parameters")
    return params


def parse_challenges(values: Iterable[str], *, proxy: bool = False) -> list[Challenge]:
    """The Digest challenges among ``WWW-Authenticate`` (or ``Proxy-Authenticate``) values.

    Other schemes and malformed challenges are skipped: they never decide anything.
    """
    found: list[Challenge] = []
    for value in values:
        scheme, _, rest = value.strip(" \t").partition(" ")
        if scheme.lower() != "digest":
            continue
        try:
            params = _auth_params(rest)
        except SipParseError:
            continue
        nonce = params.get("nonce")
        if nonce is None or "realm" not in params:
            continue
        qop = tuple(q.strip(" \t").lower() for q in params.get("qop", "").split(",") if q.strip())
        found.append(
            Challenge(
                realm=params["realm"],
                nonce=nonce,
                algorithm=params.get("algorithm", "MD5").upper(),
                qop=qop,
                opaque=params.get("opaque"),
                stale=params.get("stale", "").lower() == "true",
                proxy=proxy,
            )
        )
    return found


def pick_challenge(challenges: Iterable[Challenge]) -> Challenge:
    """The challenge we answer: the strongest algorithm we know, with qop=auth if possible."""
    usable = [
        c for c in challenges if c.algorithm in _ALGORITHMS and (not c.qop or "auth" in c.qop)
    ]
    if not usable:
        offered = ", ".join(sorted({c.algorithm for c in challenges})) or "none"
        raise DigestError(
            f"the registrar asks for a digest algorithm we do not support ({offered}); "
            "MD5 and SHA-256 with qop=auth are supported"
        )
    order = list(_ALGORITHMS)
    return min(usable, key=lambda c: order.index(c.algorithm))


def _hex(algorithm: str, text: str) -> str:
    return hashlib.new(_ALGORITHMS[algorithm], text.encode("utf-8")).hexdigest()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def digest_response(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str = "",
    nc: int = 1,
) -> str:
    """The ``response`` value of RFC 7616 §3.4.1 (RFC 2069 form when no qop is offered)."""
    algorithm = challenge.algorithm
    ha1 = _hex(algorithm, f"{username}:{challenge.realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = _hex(algorithm, f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = _hex(algorithm, f"{method}:{uri}")
    if "auth" in challenge.qop:
        return _hex(algorithm, f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
    return _hex(algorithm, f"{ha1}:{challenge.nonce}:{ha2}")


@dataclass
class DigestSession:
    """Answers one realm's challenges for one user; counts ``nc`` per server nonce."""

    username: str
    _nonce_counts: dict[str, int] = field(default_factory=dict)

    def authorization(
        self, challenge: Challenge, *, password: str, method: str, uri: str
    ) -> tuple[str, str]:
        """``(header name, header value)`` answering ``challenge`` for ``method uri``."""
        nc = self._nonce_counts.get(challenge.nonce, 0) + 1
        if len(self._nonce_counts) > 16:
            self._nonce_counts.clear()
        self._nonce_counts[challenge.nonce] = nc
        qop = "auth" in challenge.qop
        cnonce = secrets.token_hex(8) if qop or challenge.algorithm.endswith("-SESS") else ""
        response = digest_response(
            challenge,
            username=self.username,
            password=password,
            method=method,
            uri=uri,
            cnonce=cnonce,
            nc=nc,
        )
        parts = [
            f"username={_quote(self.username)}",
            f"realm={_quote(challenge.realm)}",
            f"nonce={_quote(challenge.nonce)}",
            f"uri={_quote(uri)}",
            f"response={_quote(response)}",
            f"algorithm={challenge.algorithm}",
        ]
        if cnonce:
            parts.append(f"cnonce={_quote(cnonce)}")
        if qop:
            parts += ["qop=auth", f"nc={nc:08x}"]
        if challenge.opaque is not None:
            parts.append(f"opaque={_quote(challenge.opaque)}")
        return challenge.header_name, "Digest " + ", ".join(parts)

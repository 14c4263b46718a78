"""Who is calling: the caller identity of an INVITE, as the network delivered it.

Headers are read in a configurable order, by default ``P-Asserted-Identity`` (what a trusted
PBX asserts, RFC 3325), then ``Remote-Party-ID`` (its older cousin, still sent by many PBXs),
then ``From`` (what the caller claims). The number is the user part of a ``sip:``/``sips:`` URI
with the RFC 3966 visual separators removed, or the number of a ``tel:`` URI; it is *not*
normalised: reading it with the dialling rules is the caller look-up's job.

A call is withheld when the INVITE asks for privacy (``Privacy: id`` or ``header``, RFC 3323),
when the chosen identity is anonymous (user ``anonymous``/``unknown``/``restricted``, or host
``anonymous.invalid``, RFC 3323 §4.1.1.3) or when a Remote-Party-ID says ``privacy=full``. A
withheld call carries no number and no display name, even when a PBX passed the asserted
identity along: the caller asked not to be shown, and the CRM respects that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from desktop_crm.cti.sip.message import SipRequest
from desktop_crm.cti.sip.uri import NameAddress

__all__ = ["DEFAULT_IDENTITY_HEADERS", "CallerIdentity", "caller_identity"]

DEFAULT_IDENTITY_HEADERS: tuple[str, ...] = ("P-Asserted-Identity", "Remote-Party-ID", "From")
_KNOWN_HEADERS = {name.lower(): name for name in DEFAULT_IDENTITY_HEADERS}
_ANONYMOUS_USERS = frozenset({"anonymous", "unknown", "restricted"})
_PRIVACY_HIDING = frozenset({"id", "header"})


class CallerIdentity(NamedTuple):
    number: str | None
    display_name: str
    withheld: bool


WITHHELD = CallerIdentity(None, "", True)


def _addresses(request: SipRequest, header: str) -> list[NameAddress]:
    key = header.lower()
    if key == "p-asserted-identity":
        return request.asserted_identities
    if key == "remote-party-id":
        return request.remote_party_ids
    if key == "from":
        return [request.from_addr] if request.from_addr is not None else []
    raise ValueError(
        f"unknown caller identity header {header!r} (known: {', '.join(_KNOWN_HEADERS.values())})"
    )


def check_identity_headers(headers: Sequence[str]) -> tuple[str, ...]:
    """``headers`` as a tuple of canonical names; ValueError names an unknown one."""
    result: list[str] = []
    for header in headers:
        canonical = _KNOWN_HEADERS.get(str(header).lower())
        if canonical is None:
            raise ValueError(
                f"unknown caller identity header {header!r} "
                f"(known: {', '.join(_KNOWN_HEADERS.values())})"
            )
        result.append(canonical)
    if not result:
        raise ValueError("name at least one caller identity header")
    return tuple(result)


def _anonymous(address: NameAddress) -> bool:
    uri = address.uri
    if uri.user is not None and uri.user.strip().lower() in _ANONYMOUS_USERS:
        return True
    if uri.host == "anonymous.invalid":
        return True
    privacy = address.param("privacy")
    return privacy is not None and privacy.lower() == "full"


def _number(address: NameAddress) -> str | None:
    uri = address.uri
    if not (uri.is_sip or uri.scheme == "tel"):
        return None
    return uri.phone_number


def caller_identity(
    request: SipRequest, headers: Sequence[str] = DEFAULT_IDENTITY_HEADERS
) -> CallerIdentity:
    """The caller of ``request``: (number or None, display name, withheld).

    The first header (in ``headers`` order) that is present decides about anonymity; the number
    comes from the first header that carries a telephone number, and if none does, from the
    first user part there is (``sip:alice@example.com`` gives ``"alice"``). The display name is
    the first non-empty one in the same order.
    """
    if request.privacy & _PRIVACY_HIDING:
        return WITHHELD
    found: list[list[NameAddress]] = []
    for header in headers:
        addresses = [
            a for a in _addresses(request, header) if a.uri.is_sip or a.uri.scheme == "tel"
        ]
        if addresses:
            found.append(addresses)
    if not found:
        return CallerIdentity(None, "", False)
    if any(_anonymous(address) for address in found[0]):
        return WITHHELD
    number: str | None = None
    for addresses in found:
        number = next((n for n in map(_number, addresses) if n), None)
        if number:
            break
    if number is None:
        number = next((a.uri.user for a in found[0] if a.uri.user), None)
    name = next(
        (a.display_name.strip() for group in found for a in group if a.display_name.strip()), ""
    )
    return CallerIdentity(number, name, False)

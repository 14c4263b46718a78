"""Reading an incoming caller ID: withheld, a colleague, a complete number, or only digits.

Caller IDs arrive as E.164, national with or without the trunk 0, with ``00``, with the PBX's
outside-line digit in front, as ``tel:``/``sip:`` URIs with visual separators, or withheld. Some
of these are ambiguous (``2020447`` is a Munich number in Munich and a Wuppertal number read
nationally), so a caller ID yields its *readings*: complete E.164 numbers it can stand for, the
most plausible first, each with a weight. Only a caller ID with no complete reading, or a bare
local number when the home area code is unknown, may be compared by its last digits.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

import phonenumbers

from desktop_crm.data.phone import digits_only, format_international

from .rules import MIN_SUFFIX_DIGITS, DialingRules

#: What PBXs, SIP providers and TAPI drivers send when the number is not shown.
WITHHELD_WORDS = frozenset(
    {
        "",
        "anonymous",
        "anonym",
        "unknown",
        "unbekannt",
        "restricted",
        "private",
        "privat",
        "unavailable",
        "withheld",
        "blocked",
        "clir",
        "no caller id",
        "keine rufnummer",
        "rufnummer unterdrückt",
        "unterdrückt",
        "unterdrueckt",
        "nicht übermittelt",
        "p",
        "o",
    }
)

#: Longest bare digit string that may be a local number (subscriber number plus direct dial).
MAX_LOCAL_DIGITS = 10
#: Shortest E.164 number (without +) worth reading from digits that arrived without a +.
MIN_E164_DIGITS = 10
#: International call prefix of the DACH countries (and most of Europe).
IDD = "00"


class CallerStatus(enum.StrEnum):
    WITHHELD = "withheld"  # anonymous, unknown, restricted, empty: never matches
    UNREADABLE = "unreadable"  # text without digits (a SIP name): never matches
    INTERNAL = "internal"  # a colleague's extension
    COMPLETE = "complete"  # at least one complete E.164 reading
    PARTIAL = "partial"  # digits, but no complete number (truncated, garbled)


@dataclass(frozen=True)
class Reading:
    """One complete number a caller ID can stand for."""

    e164: str
    weight: float  # 1.0 for the form as written (+, 00, trunk 0); less for a guess
    how: str  # in words, for the pop-up's "why": "national", "local (area 89)", …
    valid: bool  # phonenumbers knows the number range
    country_code: int


@dataclass(frozen=True)
class CallerNumber:
    raw: str
    status: CallerStatus
    readings: tuple[Reading, ...] = ()
    digits: str = ""  # the digits as received, after the outside-line prefix
    suffix_allowed: bool = False  # may be compared by its last digits (step 3)
    domestic_only: bool = False  # a local number: suffix hits must be in the home country

    @property
    def e164(self) -> str | None:
        return self.readings[0].e164 if self.readings else None

    @property
    def normalized(self) -> str | None:
        """The number for display and "create contact": E.164 when the caller ID says which
        number it is, else the digits as received (a bare number when the home area code is
        unknown may be local, so its national reading is only a guess)."""
        if self.withheld:
            return None
        if self.e164 and not self.domestic_only:
            return self.e164
        return self.digits or None

    @property
    def key(self) -> str:
        """What a remembered pick is stored under (see :func:`remember_pick`)."""
        return self.normalized or ""

    @property
    def display(self) -> str:
        normalized = self.normalized or ""
        return format_international(normalized) if normalized.startswith("+") else normalized

    @property
    def withheld(self) -> bool:
        return self.status in (CallerStatus.WITHHELD, CallerStatus.UNREADABLE)


_TRUNK_IN_BRACKETS = re.compile(r"^(\+\d{1,3})\(0\)")
_VISUAL = re.compile(r"[\s\-./()\[\]\u00a0\u2010-\u2015]")


def _uri_user(text: str) -> tuple[str, dict[str, str]]:
    """The number part of a ``tel:``/``sip:`` URI (or plain text) and its parameters."""
    if "<" in text and ">" in text:  # "Anna Schäfer" <sip:+49…@host>
        text = text[text.rfind("<") + 1 : text.rfind(">")]
    if "%" in text:
        text = unquote(text)
    scheme, sep, rest = text.partition(":")
    if sep and scheme.strip().lower() in ("tel", "sip", "sips"):
        text = rest
        if scheme.strip().lower() != "tel" and "@" in text:
            text = text.split("@", 1)[0]
    elif "@" in text:  # "+4989…@host" without scheme
        text = text.split("@", 1)[0]
    number, *params = text.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip()
    return number.strip(), parsed


@lru_cache(maxsize=8192)
def _parse(text: str, country: str) -> tuple[str, int, bool] | None:
    """``(E.164, country code, valid)`` of a complete reading of ``text``, or None.

    Cached: the same callers call again, and phonenumbers is the costliest part of a look-up.
    """
    try:
        parsed = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    valid = phonenumbers.is_valid_number(parsed)
    if not valid and len(phonenumbers.national_significant_number(parsed)) < 6:
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, parsed.country_code or 0, valid


def read_caller_id(raw: str | None, rules: DialingRules) -> CallerNumber:
    """Read a caller ID as it arrives from a PBX, a SIP header or a TAPI line."""
    raw = raw or ""
    number, params = _uri_user(raw.strip())
    if number.strip().lower() in WITHHELD_WORDS:
        return CallerNumber(raw, CallerStatus.WITHHELD)
    compact = _TRUNK_IN_BRACKETS.sub(r"\1", re.sub(r"\s", "", number))
    compact = _VISUAL.sub("", compact)
    digits = digits_only(compact)
    if not digits:
        return CallerNumber(raw, CallerStatus.UNREADABLE)
    plus = compact.startswith("+")
    context = params.get("phone-context", "")
    if not plus and context.startswith("+") and digits_only(context):
        plus, digits = True, digits_only(context) + digits  # RFC 3966 local number
    if plus and digits.startswith(IDD):  # "+0049…"
        digits = digits[len(IDD) :]
    ext = digits_only(params.get("ext", ""))

    trunk = rules.trunk_prefix
    prefix = rules.outside_line_prefix
    if (
        not plus
        and not ext
        and not digits.startswith(trunk)
        and not (prefix and digits.startswith(prefix))
        and rules.is_internal_length(digits)
    ):
        return CallerNumber(raw, CallerStatus.INTERNAL, digits=digits)

    readings: list[Reading] = []

    def add(text: str, weight: float, how: str) -> None:
        parsed = _parse(text + ext if text.startswith("+") else text, rules.country)
        if parsed is None:
            return
        if ext and not text.startswith("+"):  # tel:…;ext=25 is the direct dial …25
            parsed = _parse(parsed[0] + ext, rules.country)
            if parsed is None:
                return
        e164, country_code, valid = parsed
        readings.append(Reading(e164, weight if valid else weight * 0.9, how, valid, country_code))

    received = digits
    bare_local = False
    if plus:
        add("+" + digits, 1.0, "international")
    else:
        variants: list[tuple[str, float, str]] = []
        if prefix and digits.startswith(prefix) and len(digits) > len(prefix):
            # The PBX puts its prefix before the number as it would dial it back: "0" + "089…"
            # or "0" + "0041…". A prefix before a bare local number is rarer than a national
            # number that arrived without the prefix ("may be prepended"), so that ranks lower.
            received = digits[len(prefix) :]
            dial_back = received.startswith(trunk)
            variants.append(
                (received, 1.0 if dial_back else 0.85, f"after the outside-line prefix {prefix}")
            )
            variants.append((digits, 0.9, "without outside-line prefix"))
        else:
            variants.append((digits, 1.0, ""))
        for index, (v, weight, note) in enumerate(variants):
            suffix = f", {note}" if note else ""
            if v.startswith(IDD):
                add("+" + v[len(IDD) :], weight, "international" + suffix)
            elif v.startswith(trunk):
                add(v, weight, "national" + suffix)
            else:
                if index == 0 and len(v) <= MAX_LOCAL_DIGITS:
                    bare_local = True
                if rules.area_code and len(v) <= MAX_LOCAL_DIGITS:
                    add(
                        trunk + rules.area_code + v, weight * 0.95, f"local, area {rules.area_code}"
                    )
                if index == 0 and received is not digits and prefix == trunk:
                    continue  # prefix + v read nationally is the unprefixed variant's reading
                # phonenumbers also reads a leading home country code ("4989…") here
                add(v, weight * 0.9, "national without trunk prefix" + suffix)
                if len(v) >= MIN_E164_DIGITS and not v.startswith(rules.country_code):
                    add("+" + v, weight * 0.85, "international without +" + suffix)

    best: dict[str, Reading] = {}
    for reading in readings:
        if reading.e164 not in best or reading.weight > best[reading.e164].weight:
            best[reading.e164] = reading
    ordered = sorted(best.values(), key=lambda r: (not r.valid, -r.weight))
    # a bare local number is complete only when the home area code completes it
    maybe_local = bare_local and not rules.area_code
    suffix_ok = (not ordered or maybe_local) and len(received) >= MIN_SUFFIX_DIGITS
    return CallerNumber(
        raw,
        CallerStatus.COMPLETE if ordered else CallerStatus.PARTIAL,
        tuple(ordered),
        digits=received,
        suffix_allowed=suffix_ok,
        domestic_only=maybe_local,
    )


def suffix_digits_of(caller: CallerNumber, rules: DialingRules) -> str:
    """The trailing digits compared in step 3 (all of them when fewer were received)."""
    return caller.digits[-rules.suffix_digits :]

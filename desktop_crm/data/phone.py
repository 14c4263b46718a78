"""The one phone-number normaliser: raw text as people write it -> E.164, base, extension, key.

Stored numbers keep the raw text next to these derived columns, which are recomputed on every
write and indexed, so a look-up never has to parse stored numbers at call time.

In Germany, Austria and Switzerland an extension ("Durchwahl") is dialled directly: the number
``089/2020447-25`` is reached as +49 89 2020447 25. So ``e164`` is the full number a direct call
arrives from, and ``base_e164`` the company's base number when the written form shows where the
extension starts (``-25``, ``ext. 25``, ``Durchwahl 25``, ``#25``). ``suffix_key`` holds the
digits reversed, so "ends with these digits" is a prefix range on an index, never ``LIKE '%…'``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers

#: Countries whose PBXs put the extension straight after the base number (direct inward dial).
DID_COUNTRIES = frozenset({"DE", "AT", "CH", "LI", "LU", "NL", "BE", "DK"})

_EXT_WORDS = re.compile(
    r"\s*(?:ext\.?|extension|durchwahl|dw\.?|nst\.?|nebenstelle|app\.?|apparat|x|#)\s*(\d{1,6})\s*$",
    re.IGNORECASE,
)
_URI = re.compile(r"^\s*(?:tel|sips?):", re.IGNORECASE)
# a label typed in front of the number: "Tel.: 089 …", "Zentrale 089 …", "Mobil: 0171 …"
_LABEL = re.compile(
    r"^\s*(?:tel(?:efon)?|fon|phone|mobil(?:e|funk|telefon)?|handy|cell|zentrale|b[üu]ro|"
    r"gesch(?:[äa]|ae)ftlich|dienstlich|privat|office|fax)\b\.?\s*:?\s*(?=[+(\d])",
    re.IGNORECASE,
)
_HYPHEN_EXT = re.compile(r"^(?P<base>.*\d)\s*-\s*(?P<ext>\d{1,5})\s*$")


@dataclass(frozen=True)
class NormalizedPhone:
    raw: str
    e164: str | None  # full number, extension included for DID countries
    base_e164: str | None  # the number without the extension, when one is written
    extension: str | None
    suffix_key: str  # digits of e164 (or of the raw text when unparseable), reversed
    region: str | None  # the country the number belongs to
    valid: bool  # phonenumbers considers it an existing number
    problem: str | None  # why it could not be normalised, in words for the user

    @property
    def digits(self) -> str:
        return self.suffix_key[::-1]


def digits_only(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def suffix_key_for(digits: str) -> str:
    return digits[::-1]


def _split_extension(text: str) -> tuple[str, str | None]:
    """Separate a written extension: words (ext., Durchwahl, #) or a DIN 5008 hyphen group."""
    if m := _EXT_WORDS.search(text):
        return text[: m.start()], m.group(1)
    m = _HYPHEN_EXT.match(text)
    if m:
        base = m.group("base")
        # "030-123456" is area code + subscriber, not an extension; "089/2020447-25",
        # "+49 89 2020447-25" and "+49-89-2020447-25" write the extension after the last hyphen.
        other_separators = bool(re.search(r"[\s/()]", base.strip()))
        hyphen_groups = base.count("-") + 1
        if other_separators or hyphen_groups >= 3:
            return base, m.group("ext")
    return text, None


def _is_hyphen_ext(text: str) -> bool:
    return _EXT_WORDS.search(text) is None and _HYPHEN_EXT.match(text) is not None


def _clean(text: str) -> str:
    text = _URI.sub("", text)
    text = _LABEL.sub("", text)
    text = text.split(";", 1)[0]  # tel: URI parameters
    if "@" in text:  # sip:+4989...@host
        text = text.split("@", 1)[0]
    # "+49 (0)89 ..." : the trunk zero in brackets is not dialled after a country code
    text = re.sub(r"^(\s*(?:\+|00)\s*\d{1,3}\s*)\(\s*0\s*\)", r"\1", text)
    return text.strip()


def normalize_phone(raw: str, region: str = "DE") -> NormalizedPhone:
    """Normalise ``raw`` read in ``region`` (the record's country, else the home country)."""
    region = (region or "DE").upper()
    text = _clean(raw or "")
    if not digits_only(text):
        return NormalizedPhone(raw, None, None, None, "", None, False, "no digits in the number")
    body, extension = _split_extension(text)
    parsed_body: phonenumbers.PhoneNumber | None = None
    known_valid: bool | None = None
    if len(re.findall(r"[A-Za-zÄÖÜäöüß]", body)) >= 3:
        return NormalizedPhone(
            raw,
            None,
            None,
            extension,
            suffix_key_for(digits_only(text)),
            None,
            False,
            "contains words, not only a number",
        )
    if extension is not None and _is_hyphen_ext(text):
        # A DIN 5008 "-25" is an extension only where PBXs dial extensions directly and only
        # when what stands before it is a whole number: "(905) 555-1234", "+1-418-262-6501"
        # and "+41 44 268 12-00" are whole numbers with a hyphen in them.
        part = _parse_or_none(body, region)
        part_valid = part is not None and phonenumbers.is_valid_number(part)
        if (
            part is None
            or not _acceptable(part, part_valid)
            or _region(part, region) not in DID_COUNTRIES
        ):
            body, extension = text, None
        else:
            # the same text read in the same region: parse() would give the same number again
            parsed_body, known_valid = part, part_valid
    try:
        parsed = parsed_body if parsed_body is not None else phonenumbers.parse(body, region)
    except phonenumbers.NumberParseException as exc:
        digits = digits_only(text)
        return NormalizedPhone(
            raw, None, None, extension, suffix_key_for(digits), None, False, _reason(exc)
        )
    number_region = _region(parsed, region)
    had_extension = bool(parsed.extension)
    if parsed.extension and not extension:
        extension = parsed.extension
        parsed.extension = None
    # validity does not depend on the extension field; it is computed once (it is the most
    # expensive step of phonenumbers after parsing) and used for both answers below
    valid = (
        known_valid
        if known_valid is not None and not had_extension
        else phonenumbers.is_valid_number(parsed)
    )
    base = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not _acceptable(parsed, valid):
        return NormalizedPhone(
            raw,
            None,
            None,
            extension,
            suffix_key_for(digits_only(base) + (extension or "")),
            number_region,
            False,
            "not a possible phone number (too short or too long)",
        )
    full: str = base
    base_e164: str | None = None
    if extension:
        base_e164 = base
        if number_region in DID_COUNTRIES:
            full = base + extension
    return NormalizedPhone(
        raw, full, base_e164, extension, suffix_key_for(full[1:]), number_region, valid, None
    )


def _parse_or_none(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _region(parsed: phonenumbers.PhoneNumber, default: str) -> str:
    return phonenumbers.region_code_for_number(parsed) or default


def _acceptable(parsed: phonenumbers.PhoneNumber, valid: bool | None = None) -> bool:
    """A number we store as E.164: valid, or possible and long enough to be a whole line.

    ``valid`` is ``phonenumbers.is_valid_number(parsed)`` when the caller knows it already.
    """
    if valid is None:
        valid = phonenumbers.is_valid_number(parsed)
    if valid:
        return True
    nsn = phonenumbers.national_significant_number(parsed)
    return bool(phonenumbers.is_possible_number(parsed)) and len(nsn) >= 7


def _reason(exc: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the 00 prefix",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
        phonenumbers.NumberParseException.TOO_LONG: "too long to be a phone number",
    }
    return reasons.get(exc.error_type, "not a phone number")


def format_international(e164: str | None, extension: str | None = None) -> str:
    """A readable international form for display, e.g. ``+49 89 2020447-25``."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@functools.lru_cache(maxsize=8192)
def normalize_phone_cached(raw: str, region: str = "DE") -> NormalizedPhone:
    """:func:`normalize_phone`, remembered for the last few thousand numbers.

    The importer reads every number twice (checking the row, then writing it); parsing with
    phonenumbers is the most expensive step of an import, so the second reading is free.
    """
    return normalize_phone(raw, region)

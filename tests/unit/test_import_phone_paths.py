"""The importer's faster phone reading gives exactly what the normaliser gave before.

``normalize_phone`` now asks phonenumbers once whether a number is valid (it asked twice) and
reuses the number it parsed while deciding about a DIN 5008 extension instead of parsing the
same text again. ``_reference`` below is the normaliser as it was before that change (commit
d9ca30e), kept verbatim; every field of every result must be equal, on the numbers of the shared
contact exports and on a large random sample of the ways people write numbers.
"""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest

from desktop_crm.data import phone
from desktop_crm.data.phone import (
    DID_COUNTRIES,
    NormalizedPhone,
    _clean,
    _is_hyphen_ext,
    _parse_or_none,
    _reason,
    _region,
    _split_extension,
    digits_only,
    normalize_phone,
    suffix_key_for,
)
from tests.helpers import integration


def _acceptable_before(parsed: phonenumbers.PhoneNumber) -> bool:
    if phonenumbers.is_valid_number(parsed):
        return True
    nsn = phonenumbers.national_significant_number(parsed)
    return bool(phonenumbers.is_possible_number(parsed)) and len(nsn) >= 7


def _reference(raw: str, region: str = "DE") -> NormalizedPhone:
    region = (region or "DE").upper()
    text = _clean(raw or "")
    if not digits_only(text):
        return NormalizedPhone(raw, None, None, None, "", None, False, "no digits in the number")
    body, extension = _split_extension(text)
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
        part = _parse_or_none(body, region)
        if (
            part is None
            or not _acceptable_before(part)
            or _region(part, region) not in DID_COUNTRIES
        ):
            body, extension = text, None
    try:
        parsed = phonenumbers.parse(body, region)
    except phonenumbers.NumberParseException as exc:
        digits = digits_only(text)
        return NormalizedPhone(
            raw, None, None, extension, suffix_key_for(digits), None, False, _reason(exc)
        )
    number_region = _region(parsed, region)
    if parsed.extension and not extension:
        extension = parsed.extension
        parsed.extension = None
    base = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    valid = phonenumbers.is_valid_number(parsed)
    if not _acceptable_before(parsed):
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


CODES = {"DE": "49", "AT": "43", "CH": "41", "US": "1", "GB": "44", "FR": "33", "NL": "31",
         "IT": "39", "LU": "352", "BE": "32", "DK": "45", "PL": "48"}  # fmt: skip
AREAS = ["89", "30", "40", "421", "221", "1", "44", "171", "1523", "3222", "212", "20", "6"]


def random_number(rng: random.Random) -> tuple[str, str]:
    """(text, region) in one of the many ways numbers are typed, valid or not."""
    region = rng.choice(list(CODES))
    code, area = CODES[region], rng.choice(AREAS)
    sub = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 10)))
    ext = str(rng.randint(0, 99999))[: rng.randint(1, 5)]
    style = rng.randrange(16)
    text = {
        0: f"+{code} {area} {sub}",
        1: f"0{area}/{sub}",
        2: f"00{code} {area} {sub[:3]} {sub[3:]}",
        3: f"0{area} {sub[:4]}-{sub[4:]}",
        4: f"+{code} (0){area} {sub}",
        5: f"+{code}{area}{sub}",
        6: f"0{area}/{sub}-{ext}",
        7: f"+{code} {area} {sub}-{ext}",
        8: f"+{code}-{area}-{sub}-{ext}",
        9: f"{area}{sub} ext. {ext}",
        10: f"Tel.: 0{area} {sub}",
        11: f"tel:+{code}-{area}-{sub};ext={ext}",
        12: f"({area}) {sub[:3]}-{sub[3:]}",
        13: f"0{area} {sub} Durchwahl {ext}",
        14: f"+{code} {area} {sub} x{ext}",
        15: rng.choice(["keine Nummer", "n/a", "", "-", "0", "+", "12", f"{sub}abc", "#"]),
    }[style]
    if rng.random() < 0.1:
        text = f" {text} "
    return text, rng.choice([region, "DE", "DE", "AT", "CH", "US", ""])


def test_random_sample_equals_reference() -> None:
    rng = random.Random(20261122)
    phone.normalize_phone_cached.cache_clear()
    differences = []
    for _ in range(30_000):
        text, region = random_number(rng)
        expected, got = _reference(text, region), normalize_phone(text, region)
        if got != expected:
            differences.append((text, region, expected, got))
    assert differences == []


def test_the_generator_covers_the_interesting_cases() -> None:
    """Otherwise the comparison above could pass by testing only easy numbers."""
    rng = random.Random(20261122)
    results = [normalize_phone(*random_number(rng)) for _ in range(3000)]
    assert sum(1 for r in results if r.e164 and r.base_e164) > 100  # extension split off
    assert sum(1 for r in results if r.e164 and not r.valid) > 20  # possible, not valid
    assert sum(1 for r in results if r.e164 is None and r.problem) > 100  # could not be read
    assert sum(1 for r in results if r.valid) > 500


def _numbers_in_shared_exports() -> list[str]:
    folder = integration.testdata("contact-exports", "")
    found: set[str] = set()
    for path in sorted(folder.iterdir()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        found.update(m.strip() for m in re.findall(r"[+(]?\d[\d ()/.\-+#xext;=:]{4,}", text))
        for line in text.splitlines():
            if line.upper().startswith("TEL"):
                found.add(line.split(":", 1)[-1].strip())
    return sorted(found)


@pytest.mark.parametrize("region", ["DE", "AT", "CH", "US", "GB"])
def test_shared_export_numbers_equal_reference(region: str) -> None:
    numbers = _numbers_in_shared_exports()
    assert len(numbers) > 20
    for text in numbers:
        assert normalize_phone(text, region) == _reference(text, region), text

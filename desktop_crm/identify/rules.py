"""Dialling rules: what the office's phone system does to the numbers it hands us.

The same digits mean different numbers in different offices: ``2020447`` is a Munich number in
Munich (area code 89) and a Wuppertal one read nationally; ``0089…`` is a national number behind a
PBX that prepends its outside-line ``0``. These rules, from the ``[dialing]`` settings section,
say how to read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import phonenumbers

from desktop_crm.settings import SettingsError

if TYPE_CHECKING:
    from desktop_crm.settings import Settings

MIN_SUFFIX_DIGITS = 6
MAX_SUFFIX_DIGITS = 15


@dataclass(frozen=True)
class DialingRules:
    country: str = "DE"
    area_code: str = ""  # without the trunk 0, e.g. "89"
    outside_line_prefix: str = ""  # e.g. "0"
    internal_min_digits: int = 2  # internal extensions have this many digits …
    internal_max_digits: int = 4  # … up to this many (0/0: no internal calls)
    suffix_digits: int = 8

    def __post_init__(self) -> None:
        country = self.country.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country) or not phonenumbers.country_code_for_region(
            country
        ):
            raise ValueError(f"country: {self.country!r} is not an ISO country code (DE, AT, CH)")
        object.__setattr__(self, "country", country)
        area = re.sub(r"[\s/()-]", "", self.area_code)
        if area and not area.isdigit():
            raise ValueError(f"area_code: {self.area_code!r} is not an area code such as 89")
        object.__setattr__(self, "area_code", area.lstrip(self.trunk_prefix) if area else "")
        prefix = self.outside_line_prefix.strip()
        if prefix and not prefix.isdigit():
            raise ValueError(f"outside_line_prefix: {prefix!r} must be digits such as 0")
        object.__setattr__(self, "outside_line_prefix", prefix)
        if not 0 <= self.internal_min_digits <= self.internal_max_digits <= 8:
            raise ValueError(
                "internal_extension_digits: expected a length or range between 1 and 8, got "
                f"{self.internal_min_digits}-{self.internal_max_digits}"
            )
        if not MIN_SUFFIX_DIGITS <= self.suffix_digits <= MAX_SUFFIX_DIGITS:
            raise ValueError(
                f"suffix_digits: expected {MIN_SUFFIX_DIGITS} to {MAX_SUFFIX_DIGITS}, "
                f"got {self.suffix_digits}"
            )

    @cached_property
    def country_code(self) -> str:
        return str(phonenumbers.country_code_for_region(self.country))

    @cached_property
    def trunk_prefix(self) -> str:
        """The national trunk prefix ("0" in DE, AT, CH)."""
        meta = phonenumbers.PhoneMetadata.metadata_for_region(self.country)
        return (meta.national_prefix if meta is not None else None) or "0"

    def is_internal_length(self, digits: str) -> bool:
        return self.internal_max_digits > 0 and (
            self.internal_min_digits <= len(digits) <= self.internal_max_digits
        )

    @staticmethod
    def parse_extension_digits(text: str) -> tuple[int, int]:
        """``"3"`` -> (3, 3), ``"2-4"`` -> (2, 4), ``""`` -> (0, 0) (no internal calls)."""
        text = text.strip()
        if not text:
            return 0, 0
        m = re.fullmatch(r"(\d{1,2})(?:\s*(?:-|–|\.\.)\s*(\d{1,2}))?", text)
        if not m:
            raise ValueError(
                f'internal_extension_digits: expected a length ("3") or a range ("2-4"), '
                f"got {text!r}"
            )
        low = int(m.group(1))
        high = int(m.group(2) or low)
        if low < 1:
            raise ValueError("internal_extension_digits: an extension has at least one digit")
        return low, high

    @classmethod
    def from_settings(cls, settings: Settings) -> DialingRules:
        """Rules from the ``[dialing]`` section; a bad value raises SettingsError naming it."""
        try:
            low, high = cls.parse_extension_digits(
                str(settings.get("dialing.internal_extension_digits"))
            )
            return cls(
                country=str(settings.get("dialing.country")),
                area_code=str(settings.get("dialing.area_code")),
                outside_line_prefix=str(settings.get("dialing.outside_line_prefix")),
                internal_min_digits=low,
                internal_max_digits=high,
                suffix_digits=int(settings.get("dialing.suffix_digits")),
            )
        except ValueError as exc:
            raise SettingsError(f"{settings.path}: [dialing] {exc}") from exc

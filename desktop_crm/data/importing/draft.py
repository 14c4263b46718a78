"""A contact as read from a file, before it meets the database, and the rules that tidy it.

Every reader (vCard, CSV layouts, JSON) fills a :class:`Draft` with what the file says; then
:func:`prepare` turns it into a :class:`~desktop_crm.data.records.ContactInput` the services
accept. Nothing typed is dropped on the way: what has no field of its own (a nickname, a second
address, a malformed e-mail address, text longer than its column) goes into the notes as a
``Label: value`` line, and anything that needed such help is reported with its line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA

from ..errors import ValidationError
from ..models import PhoneKind
from ..phone import NormalizedPhone, normalize_phone_cached
from ..records import ContactInput, EmailInput, PhoneInput, normalize_email, sort_key
from .report import ImportReport

# column sizes of the schema (models.py); longer text is shortened and kept whole in the notes
LIMITS = {
    "salutation": 40,
    "title": 60,
    "first_name": 120,
    "last_name": 120,
    "position": 120,
    "consent_source": 200,
    "street": 200,
    "postal_code": 20,
    "city": 120,
    "organization": 200,
}
LABELS = {
    "salutation": "Salutation",
    "title": "Title",
    "first_name": "First name",
    "last_name": "Last name",
    "position": "Position",
    "consent_source": "Consent source",
    "street": "Street",
    "postal_code": "Postal code",
    "city": "City",
    "organization": "Company",
}
PHONE_RAW_LIMIT = 100
EMAIL_RAW_LIMIT = 320
TAG_LIMIT = 80
LANGUAGE_LIMIT = 8

SALUTATIONS = {
    "herr",
    "herrn",
    "frau",
    "hr.",
    "hr",
    "fr.",
    "fr",
    "mr",
    "mr.",
    "mrs",
    "mrs.",
    "ms",
    "ms.",
    "miss",
    "mx",
    "mx.",
    "sir",
    "madam",
    "m.",
    "mme",
    "mme.",
    "monsieur",
    "madame",
    "signor",
    "signora",
}
# Google's built-in group every contact belongs to; not a tag anybody chose
SYSTEM_GROUPS = {"my contacts", "* my contacts", "meine kontakte", "* meine kontakte"}


@dataclass
class RawPhone:
    raw: str
    kind: PhoneKind
    line: int


@dataclass
class RawEmail:
    raw: str
    primary: bool
    line: int


@dataclass
class Draft:
    """What one card or row says about a person, as text."""

    line: int
    salutation: str = ""
    title: str = ""
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    name_suffix: str = ""
    full_name: str = ""  # used only when the file gives no first and last name
    organization: str = ""
    position: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    language: str = ""
    birthday: str = ""
    marketing_consent: bool = False
    consent_date: str = ""
    consent_source: str = ""
    notes: list[str] = field(default_factory=list)
    extras: list[tuple[str, str]] = field(default_factory=list)
    phones: list[RawPhone] = field(default_factory=list)
    emails: list[RawEmail] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def extra(self, label: str, value: str) -> None:
        value = value.strip()
        if value and (label, value) not in self.extras:
            self.extras.append((label, value))

    def phone(self, raw: str, kind: PhoneKind, line: int | None = None) -> None:
        raw = raw.strip()
        if raw:
            self.phones.append(RawPhone(raw, kind, line or self.line))

    def email(self, raw: str, primary: bool = False, line: int | None = None) -> None:
        raw = raw.strip()
        if raw:
            self.emails.append(RawEmail(raw, primary, line or self.line))

    def prefix(self, text: str) -> None:
        """A name prefix ("Herr Dr.", "Mr.", "Prof.") split into salutation and title."""
        salutation, title = split_prefix(text)
        self.salutation = self.salutation or salutation
        self.title = self.title or title

    def address(
        self,
        *,
        street: str = "",
        postal_code: str = "",
        city: str = "",
        region: str = "",
        country: str = "",
        pobox: str = "",
    ) -> None:
        self.street, self.postal_code, self.city = street, postal_code, city
        self.region, self.country = region, country
        if pobox.strip():
            self.extra("PO box", pobox)


def address_text(
    street: str = "",
    postal_code: str = "",
    city: str = "",
    region: str = "",
    country: str = "",
    pobox: str = "",
) -> str:
    """One line for an address that has no field of its own (kept in the notes)."""
    town = " ".join(p for p in (postal_code.strip(), city.strip()) if p)
    parts = [street, pobox, town, region, country]
    return ", ".join(p.strip() for p in parts if p and p.strip())


def one_line(text: str) -> str:
    return ", ".join(p.strip() for p in re.split(r"\r\n|\r|\n", text) if p.strip())


def _words(*texts: str) -> set[str]:
    return {w.casefold() for t in texts for w in re.findall(r"\w+", t)}


def split_prefix(text: str) -> tuple[str, str]:
    words = text.split()
    i = 0
    while i < len(words) and words[i].casefold() in SALUTATIONS:
        i += 1
    return " ".join(words[:i]), " ".join(words[i:])


def split_full_name(text: str) -> tuple[str, str]:
    """(first, last) from a display name: "Doe, John" or "John Doe"."""
    text = " ".join(text.split())
    if not text:
        return "", ""
    if text.count(",") == 1:
        last, first = (p.strip() for p in text.split(","))
        return first, last
    if " " not in text:
        return "", text
    first, last = text.rsplit(" ", 1)
    return first, last


# --- dates ----------------------------------------------------------------------------------

_EMPTY_DATE = re.compile(r"^(?:0{1,4}[./-]0{1,2}[./-]0{1,4}|1/0/00)$")


def is_empty_date(text: str) -> bool:
    """Outlook writes "0.0.00" (German) or "1/0/00" (English) for "no date"."""
    return bool(_EMPTY_DATE.match(text.strip()))


def parse_date(text: str) -> date | None:
    """A full date in the forms contact files use; None when no year, month and day are known."""
    text = text.strip().split("T", 1)[0]
    if not text or is_empty_date(text):
        return None
    patterns = (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
        (r"(\d{4})(\d{2})(\d{2})", "ymd"),
        (r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})", "dmy"),
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdy"),
        (r"(\d{4})/(\d{1,2})/(\d{1,2})", "ymd"),
    )
    for pattern, order in patterns:
        m = re.fullmatch(pattern, text)
        if not m:
            continue
        a, b, c = (int(g) for g in m.groups())
        if order == "ymd":
            y, mo, d = a, b, c
        elif order == "dmy":
            d, mo, y = a, b, c
        else:  # US month/day/year, unless the first number cannot be a month
            mo, d, y = (a, b, c) if a <= 12 else (b, a, c)
        try:
            return date(y, mo, d)
        except ValueError:
            return None
    return None


# --- countries ------------------------------------------------------------------------------

_COUNTRY_ALIASES = {
    "usa": "US",
    "u s a": "US",
    "u s": "US",
    "united states of america": "US",
    "vereinigte staaten": "US",
    "uk": "GB",
    "england": "GB",
    "great britain": "GB",
    "grossbritannien": "GB",
    "brd": "DE",
    "bundesrepublik deutschland": "DE",
    "federal republic of germany": "DE",
    "holland": "NL",
    "schweizerische eidgenossenschaft": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "osterreich": "AT",
    "oesterreich": "AT",
}


def _country_key(text: str) -> str:
    key = sort_key(text)  # lower-case, accents folded, ß -> ss
    key = re.sub(r"[.\-_/,()]", " ", key)
    return " ".join(key.split())


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for region, by_language in LOCALE_DATA.items():
        if len(region) != 2 or not region.isalpha():
            continue
        for language in ("en", "de", "fr", "it", "es", "nl", "pl"):
            name = by_language.get(language, "")
            if name.startswith("*"):
                name = by_language.get(name[1:], "")
            if name:
                names.setdefault(_country_key(name), region)
    names.update(_COUNTRY_ALIASES)
    return names


def country_code(text: str) -> str | None:
    """ISO 3166 code for a country as people write it ("DE", "Deutschland", "Germany")."""
    text = text.strip()
    if not text:
        return None
    upper = text.upper()
    if upper == "UK":
        return "GB"
    if len(text) == 2 and text.isalpha() and upper in phonenumbers.SUPPORTED_REGIONS:
        return upper
    return _country_names().get(_country_key(text))


# --- turning a draft into service input -----------------------------------------------------


@dataclass
class Prepared:
    """A draft made ready for the services, plus the keys the duplicate check needs."""

    line: int
    data: ContactInput
    organization: str
    e164: list[str]  # normalised numbers (those that could be normalised), no repeats
    phone_e164: list[str | None]  # the normalised form of each of data.phones
    emails: list[str]  # normalised addresses
    name_key: tuple[str, str]  # casefolded (first, last)
    # sort keys (records.sort_key) computed here, where it may run in a worker process: the
    # writer's look-ups need them several times per row
    org_key: str  # of the organization's name ("" without one)
    name_sort_key: str  # of last and first name, the contact's sort key when not ""
    # each of data.phones as read in the contact's country, so the writer need not parse it
    # again (it may run in another process than prepare(), where no cache remembers it)
    numbers: list[NormalizedPhone] = field(default_factory=list)

    @property
    def has_name(self) -> bool:
        return bool(self.name_key[0] or self.name_key[1])

    @property
    def company_only(self) -> bool:
        """Only a company name: the organization is looked up or created, no person."""
        return not (self.has_name or self.data.phones or self.data.emails) and bool(
            self.organization
        )


def name_key(first: str, last: str) -> tuple[str, str]:
    return " ".join(first.split()).casefold(), " ".join(last.split()).casefold()


def _fit(draft: Draft, name: str, value: str, report: ImportReport) -> str:
    value = " ".join(value.split()) if name != "street" else one_line(value)
    limit = LIMITS[name]
    if len(value) <= limit:
        return value
    label = LABELS[name]
    draft.extra(f"{label} (full text)", value)
    report.add_problem(
        draft.line,
        f"{label.lower()} is longer than {limit} characters; it was shortened and the full "
        "text is in the notes",
        value,
    )
    return value[:limit].rstrip()


def prepare(draft: Draft, home_region: str, report: ImportReport) -> Prepared | None:
    """Check and tidy ``draft``; None (and a problem in the report) when nothing is in it."""
    d = draft
    first, last = d.first_name.strip(), d.last_name.strip()
    if d.middle_name.strip():
        first = f"{first} {d.middle_name.strip()}".strip()
    if not (first or last) and d.full_name.strip():
        salutation, name = split_prefix(d.full_name)
        d.salutation = d.salutation or salutation
        first, last = split_full_name(name)
    elif d.full_name.strip():
        # a display name that says more than the name fields (not just their words again)
        known = _words(first, last, d.salutation, d.title, d.name_suffix, d.organization)
        if not _words(d.full_name) <= known:
            d.extra("Display name", d.full_name)
    if d.name_suffix.strip():
        d.extra("Name suffix", d.name_suffix)
    country = country_code(d.country)
    if d.country.strip() and country is None:
        d.extra("Country", d.country)
    if d.region.strip():
        d.extra("Region", d.region)
    language = d.language.strip()
    if language and (len(language) > LANGUAGE_LIMIT or not re.fullmatch(r"[A-Za-z-]+", language)):
        d.extra("Language", language)
        language = ""
    birthday = parse_date(d.birthday) if d.birthday.strip() else None
    if d.birthday.strip() and birthday is None and not is_empty_date(d.birthday):
        d.extra("Birthday", d.birthday)
    consent_date = parse_date(d.consent_date) if d.consent_date.strip() else None
    if d.consent_date.strip() and consent_date is None and not is_empty_date(d.consent_date):
        d.extra("Consent date", d.consent_date)

    region = country or home_region
    phones: list[PhoneInput] = []
    phone_e164: list[str | None] = []
    numbers: list[NormalizedPhone] = []
    e164: list[str] = []
    seen_numbers: set[tuple[str, PhoneKind]] = set()
    for p in d.phones:
        if len(p.raw) > PHONE_RAW_LIMIT:
            d.extra("Phone number", p.raw)
            report.add_problem(
                p.line, "phone number is too long to be stored as one; kept in the notes", p.raw
            )
            continue
        n = normalize_phone_cached(p.raw, region)
        key = (n.e164 or " ".join(p.raw.split()), p.kind)
        if key in seen_numbers:  # the same number twice for the same purpose
            continue
        seen_numbers.add(key)
        phones.append(PhoneInput(p.raw, p.kind))
        phone_e164.append(n.e164)
        numbers.append(n)
        if n.e164 and n.e164 not in e164:
            e164.append(n.e164)
        else:
            report.add_problem(
                p.line,
                f"phone number could not be read ({n.problem}); it is stored as written",
                p.raw,
            )
    emails: list[EmailInput] = []
    normalized: list[str] = []
    for e in d.emails:
        try:
            if len(e.raw) > EMAIL_RAW_LIMIT:
                raise ValidationError("too long", field="email")
            address, _domain = normalize_email(e.raw)
        except ValidationError:
            d.extra("E-mail address (not usable)", e.raw)
            report.add_problem(
                e.line, "not a usable e-mail address; the text is kept in the notes", e.raw
            )
            continue
        if address in normalized:
            if e.primary:
                emails[normalized.index(address)].primary = True
            continue
        normalized.append(address)
        emails.append(EmailInput(e.raw.strip(), e.primary))
    if emails:
        primary = [m for m in emails if m.primary]
        for m in emails:
            m.primary = False
        (primary[0] if primary else emails[0]).primary = True
    tags: list[str] = []
    for tag in d.tags:
        tag = " ".join(tag.split())
        if not tag or tag.casefold() in SYSTEM_GROUPS:
            continue
        tag = tag.removeprefix("* ")
        if len(tag) > TAG_LIMIT:
            d.extra("Tag", tag)
            report.add_problem(
                d.line, f"a tag is longer than {TAG_LIMIT} characters; kept in the notes", tag
            )
            continue
        if tag not in tags:
            tags.append(tag)

    data = ContactInput(
        language=language,
        marketing_consent=d.marketing_consent,
        consent_date=consent_date,
        birthday=birthday,
        country=country,
        tags=tags,
        phones=phones,
        emails=emails,
    )
    data.salutation = _fit(d, "salutation", d.salutation, report)
    data.title = _fit(d, "title", d.title, report)
    data.first_name = _fit(d, "first_name", first, report)
    data.last_name = _fit(d, "last_name", last, report)
    data.position = _fit(d, "position", d.position, report)
    data.consent_source = _fit(d, "consent_source", d.consent_source, report)
    data.street = _fit(d, "street", d.street, report)
    data.postal_code = _fit(d, "postal_code", d.postal_code, report)
    data.city = _fit(d, "city", d.city, report)
    organization = _fit(d, "organization", d.organization, report)

    note_lines: list[str] = []
    for text in d.notes:
        for line in re.split(r"\r\n|\r|\n", text.strip()):
            note_lines.append(line.rstrip())
    for label, value in d.extras:
        note_lines.append(f"{label}: {one_line(value)}")
    data.notes = "\n".join(note_lines).strip()

    prepared = Prepared(
        line=d.line,
        data=data,
        organization=organization,
        e164=e164,
        phone_e164=phone_e164,
        emails=normalized,
        name_key=name_key(data.first_name, data.last_name),
        org_key=sort_key(organization),
        name_sort_key=sort_key(data.last_name, data.first_name),
        numbers=numbers,
    )
    if not (prepared.has_name or phones or emails or organization):
        what = data.notes or data.street or data.city
        report.add_problem(
            d.line,
            "nothing to import: no name, company, phone number or e-mail address; skipped",
            what,
        )
        return None
    return prepared

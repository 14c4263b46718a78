"""CSV contact lists: Outlook (English and German), Google, Thunderbird, Excel, and our own.

The layout is recognised from the header row; every column the program knows is mapped by its
name (in English or German), so a hand-made Excel list with "Vorname;Nachname;Firma;Telefon"
works as well as a full Outlook export. Columns it does not know are kept in the notes as
``Header: value``; a few Outlook bookkeeping columns (priority, sensitivity, e-mail type,
initials, ...) are left out.

The separator (``,`` ``;`` or tab) is taken from the header row. Rows are assembled here rather
than by the csv module, so a quotation mark that is never closed costs one reported row, not
the rest of the file, and every problem carries the line number an editor shows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..models import PhoneKind
from .draft import Draft, address_text, is_empty_date
from .layout import CELL_SEPARATOR, OWN_CSV_COLUMNS, PHONE_COLUMNS, unprotect_cell
from .report import ImportReport

#: A quoted cell may hold line breaks, but not this many: a quote that is never closed would
#: otherwise swallow the rest of the file into one cell.
MAX_LINES_PER_ROW = 200

Slot = tuple[str, str, str]

WORK, MOBILE, HOME, FAX, SWITCHBOARD, OTHER = (
    PhoneKind.WORK.value,
    PhoneKind.MOBILE.value,
    PhoneKind.HOME.value,
    PhoneKind.FAX.value,
    PhoneKind.SWITCHBOARD.value,
    PhoneKind.OTHER.value,
)


def _field(name: str, *aliases: str) -> dict[str, Slot]:
    return dict.fromkeys(aliases, ("field", name, ""))


def _phone(kind: str, *aliases: str) -> dict[str, Slot]:
    return dict.fromkeys(aliases, ("phone", kind, ""))


def _addr(group: str, part: str, *aliases: str) -> dict[str, Slot]:
    return dict.fromkeys(aliases, ("addr", group, part))


_ALIASES: dict[str, Slot] = {
    **_field("first_name", "first name", "vorname", "given name", "firstname", "prénom"),
    **_field("middle_name", "middle name", "weitere vornamen", "additional name"),
    **_field("last_name", "last name", "nachname", "family name", "surname", "lastname"),
    **_field("prefix", "title", "anrede", "name prefix", "titel", "salutation", "akad. titel"),
    **_field("suffix", "suffix", "name suffix", "namenszusatz"),
    **_field("full_name", "display name", "anzeigename", "full name", "vollständiger name"),
    **_field(
        "organization",
        "company",
        "firma",
        "organization",
        "organisation",
        "unternehmen",
        "organization name",
        "company name",
        "firmenname",
    ),
    **_field("department", "department", "abteilung", "organization department"),
    **_field(
        "position",
        "job title",
        "position",
        "arbeitstitel",
        "organization title",
        "funktion",
        "jobtitel",
        "berufsbezeichnung",
    ),
    **_field(
        "notes",
        "notes",
        "notizen",
        "notiz",
        "bemerkung",
        "bemerkungen",
        "kommentar",
        "anmerkungen",
        "note",
    ),
    **_field("tags", "categories", "kategorien", "group membership", "labels", "tags"),
    **_field("birthday", "birthday", "geburtstag", "geburtsdatum", "date of birth"),
    **_field("birth_year", "birth year", "geburtsjahr"),
    **_field("birth_month", "birth month", "geburtsmonat"),
    **_field("birth_day", "birth day"),
    **_field("language", "language", "sprache"),
    **_field("nickname", "nickname", "spitzname", "short name"),
    **_field(
        "web",
        "web page",
        "webseite",
        "web page 1",
        "web page 2",
        "webseite 1",
        "webseite 2",
        "website",
        "homepage",
        "personal web page",
        "internetseite",
    ),
    **dict.fromkeys(
        (
            "e-mail address",
            "e-mail-adresse",
            "email",
            "e-mail",
            "mail",
            "email address",
            "primary email",
            "primäre e-mail-adresse",
            "e-mail 2 address",
            "e-mail 2: adresse",
            "e-mail 3 address",
            "e-mail 3: adresse",
            "secondary email",
            "sekundäre e-mail-adresse",
            "email 2",
            "e-mail 2",
            "e-mail 3",
        ),
        ("email", "", ""),
    ),
    **_phone(
        WORK,
        "business phone",
        "business phone 2",
        "telefon geschäftlich",
        "telefon geschäftlich 2",
        "work phone",
        "tel. dienstlich",
        "telefon",
        "phone",
        "tel",
        "tel.",
        "telefonnummer",
        "telefon dienstlich",
        "primary phone",
        "haupttelefon",
        "phone number",
    ),
    **_phone(
        MOBILE,
        "mobile phone",
        "mobiltelefon",
        "mobiltelefon 2",
        "mobile number",
        "mobil-tel.-nr.",
        "mobil",
        "handy",
        "mobile",
        "mobilnummer",
        "mobilfunk",
        "car phone",
        "autotelefon",
    ),
    **_phone(
        HOME, "home phone", "home phone 2", "telefon privat", "telefon privat 2", "tel. privat"
    ),
    **_phone(
        FAX,
        "business fax",
        "fax geschäftlich",
        "home fax",
        "fax privat",
        "other fax",
        "weiteres fax",
        "fax number",
        "fax-nummer",
        "fax",
        "telefax",
    ),
    **_phone(SWITCHBOARD, "company main phone", "telefon firma", "zentrale"),
    **_phone(
        OTHER,
        "other phone",
        "weiteres telefon",
        "pager",
        "pager number",
        "pager-nummer",
        "assistant's phone",
        "telefon assistent",
        "callback",
        "rückmeldung",
        "isdn",
        "radio phone",
        "mobilfunkgerät",
        "tty/tdd phone",
        "telefon für hörbehinderte",
        "telex",
    ),
    # addresses: Outlook (en, de), Thunderbird (en, de), and plain columns
    **_addr("work", "street", "business street", "straße geschäftlich", "work address"),
    **_addr("work", "street", "dienstlich: adresse"),
    **_addr("work", "street2", "business street 2", "straße geschäftlich 2", "work address 2"),
    **_addr("work", "street2", "dienstlich: adresse 2"),
    **_addr("work", "street3", "business street 3", "straße geschäftlich 3"),
    **_addr("work", "city", "business city", "ort geschäftlich", "work city", "dienstlich: ort"),
    **_addr("work", "region", "business state", "region geschäftlich", "work state"),
    **_addr("work", "region", "dienstlich: bundesland"),
    **_addr("work", "postal_code", "business postal code", "postleitzahl geschäftlich"),
    **_addr("work", "postal_code", "work zipcode", "dienstlich: plz"),
    **_addr("work", "country", "business country/region", "land/region geschäftlich"),
    **_addr("work", "country", "work country", "dienstlich: land"),
    **_addr("work", "pobox", "business address po box", "postfach geschäftlich"),
    **_addr("home", "street", "home street", "straße privat", "home address", "privat: adresse"),
    **_addr("home", "street2", "home street 2", "straße privat 2", "home address 2"),
    **_addr("home", "street2", "privat: adresse 2"),
    **_addr("home", "street3", "home street 3", "straße privat 3"),
    **_addr("home", "city", "home city", "ort privat", "privat: ort"),
    **_addr("home", "region", "home state", "bundesland/kanton privat", "privat: bundesland"),
    **_addr("home", "postal_code", "home postal code", "postleitzahl privat", "home zipcode"),
    **_addr("home", "postal_code", "privat: plz"),
    **_addr("home", "country", "home country/region", "land/region privat", "home country"),
    **_addr("home", "country", "privat: land"),
    **_addr("home", "pobox", "home address po box", "postfach privat"),
    **_addr("other", "street", "other street", "weitere straße"),
    **_addr("other", "street2", "other street 2", "weitere straße 2"),
    **_addr("other", "street3", "other street 3", "weitere straße 3"),
    **_addr("other", "city", "other city", "weiterer ort"),
    **_addr("other", "region", "other state", "weiteres/r bundesland/kanton"),
    **_addr("other", "postal_code", "other postal code", "weitere postleitzahl"),
    **_addr("other", "country", "other country/region", "weiteres/r land/region"),
    **_addr("other", "pobox", "other address po box", "weiteres postfach"),
    **_addr("main", "street", "street", "straße", "strasse", "adresse", "address", "anschrift"),
    **_addr("main", "postal_code", "plz", "postleitzahl", "zip", "postal code", "zip code"),
    **_addr("main", "postal_code", "postcode"),
    **_addr("main", "city", "ort", "stadt", "city", "wohnort"),
    **_addr("main", "region", "bundesland", "state", "region", "kanton"),
    **_addr("main", "country", "land", "country", "staat"),
}

#: Bookkeeping columns of Outlook, Google and Thunderbird that say nothing about the person.
_IGNORED = {
    "initials",
    "initialen",
    "e-mail type",
    "e-mail-typ",
    "e-mail display name",
    "e-mail: angezeigter name",
    "e-mail 2 type",
    "e-mail 2: typ",
    "e-mail 2 display name",
    "e-mail 2: angezeigter name",
    "e-mail 3 type",
    "e-mail 3: typ",
    "e-mail 3 display name",
    "e-mail 3: angezeigter name",
    "priority",
    "priorität",
    "private",
    "privat",
    "sensitivity",
    "vertraulichkeit",
    "gender",
    "geschlecht",
    "internet free busy",
    "internet-frei/gebucht",
    "directory server",
    "verzeichnisserver",
    "mileage",
    "reisekilometer",
    "billing information",
    "abrechnungsinformation",
    "file as",
    "photo",
    "yomi name",
    "given name yomi",
    "additional name yomi",
    "family name yomi",
    "given yomi",
    "surname yomi",
    "company yomi",
    "phonetic first name",
    "phonetic middle name",
    "phonetic last name",
    "name",  # Google's display name; used only as a fallback (see Layout)
}


def header_key(text: str) -> str:
    """A header as compared: spaces collapsed, case folded (so "Straße" and "STRASSE" match)."""
    return " ".join(text.replace("\ufeff", "").strip().strip('"').split()).casefold()


def _keys(*names: str) -> set[str]:
    return {header_key(n) for n in names}


ALIASES = {header_key(k): v for k, v in _ALIASES.items()}
IGNORED = _keys(*_IGNORED)

_GOOGLE = re.compile(
    r"^(e-mail|phone|address|organization|website|relation|im|event|custom field|external id)"
    r" (\d+) - (.+)$"
)


@dataclass
class Layout:
    name: str
    headers: list[str]
    slots: list[Slot]


def detect_layout(headers: list[str]) -> Layout:
    keys = [header_key(h) for h in headers]
    present = set(keys)
    own = set(OWN_CSV_COLUMNS)
    if {"first_name", "last_name"} <= present and len(present & own) >= 3:
        return Layout("desktop_crm CSV", headers, [("own", k, "") for k in keys])
    google = any(_GOOGLE.match(k) for k in keys) or bool(
        present & _keys("given name", "family name", "group membership")
    )
    if google:
        name = "Google CSV"
    elif present & _keys("primary email", "work phone", "mobile number", "home zipcode"):
        name = "Thunderbird CSV"
    elif present & _keys("primäre e-mail-adresse", "tel. dienstlich", "privat: plz"):
        name = "Thunderbird CSV (German)"
    elif present & _keys("telefon geschäftlich", "e-mail-adresse", "straße geschäftlich"):
        name = "Outlook CSV (German)"
    elif present & _keys("business phone", "e-mail address", "business street", "job title"):
        name = "Outlook CSV"
    else:
        name = "CSV"
    has_first = bool(present & _keys("first name", "vorname", "given name", "firstname"))
    has_last = bool(present & _keys("last name", "nachname", "family name", "surname", "lastname"))
    slots: list[Slot] = []
    for key, header in zip(keys, headers, strict=True):
        if m := _GOOGLE.match(key):
            slots.append(("google", f"{m.group(1)} {m.group(2)}", m.group(3)))
        elif key == "name":
            # German lists write "Name" for the surname next to "Vorname"; Google's "Name" is
            # the whole display name
            if has_first and not has_last and not google:
                slots.append(("field", "last_name", ""))
            else:
                slots.append(("field", "full_name", ""))
        elif key == "ort" and header_key("Ort geschäftlich") in present:
            slots.append(("extra", header.strip(), ""))  # Outlook's "Ort" is a location
        elif key == "geburtstag" and "geburtsjahr" in present:
            slots.append(("field", "birth_day", ""))  # Thunderbird: day of the month
        elif key in ALIASES:
            slots.append(ALIASES[key])
        elif key in IGNORED or not key:
            slots.append(("ignore", "", ""))
        else:
            slots.append(("extra", header.strip(), ""))
    return Layout(name, headers, slots)


def sniff_delimiter(header_line: str) -> str:
    best, count = ",", 0
    for candidate in (",", ";", "\t"):
        fields = next(csv.reader([header_line], delimiter=candidate), [])
        if len(fields) > count:
            best, count = candidate, len(fields)
    return best


def _open_quote(text: str, delimiter: str, in_quotes: bool) -> bool:
    """Whether a quoted cell is still open at the end of ``text`` (the csv module's rules)."""
    at_start = not in_quotes
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if in_quotes:
            if ch == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 2
                    continue
                in_quotes = False
            i += 1
            continue
        if ch == '"' and at_start:
            in_quotes = True
        at_start = ch == delimiter
        i += 1
    return in_quotes


@dataclass
class Row:
    line: int
    last_line: int
    cells: list[str]
    raw: str


def rows(
    lines: Iterable[tuple[int, str]], delimiter: str, report: ImportReport
) -> Iterator[Row | None]:
    """Records of the file (a quoted cell may span lines); None for an unreadable one.

    The first record is the header. A record that spans lines, has fewer cells than the header
    and separators on its later lines has swallowed the rows after it: its opening quotation
    mark was never closed. Its first line is reported and the lines after it are read again.
    """
    pending: list[tuple[int, str]] = []
    source = iter(lines)
    expected: int | None = None
    while True:
        if pending:
            number, text = pending.pop(0)
        else:
            item = next(source, None)
            if item is None:
                return
            number, text = item
        if '"' not in text or not _open_quote(text, delimiter, False):
            if text.strip():
                cells = next(csv.reader([text], delimiter=delimiter), [])
                expected = len(cells) if expected is None else expected
                yield Row(number, number, cells, text)
            continue
        parts = [(number, text)]
        in_quotes = True
        while in_quotes and len(parts) < MAX_LINES_PER_ROW:
            if pending:
                nxt = pending.pop(0)
            else:
                got = next(source, None)
                if got is None:
                    break
                nxt = got
            parts.append(nxt)
            in_quotes = _open_quote(nxt[1], delimiter, True)
        record = "\n".join(t for _n, t in parts)
        cells = next(csv.reader([record], delimiter=delimiter), []) if not in_quotes else []
        swallowed = (
            expected is not None
            and len(cells) < expected
            and any(delimiter in t for _n, t in parts[1:])
        )
        if in_quotes or swallowed:
            report.add_problem(
                number,
                "a quotation mark in this row is never closed, so the row could not be read; "
                "skipped (the lines after it were read on their own)",
                text,
            )
            pending = parts[1:] + pending
            yield None
            continue
        expected = len(cells) if expected is None else expected
        yield Row(number, parts[-1][0], cells, record)


def _split_multi(value: str) -> list[str]:
    """Google writes several values into one cell, separated by ' ::: '."""
    return [v.strip() for v in value.split(":::") if v.strip()]


def _google_phone_kind(label: str) -> PhoneKind:
    label = label.casefold().lstrip("* ").strip()
    if "fax" in label:
        return PhoneKind.FAX
    if "mobile" in label or "cell" in label:
        return PhoneKind.MOBILE
    if "home" in label:
        return PhoneKind.HOME
    if label in ("work", "main", ""):
        return PhoneKind.WORK
    return PhoneKind.OTHER


class CsvReader:
    def __init__(self, layout: Layout, report: ImportReport) -> None:
        self.layout = layout
        self.report = report
        self.own = layout.name == "desktop_crm CSV"

    def draft(self, row: Row) -> Draft | None:
        layout = self.layout
        cells = row.cells
        if len(cells) > len(layout.slots):
            extra = [c for c in cells[len(layout.slots) :] if c.strip()]
            if extra:
                self.report.add_problem(
                    row.line,
                    f"the row has {len(cells)} cells but the header only {len(layout.slots)}; "
                    "the values without a column are kept in the notes",
                    row.raw,
                )
        if not any(c.strip() for c in cells):
            return None
        d = Draft(line=row.line)
        if self.own:
            self._own(d, cells)
            return d
        addresses: dict[str, dict[str, str]] = {}
        google: dict[str, dict[str, str]] = {}
        birth = {"birth_year": "", "birth_month": "", "birth_day": ""}
        for i, value in enumerate(cells):
            value = value.strip()
            if not value:
                continue
            if i >= len(layout.slots):
                d.extra("Value without a column", value)
                continue
            kind, a, b = layout.slots[i]
            header = layout.headers[i].strip()
            if kind == "field":
                if a in birth:
                    birth[a] = value
                else:
                    self._field(d, a, value, header)
            elif kind == "phone":
                for part in _split_multi(value):
                    d.phone(part, PhoneKind(a))
            elif kind == "email":
                for part in _split_multi(value):
                    d.email(part, primary=not d.emails)
            elif kind == "addr":
                group = addresses.setdefault(a, {})
                group[b] = value
            elif kind == "google":
                google.setdefault(a, {})[b] = value
            elif kind == "extra" and not is_empty_date(value):
                d.extra(header, value)
        if any(birth.values()):
            y, m, day = birth["birth_year"], birth["birth_month"], birth["birth_day"]
            if y and m and day:
                d.birthday = f"{y}-{m.zfill(2)}-{day.zfill(2)}"
            else:
                d.extra("Birthday", ".".join(p for p in (day, m, y) if p))
        self._google(d, google, addresses)
        self._addresses(d, addresses)
        return d

    def _field(self, d: Draft, name: str, value: str, header: str) -> None:
        if name == "prefix":
            d.prefix(value)
        elif name == "suffix":
            d.name_suffix = value
        elif name == "notes":
            d.notes.append(value)
        elif name == "tags":
            d.tags.extend(value.split(":::") if ":::" in value else re.split(r"[;,]", value))
        elif name == "department":
            d.extra("Department", value)
        elif name == "nickname":
            d.extra("Nickname", value)
        elif name == "web":
            d.extra("Web", value)
        elif name == "birthday":
            if not is_empty_date(value):
                d.birthday = value
        elif name == "organization":
            if d.organization:
                d.extra(header, value)
            else:
                d.organization = value
        elif name == "position":
            if d.position:
                d.extra(header, value)
            else:
                d.position = value
        elif name in ("first_name", "middle_name", "last_name", "full_name", "language"):
            if getattr(d, name):
                d.extra(header, value)
            else:
                setattr(d, name, value)

    def _google(
        self, d: Draft, google: dict[str, dict[str, str]], addresses: dict[str, dict[str, str]]
    ) -> None:
        for key in sorted(google, key=lambda k: (k.split()[0], int(k.split()[-1]))):
            group, fields = key.rsplit(" ", 1)[0], google[key]
            label = fields.get("type") or fields.get("label") or ""
            values = _split_multi(fields.get("value", ""))
            if group == "e-mail":
                for v in values:
                    d.email(v, primary=label.startswith("*") or not d.emails)
            elif group == "phone":
                for v in values:
                    d.phone(v, _google_phone_kind(label))
            elif group == "address":
                kind = label.casefold().lstrip("* ").strip()
                name = kind if kind in ("work", "home") else "other"
                if name in addresses:
                    name = f"{name} {key}"
                addresses[name] = {
                    "street": fields.get("street", ""),
                    "street2": fields.get("extended address", ""),
                    "city": fields.get("city", ""),
                    "region": fields.get("region", ""),
                    "postal_code": fields.get("postal code", ""),
                    "country": fields.get("country", ""),
                    "pobox": fields.get("po box", ""),
                    "formatted": fields.get("formatted", ""),
                }
            elif group == "organization":
                name = fields.get("name", "")
                if name and not d.organization:
                    d.organization = name
                elif name:
                    d.extra("Organization", name)
                if fields.get("title"):
                    if d.position:
                        d.extra("Job title", fields["title"])
                    else:
                        d.position = fields["title"]
                if fields.get("department"):
                    d.extra("Department", fields["department"])
            elif group == "website":
                for v in values:
                    d.extra("Web", v)
            else:
                for v in values:
                    d.extra(f"{group.split()[0].capitalize()} {label}".strip(), v)

    def _addresses(self, d: Draft, addresses: dict[str, dict[str, str]]) -> None:
        def fields(a: dict[str, str]) -> dict[str, str]:
            street = ", ".join(
                a[k].strip() for k in ("street", "street2", "street3") if a.get(k, "").strip()
            )
            if not street and not (a.get("city") or a.get("postal_code")) and a.get("formatted"):
                street = a["formatted"]
            return {
                "street": street,
                "postal_code": a.get("postal_code", ""),
                "city": a.get("city", ""),
                "region": a.get("region", ""),
                "country": a.get("country", ""),
                "pobox": a.get("pobox", ""),
            }

        def order(name: str) -> int:
            base = name.split()[0]
            return {"main": 0, "work": 1, "home": 2}.get(base, 3)

        chosen = True
        for name in sorted(addresses, key=order):
            f = fields(addresses[name])
            if not any(f.values()):
                continue
            if chosen:
                d.address(**f)
                chosen = False
            else:
                base = name.split()[0]
                label = {"work": "Work address", "home": "Home address"}.get(base, "Other address")
                d.extra(label, address_text(**f))

    def _own(self, d: Draft, cells: list[str]) -> None:
        values = {
            slot[1]: unprotect_cell(cells[i]) if i < len(cells) else ""
            for i, slot in enumerate(self.layout.slots)
        }

        def many(name: str) -> list[str]:
            text = values.get(name, "")
            parts = text.split(CELL_SEPARATOR) if CELL_SEPARATOR in text else [text]
            return [p.strip() for p in parts if p.strip()]

        d.salutation = values.get("salutation", "").strip()
        d.title = values.get("title", "").strip()
        d.first_name = values.get("first_name", "").strip()
        d.last_name = values.get("last_name", "").strip()
        d.organization = values.get("organization", "").strip()
        d.position = values.get("position", "").strip()
        d.street = values.get("street", "").strip()
        d.postal_code = values.get("postal_code", "").strip()
        d.city = values.get("city", "").strip()
        d.country = values.get("country", "").strip()
        for kind, column in PHONE_COLUMNS.items():
            for raw in many(column):
                d.phone(raw, kind)
        for raw in many("email"):
            d.email(raw, primary=not d.emails)
        for raw in many("email_other"):
            d.email(raw)
        tags = values.get("tags", "")
        d.tags = many("tags") if CELL_SEPARATOR in tags else tags.split(";")
        d.birthday = values.get("birthday", "").strip()
        d.language = values.get("language", "").strip()
        consent = values.get("marketing_consent", "").strip().casefold()
        d.marketing_consent = consent in ("yes", "ja", "true", "1", "x", "y", "j", "wahr")
        d.consent_date = values.get("consent_date", "").strip()
        d.consent_source = values.get("consent_source", "").strip()
        if values.get("notes", "").strip():
            d.notes.append(values["notes"])
        for i, slot in enumerate(self.layout.slots):
            if slot[1] not in OWN_CSV_COLUMNS and i < len(cells) and cells[i].strip():
                d.extra(self.layout.headers[i].strip(), cells[i])

"""vCard 2.1, 3.0 and 4.0 files, read with vobject after the text is made safe for it.

vobject 0.9.9 stumbles over what real exporters write, so each card is prepared first:

* vCard 2.1 quoted-printable values continued over soft line breaks (``=`` at the end of a
  line, as Android and Outlook write them) make vobject raise ``ParseError``. The lines are
  joined here and the value decoded with the CHARSET the property names (UTF-8 when none), so
  "=C3=91" becomes "Ñ" and "=FC" in a Windows-1252 card becomes "ü".
* vobject cuts every text value at the first unescaped comma ("FN:Doe, John" is read as
  "Doe"), and vCard 2.1 never escapes commas. Bare commas are escaped before vobject sees them,
  except in N (where they separate several additional names) and CATEGORIES (a list).
* Photos, logos, sounds and keys (large base64 blocks) are not imported and skipped unread.

Each card is built line by line, so one unreadable line costs that line (kept in the notes and
reported with its line number), not the card, and one unreadable card costs that card only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import vobject
import vobject.base

from ..models import PhoneKind
from .draft import Draft, address_text, one_line
from .layout import (
    X_CONSENT,
    X_CONSENT_DATE,
    X_CONSENT_SOURCE,
    X_LANGUAGE,
    X_SALUTATION,
    X_TITLE,
)
from .report import ImportReport

BEGIN = re.compile(r"^\s*BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE)
END = re.compile(r"^\s*END\s*:\s*VCARD\s*$", re.IGNORECASE)
QP = re.compile(r"^[^:]*QUOTED-PRINTABLE", re.IGNORECASE)
QP_BYTES = re.compile(r"(?:=[0-9A-Fa-f]{2})+")

SKIPPED = {"PHOTO", "LOGO", "SOUND", "KEY", "X-MS-OL-DESIGN", "X-MS-CARDPICTURE", "AGENT"}
KEEP_COMMAS = {"N", "CATEGORIES"}
MESSENGERS = {
    "IMPP",
    "X-AIM",
    "X-ICQ",
    "X-JABBER",
    "X-MSN",
    "X-SKYPE",
    "X-SKYPE-USERNAME",
    "X-YAHOO",
    "X-GOOGLE-TALK",
    "X-GADUGADU",
    "X-QQ",
    "X-MS-IMADDRESS",
}


@dataclass
class Card:
    start: int
    lines: list[list[Any]] = field(default_factory=list)  # [line number, text]
    complete: bool = True


def cards(lines: Iterable[tuple[int, str]]) -> Iterator[Card]:
    """Group physical lines into cards of logical lines (unfolded, QP soft breaks joined)."""
    card: Card | None = None
    depth = 0
    qp_open = False
    for number, text in lines:
        if card is None:
            if BEGIN.match(text):
                card, depth, qp_open = Card(number), 0, False
            continue
        if qp_open:
            if text.strip() and not END.match(text) and not BEGIN.match(text):
                last = card.lines[-1]
                last[1] = last[1][:-1] + text
                qp_open = text.endswith("=")
                continue
            qp_open = False
            if card.lines and card.lines[-1][1].endswith("="):
                card.lines[-1][1] = card.lines[-1][1][:-1]
            if not text.strip():
                continue
        if not text.strip():
            continue
        if depth:  # inside a nested card (vCard 2.1 AGENT): not imported
            if BEGIN.match(text):
                depth += 1
            elif END.match(text):
                depth -= 1
            continue
        if BEGIN.match(text):
            if card.lines and re.match(r"^\s*(\w+\.)?AGENT\b", card.lines[-1][1], re.I):
                depth = 1  # vCard 2.1 AGENT: a card inside the card
                continue
            card.complete = False  # the card before has no END:VCARD
            yield card
            card, qp_open = Card(number), False
            continue
        if END.match(text):
            yield card
            card = None
            continue
        if text[0] in " \t" and card.lines:
            card.lines[-1][1] += text[1:]
        else:
            card.lines.append([number, text])
        last_text = card.lines[-1][1]
        qp_open = last_text.endswith("=") and bool(QP.match(last_text))
    if card is not None:
        card.complete = False
        yield card


def _escape_commas(value: str) -> str:
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append(value[i : i + 2])
            i += 2
            continue
        out.append("\\," if ch == "," else ch)
        i += 1
    return "".join(out)


def _decode_qp(value: str, charset: str) -> tuple[str, bool]:
    """Decode the =XX runs of ``value`` with ``charset``; (text, every byte was valid)."""
    ok = True

    def run(m: re.Match[str]) -> str:
        nonlocal ok
        data = bytes.fromhex(m.group(0).replace("=", ""))
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            ok = False
            return data.decode(charset, errors="replace")

    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"
    return QP_BYTES.sub(run, value), ok


def _params(params: list[list[str]]) -> tuple[list[list[str]], bool, str]:
    """(params without ENCODING=QP and CHARSET, quoted-printable?, charset)."""
    kept, qp, charset = [], False, "utf-8"
    for param in params:
        key = param[0].upper()
        values = [v.upper() for v in param[1:]]
        if (key == "QUOTED-PRINTABLE" and len(param) == 1) or (
            key == "ENCODING" and "QUOTED-PRINTABLE" in values
        ):
            qp = True
        elif key == "CHARSET":
            charset = param[1] if len(param) > 1 else charset
        else:
            kept.append(param)
    return kept, qp, charset


def _types(line: Any) -> set[str]:
    out = {p.upper() for p in line.singletonparams}
    for key, values in line.params.items():
        if key.upper() == "TYPE":
            for value in values:
                out.update(v.strip().upper() for v in value.split(",") if v.strip())
        elif key.upper() == "PREF":
            out.add("PREF")
    return out


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value if _text(v))
    return str(value or "").strip()


def _part(value: Any) -> str:
    """One component of ADR or ORG as one line."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return one_line(str(value or ""))


def _number(value: str) -> str:
    """A tel: URI as people write numbers ("tel:+1-418-656-9254;ext=102" -> "... ext. 102")."""
    text = value.strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
        number, _, params = text.partition(";")
        ext = re.search(r"(?:^|;)ext=([^;]+)", params, re.IGNORECASE)
        text = number + (f" ext. {ext.group(1)}" if ext else "")
    return text


def _phone_kind(types: set[str]) -> PhoneKind:
    if "FAX" in types:
        return PhoneKind.FAX
    if "CELL" in types or "MOBILE" in types or "IPHONE" in types:
        return PhoneKind.MOBILE
    if "X-SWITCHBOARD" in types or "MAIN" in types:
        return PhoneKind.SWITCHBOARD
    if "HOME" in types:
        return PhoneKind.HOME
    if "WORK" in types:
        return PhoneKind.WORK
    if types & {"PAGER", "X-OTHER", "OTHER", "TEXTPHONE", "VIDEO", "CAR", "ISDN", "MODEM"}:
        return PhoneKind.OTHER
    return PhoneKind.WORK


class VCardReader:
    """Turns the lines of a vCard file into drafts; problems go into ``report``."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.versions: list[str] = []

    def drafts(self, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, Draft | None]]:
        """``(last line number read, draft or None for a card that could not be used)``."""
        for card in cards(lines):
            if not card.complete:
                self.report.add_problem(
                    card.start,
                    "the card has no END:VCARD (the file may be cut off); what it has was read",
                )
            last = card.lines[-1][0] if card.lines else card.start
            yield last, self._draft(card)

    def _component(self, card: Card, draft: Draft) -> Any:
        version = "3.0"
        for _line, text in card.lines:
            m = re.match(r"^\s*VERSION\s*:\s*(\S+)", text, re.IGNORECASE)
            if m:
                version = m.group(1)
                break
        if version not in self.versions:
            self.versions.append(version)
            self.report.format = "vCard " + ", ".join(self.versions)
        component = vobject.base.Component("VCARD")
        component.setBehavior(vobject.base.getBehavior("VCARD", version))
        for number, text in card.lines:
            try:
                name, params, value, group = vobject.base.parseLine(text, number)
            except vobject.base.ParseError:
                draft.extra("Unreadable line", text)
                self.report.add_problem(
                    number, "this line of the card could not be read; kept in the notes", text
                )
                continue
            upper = name.upper()
            if upper in SKIPPED or upper == "VERSION":
                continue
            params, qp, charset = _params(params)
            if qp:
                value, ok = _decode_qp(value, charset)
                if not ok:
                    self.report.add_problem(
                        number,
                        f"{upper} contains bytes that are not valid {charset}; they were replaced "
                        "by \ufffd",
                        text,
                    )
                value = value.replace("\\", "\\\\").replace("\r\n", "\n").replace("\r", "\n")
                value = value.replace("\n", "\\n")
                if upper not in ("N", "ADR", "ORG"):
                    value = value.replace(";", "\\;")
            if upper not in KEEP_COMMAS:
                value = _escape_commas(value)
            line = vobject.base.ContentLine(
                name, params, value, group, encoded=True, lineNumber=number
            )
            try:
                component.add(line)
                line.transformToNative()
            except Exception as exc:  # vobject raises many kinds on odd input
                component.remove(line)
                draft.extra("Unreadable line", text)
                self.report.add_problem(
                    number,
                    f"this line of the card could not be read ({type(exc).__name__}); kept in "
                    "the notes",
                    text,
                )
        return component

    def _draft(self, card: Card) -> Draft | None:
        d = Draft(line=card.start)
        try:
            component = self._component(card, d)
        except Exception as exc:  # a card vobject cannot take at all
            self.report.add_problem(
                card.start,
                f"the card could not be read ({exc}); skipped",
                " / ".join(text for _n, text in card.lines[:3]),
            )
            return None
        c: dict[str, list[Any]] = component.contents
        self._names(c, d)
        for i, org in enumerate(c.get("org", [])):
            parts = [_part(p) for p in (org.value if isinstance(org.value, list) else [org.value])]
            if i == 0:
                d.organization = parts[0] if parts else ""
                if len(parts) > 1:
                    d.extra("Department", " / ".join(p for p in parts[1:] if p))
            elif " / ".join(p for p in parts if p) != d.organization:
                d.extra("Organization", " / ".join(p for p in parts if p))
        for i, line in enumerate(c.get("title", [])):
            if i == 0:
                d.position = _text(line.value)
            else:
                d.extra("Job title", _text(line.value))
        for line in c.get("role", []):
            d.extra("Role", _text(line.value))
        for line in c.get("tel", []):
            d.phone(_number(_text(line.value)), _phone_kind(_types(line)), line.lineNumber)
        emails = c.get("email", [])
        preferred = [e for e in emails if "PREF" in _types(e)]
        for line in emails:
            raw = _text(line.value)
            if raw.lower().startswith("mailto:"):
                raw = raw[7:]
            d.email(raw, bool(preferred) and line is preferred[0], line.lineNumber)
        self._addresses(c.get("adr", []), d)
        for line in c.get("bday", [])[:1]:
            d.birthday = _text(line.value)
        for line in c.get("note", []):
            d.notes.append(str(line.value or ""))
        for line in c.get("categories", []):
            values = line.value if isinstance(line.value, list) else [line.value]
            d.tags.extend(str(v) for v in values)
        for line in c.get("nickname", []):
            d.extra("Nickname", _text(line.value))
        for line in c.get("url", []):
            d.extra("Web", _text(line.value).replace("\\:", ":"))
        for name, lines in c.items():
            if name.upper() in MESSENGERS:
                for line in lines:
                    d.extra("Messenger", _text(line.value))
        langs = sorted(
            c.get("lang", []), key=lambda line: (line.params.get("PREF") or ["99"])[0].zfill(3)
        )
        if langs:
            d.language = _text(langs[0].value)
        self._own(c, d)
        fn = _text(c["fn"][0].value) if c.get("fn") else ""
        # FN is the display name; a card without a person's name often repeats the company,
        # an address or a number there, which is no name
        if fn not in {d.organization, *(e.raw for e in d.emails), *(p.raw for p in d.phones)}:
            d.full_name = fn
        return d

    def _names(self, c: dict[str, list[Any]], d: Draft) -> None:
        n = c.get("n", [])
        if n and isinstance(n[0].value, vobject.vcard.Name):
            name = n[0].value
            d.last_name = _text(name.family)
            d.first_name = _text(name.given)
            d.middle_name = _text(name.additional)
            d.prefix(_text(name.prefix))
            d.name_suffix = _text(name.suffix)

    def _addresses(self, lines: list[Any], d: Draft) -> None:
        if not lines:
            return

        def rank(line: Any) -> int:
            types = _types(line)
            return 0 if "PREF" in types else 1 if "WORK" in types else 2

        chosen = min(lines, key=rank)
        for line in lines:
            a = line.value
            if not isinstance(a, vobject.vcard.Address):
                d.extra("Address", _text(a))
                continue
            street = ", ".join(p for p in (_part(a.street), _part(a.extended)) if p)
            fields = {
                "street": street,
                "postal_code": _part(a.code),
                "city": _part(a.city),
                "region": _part(a.region),
                "country": _part(a.country),
                "pobox": _part(a.box),
            }
            if line is chosen:
                d.address(**fields)
            else:
                types = _types(line) - {"PREF", "POSTAL", "PARCEL", "DOM", "INTL"}
                label = "Home address" if "HOME" in types else "Work address"
                if not types & {"HOME", "WORK"}:
                    label = "Other address"
                d.extra(label, address_text(**fields))

    def _own(self, c: dict[str, list[Any]], d: Draft) -> None:
        """The X- properties our own export writes for fields vCard has no place for."""

        def value(name: str) -> str | None:
            lines = c.get(name.lower())
            return _text(lines[0].value) if lines else None

        salutation, title = value(X_SALUTATION), value(X_TITLE)
        if salutation is not None or title is not None:
            d.salutation, d.title = salutation or "", title or ""
        if (language := value(X_LANGUAGE)) is not None:
            d.language = language
        if (consent := value(X_CONSENT)) is not None:
            d.marketing_consent = consent.lower() in ("yes", "true", "1")
        d.consent_date = value(X_CONSENT_DATE) or d.consent_date
        d.consent_source = value(X_CONSENT_SOURCE) or d.consent_source

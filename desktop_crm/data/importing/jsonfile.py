"""JSON contact lists as our export writes them: a list of objects, one per contact.

The keys are those of the export (docs/import-export.md); ids, versions, times and derived
values (``e164``, ``normalized``) are ignored, because the database derives its own. Each object
is decoded on its own, so its line number is known; a syntax error ends the file there (JSON
cannot be resynchronised), which the report says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..models import PhoneKind
from .draft import Draft
from .report import ImportReport

_WHITESPACE = " \t\r\n"


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


def objects(text: str, report: ImportReport) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` for each element of the top-level JSON array in ``text``."""
    decoder = json.JSONDecoder()
    i, line, n = 0, 1, len(text)

    def skip(i: int, line: int) -> tuple[int, int]:
        while i < n and text[i] in _WHITESPACE:
            line += text[i] == "\n"
            i += 1
        return i, line

    i, line = skip(i, line)
    if i >= n or text[i] != "[":
        report.add_problem(line, "a JSON contact list must start with '['", text[i : i + 40])
        return
    i, line = skip(i + 1, line)
    if i < n and text[i] == "]":
        return
    while i < n:
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            report.add_problem(
                exc.lineno,
                f"the file is not valid JSON here ({exc.msg}); nothing after this was read",
                text[exc.pos : exc.pos + 60],
            )
            return
        yield line, value
        line += text.count("\n", i, end)
        i, line = skip(end, line)
        if i < n and text[i] == ",":
            i, line = skip(i + 1, line)
        elif i < n and text[i] == "]":
            return
        else:
            report.add_problem(
                line, "the file is not valid JSON here (',' or ']' expected)", text[i : i + 40]
            )
            return


def draft(line: int, obj: Any, report: ImportReport) -> Draft | None:
    if not isinstance(obj, dict):
        report.add_problem(line, "this entry is not a contact (an object was expected); skipped")
        return None
    d = Draft(line=line)
    for name in (
        "salutation",
        "title",
        "first_name",
        "last_name",
        "position",
        "street",
        "postal_code",
        "city",
        "country",
        "language",
        "birthday",
        "consent_date",
        "consent_source",
    ):
        setattr(d, name, _str(obj.get(name)).strip())
    org = obj.get("organization")
    d.organization = _str(org.get("name") if isinstance(org, dict) else org).strip()
    d.marketing_consent = obj.get("marketing_consent") in (True, "yes", "true", 1)
    if obj.get("notes"):
        d.notes.append(_str(obj["notes"]))
    for phone in obj.get("phones") or []:
        if isinstance(phone, dict):
            try:
                kind = PhoneKind(_str(phone.get("kind")) or PhoneKind.WORK.value)
            except ValueError:
                kind = PhoneKind.OTHER
            d.phone(_str(phone.get("raw")), kind)
        else:
            d.phone(_str(phone), PhoneKind.WORK)
    for email in obj.get("emails") or []:
        if isinstance(email, dict):
            d.email(_str(email.get("raw")), bool(email.get("primary")))
        else:
            d.email(_str(email))
    d.tags = [_str(t) for t in obj.get("tags") or []]
    return d

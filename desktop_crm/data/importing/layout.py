"""Our own contact file layout, shared by the importer and the exporter.

The CSV export writes exactly :data:`OWN_CSV_COLUMNS` (UTF-8 with BOM, ``,`` separated, one
contact per row); the importer recognises a header row made of these names and reads it back
without loss. docs/import-export.md describes every column.
"""

from __future__ import annotations

import re

from ..models import PhoneKind

#: Columns of our CSV layout, in the order the export writes them.
OWN_CSV_COLUMNS: tuple[str, ...] = (
    "salutation",
    "title",
    "first_name",
    "last_name",
    "organization",
    "position",
    "street",
    "postal_code",
    "city",
    "country",
    "phone_work",
    "phone_mobile",
    "phone_home",
    "phone_fax",
    "phone_switchboard",
    "phone_other",
    "email",
    "email_other",
    "tags",
    "birthday",
    "language",
    "marketing_consent",
    "consent_date",
    "consent_source",
    "notes",
)

#: The phone column of our layout for each kind of number.
PHONE_COLUMNS: dict[PhoneKind, str] = {kind: f"phone_{kind.value}" for kind in PhoneKind}

#: vCard TYPE values the export writes for each kind (the importer reads them back).
VCARD_PHONE_TYPES: dict[PhoneKind, list[str]] = {
    PhoneKind.WORK: ["WORK", "VOICE"],
    PhoneKind.MOBILE: ["CELL", "VOICE"],
    PhoneKind.HOME: ["HOME", "VOICE"],
    PhoneKind.FAX: ["WORK", "FAX"],
    PhoneKind.SWITCHBOARD: ["WORK", "VOICE", "X-SWITCHBOARD"],
    PhoneKind.OTHER: ["VOICE", "X-OTHER"],
}

#: vCard properties for fields vCard 3.0 has no place for.
X_SALUTATION = "X-DESKTOP-CRM-SALUTATION"
X_TITLE = "X-DESKTOP-CRM-TITLE"
X_LANGUAGE = "X-DESKTOP-CRM-LANGUAGE"
X_CONSENT = "X-DESKTOP-CRM-MARKETING-CONSENT"
X_CONSENT_DATE = "X-DESKTOP-CRM-CONSENT-DATE"
X_CONSENT_SOURCE = "X-DESKTOP-CRM-CONSENT-SOURCE"

#: Separator of several values in one cell of our CSV layout (numbers, addresses, tags).
CELL_SEPARATOR = "\n"

# A cell starting with one of = + - @ (or tab/CR) is run as a formula by spreadsheets ("CSV
# injection"). Such a cell gets an apostrophe in front; so that this can be undone exactly, a
# value that already looks protected (apostrophes, then one of those) gets one more.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")


def protect_cell(value: str) -> str:
    """``value`` as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if _FORMULA.match(value) else value


def unprotect_cell(value: str) -> str:
    """The value :func:`protect_cell` was given."""
    return value[1:] if value.startswith("'") and _FORMULA.match(value) else value

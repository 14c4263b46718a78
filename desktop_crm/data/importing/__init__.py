"""Importing contacts from vCard, CSV and JSON files, without duplicates and without losing text.

Formats (recognised from the content, not the file name):

* vCard 2.1 (quoted-printable, any CHARSET), 3.0 and 4.0, one or many cards per file;
* CSV from Outlook (English and German headers), Google Contacts, Thunderbird, hand-made Excel
  lists, and our own layout: exactly the columns our CSV export writes,
  :data:`~desktop_crm.data.importing.layout.OWN_CSV_COLUMNS` (salutation, title, first_name,
  last_name, organization, position, street, postal_code, city, country, phone_work,
  phone_mobile, phone_home, phone_fax, phone_switchboard, phone_other, email, email_other,
  tags, birthday, language, marketing_consent, consent_date, consent_source, notes; several
  numbers, addresses or tags in one cell are separated by line breaks);
* JSON as our export writes it (a list of contact objects).

Encodings: UTF-8 with or without BOM, UTF-16 (BOM or not), Windows-1252; CSV separators ``,``
``;`` and tab, taken from the header row. docs/import-export.md documents all of it for users.

Rules: a bad row or card is reported with its line number and a reason in plain words, and the
rest still imports. Nothing typed is lost: a number that cannot be normalised is stored as
written, a malformed e-mail address and every value without a field of its own go into the
contact's notes. Importing the same file again creates no duplicates (see
:mod:`~desktop_crm.data.importing.writer` for how contacts are matched and merged).

Work is committed in batches of :data:`BATCH_SIZE`, one session each, so very large files are
feasible and a cancelled import keeps what was committed. It never touches Qt: the UI runs
:func:`import_file` in a worker thread and passes ``progress`` and ``cancel``.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..db import Database
from . import jsonfile
from .csvfile import CsvReader, detect_layout, rows, sniff_delimiter
from .draft import Prepared
from .layout import OWN_CSV_COLUMNS
from .parallel import (
    POOL_MIN_LINES,
    CsvRecord,
    Item,
    Outcome,
    default_workers,
    prepare_item,
    prepared_in_pool,
)
from .report import ImportProblem, ImportReport
from .textfile import TextFile
from .vcard import VCardReader
from .writer import Writer

__all__ = [
    "BATCH_SIZE",
    "OWN_CSV_COLUMNS",
    "ImportProblem",
    "ImportReport",
    "import_file",
]

log = logging.getLogger(__name__)

BATCH_SIZE = 500
PROGRESS_EVERY = 2000  # lines, while reading rows that produce nothing to save

Source = Iterator[tuple[int, Item]]


def _detect(text_file: TextFile) -> str:
    sample = text_file.sample_text()
    if text_file.head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if re.search(r"^\s*BEGIN\s*:\s*VCARD\s*$", sample[:4096], re.IGNORECASE | re.MULTILINE):
        return "vcard"
    if sample.lstrip().startswith("["):
        return "json"
    if not text_file.utf16 and b"\x00" in text_file.head[:4096]:
        return "binary"
    return "csv"


def _vcard_source(text_file: TextFile, report: ImportReport) -> Source:
    yield from VCardReader(report).drafts(text_file.lines())


def _json_source(text_file: TextFile, report: ImportReport) -> Source:
    text = "\n".join(t for _n, t in text_file.lines())
    for line, obj in jsonfile.objects(text, report):
        yield line, jsonfile.draft(line, obj, report)


def _csv_source(text_file: TextFile, report: ImportReport) -> Source:
    lines = text_file.lines()
    first: tuple[int, str] | None = None
    delimiter = ""
    for number, text in lines:
        if not text.strip():
            continue
        m = re.fullmatch(r'"?sep=(.)"?', text.strip(), re.IGNORECASE)
        if m and not delimiter:  # Excel's hint line "sep=;"
            delimiter = m.group(1)
            continue
        first = (number, text)
        break
    if first is None:
        report.add_problem(0, "the file is empty")
        return
    delimiter = delimiter or sniff_delimiter(first[1])
    records = rows(itertools.chain([first], lines), delimiter, report)
    header = next(records, None)
    if header is None:
        return
    layout = detect_layout(header.cells)
    named = {"tab": "\t"}
    sep = next((k for k, v in named.items() if v == delimiter), delimiter)
    report.format = f"{layout.name}, '{sep}' separated"
    if all(slot[0] in ("extra", "ignore") for slot in layout.slots):
        report.add_problem(
            header.line,
            "the first row names no column this program knows (for example First Name, "
            "Vorname, Company, Firma, E-mail Address, E-Mail-Adresse); nothing was imported",
            header.raw,
        )
        return
    for row in records:
        if row is None:
            yield 0, None
        else:  # made into a draft by prepare_item (maybe in a worker process)
            yield row.last_line, CsvRecord(layout, row)


def _prepared_here(
    source: Source, report: ImportReport, home_region: str
) -> Iterator[tuple[int, Outcome]]:
    readers: dict[int, CsvReader] = {}
    for where, item in source:
        yield where, prepare_item(item, home_region, report, readers)


def import_file(
    db: Database,
    path: Path,
    *,
    home_region: str = "DE",
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import the contacts in ``path``; the report says what happened, line by line.

    ``progress(done, total)`` counts lines of the file. ``cancel()`` is asked between rows; when
    it returns True the import stops, keeps what was already committed and says so in the
    report. A file that cannot be opened raises ``OSError``.

    A file of :data:`~.parallel.POOL_MIN_LINES` lines or more is read into contacts by
    ``workers`` processes (default: one per core, see :mod:`.parallel`) while this process
    writes; ``workers=0`` reads everything in this process. The result is the same.
    """
    path = Path(path)
    report = ImportReport(
        file=str(path), format="", created=0, updated=0, unchanged=0, skipped=0, problems=[]
    )
    text_file = TextFile.open(path)
    kind = _detect(text_file)
    total = text_file.count_lines()
    if kind in ("xlsx", "binary"):
        report.format = "Excel workbook" if kind == "xlsx" else "unknown"
        report.add_problem(
            0,
            "Excel workbooks cannot be read directly: save the sheet as CSV (UTF-8) first"
            if kind == "xlsx"
            else "this is not a contact file this program can read (vCard, CSV or JSON)",
        )
        return report
    report.format = {"vcard": "vCard", "json": "desktop_crm JSON", "csv": "CSV"}[kind]
    make_source = {"vcard": _vcard_source, "json": _json_source, "csv": _csv_source}[kind]
    if workers is None:
        workers = default_workers() if total >= POOL_MIN_LINES else 0
    prepared: Iterator[tuple[int, Outcome]]
    if workers > 0:
        # read here into a report of its own; prepared_in_pool moves its problems over in order
        reading = ImportReport(
            file=report.file, format=report.format, created=0, updated=0, unchanged=0,
            skipped=0, problems=[],
        )  # fmt: skip
        prepared = prepared_in_pool(
            make_source(text_file, reading), reading, report, home_region, workers
        )
    else:
        prepared = _prepared_here(make_source(text_file, report), report, home_region)
    log.info("importing %s (%s, %d worker processes)", path, kind, workers)
    writer = Writer(db, home_region, report)

    def report_progress(done: int) -> None:
        if progress is not None:
            progress(min(done, total), total)

    report_progress(0)
    batch: list[Prepared] = []
    line = reported = 0
    try:
        for where, row in prepared:
            line = max(line, where)
            if cancel is not None and cancel():
                report.cancelled = True
                break
            if row is None:
                report.skipped += 1
            elif isinstance(row, Prepared):
                batch.append(row)  # else NOTHING: an empty row
            if len(batch) >= BATCH_SIZE:
                outcome = writer.write(batch, cancel)
                batch = []
                if outcome.cancelled:
                    report.cancelled = True
                    break
                report_progress(line)
                reported = line
            elif line - reported >= PROGRESS_EVERY:
                report_progress(line)
                reported = line
        if batch and not report.cancelled:
            outcome = writer.write(batch, cancel)
            report.cancelled = outcome.cancelled
    finally:
        close = getattr(prepared, "close", None)
        if close is not None:
            close()  # stops the worker processes, also when writing failed
        writer.close()
    if not report.cancelled:
        report_progress(total)
    report.encoding = text_file.label
    log.info("import finished: %s", report.summary())
    return report

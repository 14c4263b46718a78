"""Reading rows into contacts in worker processes while the importing process writes.

Turning a row into a :class:`~desktop_crm.data.importing.draft.Prepared` contact (splitting
the CSV cells into fields, reading every phone number with phonenumbers, checking addresses) is
more than half of a big import and needs nothing from the database, so for a big file it runs
in a small process pool while this process reads the file and writes batches.

* Order: the file is read here, in order, and cut into chunks of :data:`CHUNK_ROWS` items;
  results are taken back in the same order, so line numbers, problems and the matching of a
  person named twice in the file are exactly as without the pool. The problems found while
  reading an item here (a quotation mark never closed, bytes that are not UTF-8) are held with
  that item and reported just before the worker's problems for it, as the one-process path
  reports them.
* Bounded: at most :data:`IN_FLIGHT_PER_WORKER` chunks per worker are waiting, so the reader
  never runs far ahead of the writer and memory stays flat for any file size.
* Cancelling: the import asks ``cancel()`` between rows as before; closing this generator
  cancels the chunks not started and waits only for those running (a fraction of a second).
* Start method: ``forkserver`` where there is one (Linux, macOS), else ``spawn`` (Windows).
  Never ``fork``: the desktop client imports from a worker thread of a Qt process, and a forked
  copy of a process with threads may inherit locks held by other threads. The fork server is a
  fresh interpreter that imports this module once; workers are forked from it.
* Small files (under :data:`POOL_MIN_LINES` lines) are read in this process: starting workers
  would cost more than it saves. If the pool breaks (a worker killed), the rest of the file is
  read in this process; nothing is lost.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields
from multiprocessing.connection import wait
from multiprocessing.context import BaseContext
from typing import Any, Literal

from ..models import PhoneKind
from ..phone import NormalizedPhone
from ..records import ContactInput, EmailInput, PhoneInput
from .csvfile import CsvReader, Layout, Row
from .draft import Draft, Prepared, prepare
from .report import ImportReport

log = logging.getLogger(__name__)

#: Files with fewer lines are read in the importing process.
POOL_MIN_LINES = 5000
CHUNK_ROWS = 1000
IN_FLIGHT_PER_WORKER = 3

NOTHING: Literal["nothing"] = "nothing"  # a row without any value: not counted at all


@dataclass
class CsvRecord:
    """A CSV row and the column layout it is read with (made into a draft by the preparer)."""

    layout: Layout
    row: Row


#: What a source yields per row or card: read as far as reading needs to go in order, the rest
#: (fields, numbers, addresses) left to :func:`prepare_item`. None: unreadable, skipped.
Item = Draft | CsvRecord | None
#: Per item: the prepared contact, None (skipped: reported, counted), or NOTHING.
Outcome = Prepared | None | Literal["nothing"]
Problem = tuple[int, str, str]


class _Collecting(ImportReport):
    """A report that only collects problems, so a worker can hand them back per item."""

    def __init__(self) -> None:
        super().__init__(
            file="", format="", created=0, updated=0, unchanged=0, skipped=0, problems=[]
        )
        self.found: list[Problem] = []

    def add_problem(self, line: int, reason: str, raw: str = "") -> None:
        self.found.append((line, reason, raw))

    def take(self) -> list[Problem]:
        found, self.found = self.found, []
        return found


def prepare_item(
    item: Item, home_region: str, report: ImportReport, readers: dict[int, CsvReader]
) -> Outcome:
    """One row or card made ready for the writer (the same steps with or without a pool)."""
    if item is None:
        return None
    if isinstance(item, CsvRecord):
        reader = readers.get(id(item.layout))
        if reader is None or reader.layout is not item.layout:
            reader = readers[id(item.layout)] = CsvReader(item.layout, report)
        draft = reader.draft(item.row)
        if draft is None:
            return NOTHING
    else:
        draft = item
    return prepare(draft, home_region, report)


def prepare_chunk(home_region: str, items: list[Item]) -> list[tuple[Outcome, list[Problem]]]:
    """The worker's job: each item's outcome with the problems found while preparing it."""
    report = _Collecting()
    readers: dict[int, CsvReader] = {}
    out: list[tuple[Outcome, list[Problem]]] = []
    for item in items:
        outcome = prepare_item(item, home_region, report, readers)
        out.append((outcome, report.take()))
    return out


# --- sending prepared rows back compactly -------------------------------------------------
# Pickling the dataclasses themselves costs about 40 µs a row to load (every object with its
# attribute dict); plain tuples load in a fraction of that. The writing process is the busy
# one, so the worker packs and pickles, and the result arrives as bytes: the pool's helper
# thread passes it on without unpickling it while the writer needs the GIL.

_PREPARED = [f.name for f in fields(Prepared)]
_INPUT = [f.name for f in fields(ContactInput)]
_INPUT_SCALARS = [n for n in _INPUT if n not in ("tags", "phones", "emails")]
_NUMBER = [f.name for f in fields(NormalizedPhone)]
_PACKED_PREPARED = [
    "line", "data", "organization", "e164", "phone_e164", "emails", "name_key", "org_key",
    "name_sort_key", "numbers",
]  # fmt: skip
_PACKED_INPUT = [*_INPUT_SCALARS, "tags", "phones", "emails"]


def pack(row: Prepared) -> tuple[Any, ...]:
    """``row`` as nested tuples and lists (:func:`unpack` gives an equal Prepared back)."""
    data = row.data
    return (
        row.line,
        tuple(getattr(data, name) for name in _INPUT_SCALARS),
        data.tags,
        [(p.raw, p.kind.value) for p in data.phones],
        [(e.raw, e.primary) for e in data.emails],
        row.organization,
        row.e164,
        row.phone_e164,
        row.emails,
        row.name_key,
        row.org_key,
        row.name_sort_key,
        [tuple(getattr(n, name) for name in _NUMBER) for n in row.numbers],
    )


def unpack(packed: tuple[Any, ...]) -> Prepared:
    (line, scalars, tags, phones, emails, organization, e164, phone_e164, addresses, key,
     org_key, name_sort_key, numbers) = packed  # fmt: skip
    data = ContactInput(
        **dict(zip(_INPUT_SCALARS, scalars, strict=True)),
        tags=tags,
        phones=[PhoneInput(raw, PhoneKind(kind)) for raw, kind in phones],
        emails=[EmailInput(raw, primary) for raw, primary in emails],
    )
    return Prepared(
        line=line,
        data=data,
        organization=organization,
        e164=e164,
        phone_e164=phone_e164,
        emails=addresses,
        name_key=key,
        org_key=org_key,
        name_sort_key=name_sort_key,
        numbers=[NormalizedPhone(*n) for n in numbers],
    )


def prepare_chunk_packed(home_region: str, items: list[Item]) -> bytes:
    """The worker's job: :func:`prepare_chunk`, packed and pickled."""
    return pickle.dumps(
        [
            (pack(outcome) if isinstance(outcome, Prepared) else outcome, problems)
            for outcome, problems in prepare_chunk(home_region, items)
        ],
        protocol=pickle.HIGHEST_PROTOCOL,
    )


def _unpacked(data: bytes) -> list[tuple[Outcome, list[Problem]]]:
    return [
        (unpack(outcome) if isinstance(outcome, tuple) else outcome, problems)
        for outcome, problems in pickle.loads(data)
    ]


def _exit_with_parent() -> None:
    """Worker start: end this process when the importing process is gone.

    A pool worker waits on its task pipe, whose other end it holds itself: when the importing
    process dies (the desktop client killed mid-import), no end-of-file ever comes and the
    worker would wait for ever. A watching thread ends it instead.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="import-watch-parent", daemon=True).start()


def default_workers() -> int:
    """One worker per core but one (this process is busy writing), at least 1, at most 4.

    Measured on 2 cores (100,000 rows): 1 worker and 2 workers within the noise of each
    other; the writing process is the slower side, so a second worker only competes with it.
    """
    return max(1, min((os.cpu_count() or 1) - 1, 4))


def start_method() -> str:
    """``forkserver`` where there is one, else ``spawn``; never ``fork`` (see above)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _context() -> BaseContext:
    if start_method() == "forkserver":
        ctx = multiprocessing.get_context("forkserver")
        # the fork server imports the reading code once and each worker is a fork of it;
        # without this it would import the caller's __main__ module (the GUI's, a test runner's)
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


@dataclass
class _Chunk:
    wheres: list[int]
    items: list[Item]
    read_problems: list[list[Problem]]  # found here while reading each item
    trailing: list[Problem]  # found after the last item (at the end of the file)
    future: Future[bytes] | None = None


def prepared_in_pool(
    source: Iterable[tuple[int, Item]],
    reading: ImportReport,
    report: ImportReport,
    home_region: str,
    workers: int,
) -> Iterator[tuple[int, Outcome]]:
    """``(line, outcome)`` for every item of ``source``, in order, prepared by ``workers``.

    ``source`` reports into ``reading``; its problems move to ``report`` with the item they
    belong to, and its format line is copied over.
    """
    items = iter(source)

    def read_chunk() -> _Chunk | None:
        wheres: list[int] = []
        batch: list[Item] = []
        held: list[list[Problem]] = []
        for where, item in itertools.islice(items, CHUNK_ROWS):
            wheres.append(where)
            batch.append(item)
            held.append(drain())
        trailing = drain() if len(batch) < CHUNK_ROWS else []
        report.format = reading.format
        if reading.problems_not_listed:  # one item with thousands of problems
            report.problems_not_listed += reading.problems_not_listed
            reading.problems_not_listed = 0
        return _Chunk(wheres, batch, held, trailing) if wheres or trailing else None

    def drain() -> list[Problem]:
        if not reading.problems:
            return []
        found = [(p.line, p.reason, p.raw) for p in reading.problems]
        reading.problems.clear()
        return found

    pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
        max_workers=workers, mp_context=_context(), initializer=_exit_with_parent
    )
    queue: deque[_Chunk] = deque()
    exhausted = False
    try:
        while True:
            while not exhausted and len(queue) < workers * IN_FLIGHT_PER_WORKER:
                chunk = read_chunk()
                if chunk is None:
                    exhausted = True
                    break
                if pool is not None:
                    chunk.future = pool.submit(prepare_chunk_packed, home_region, chunk.items)
                queue.append(chunk)
            if not queue:
                return
            chunk = queue.popleft()
            results = None
            if chunk.future is not None:
                try:
                    results = _unpacked(chunk.future.result())
                except BrokenProcessPool as exc:
                    log.warning("import: the worker processes stopped (%s); reading on here", exc)
                    if pool is not None:
                        pool.shutdown(wait=True, cancel_futures=True)
                    pool = None
                    for waiting in queue:
                        waiting.future = None
            if results is None:
                results = prepare_chunk(home_region, chunk.items)
            for where, held, (outcome, problems) in zip(
                chunk.wheres, chunk.read_problems, results, strict=True
            ):
                for line, reason, raw in held:
                    report.add_problem(line, reason, raw)
                for line, reason, raw in problems:
                    report.add_problem(line, reason, raw)
                yield where, outcome
            for line, reason, raw in chunk.trailing:
                report.add_problem(line, reason, raw)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

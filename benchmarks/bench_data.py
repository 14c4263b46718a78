"""Demo data, export and import on SQLite: how long the back office waits.

    .venv/bin/python benchmarks/bench_data.py [--contacts N]

Seeds N demo contacts (with a year of history), exports them as our CSV, imports that file into
a fresh database, and imports it again (which must add nothing). Prints a markdown table for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

from desktop_crm.data.db import Database
from desktop_crm.data.demo import seed_demo
from desktop_crm.data.exporting import export_contacts
from desktop_crm.data.importing import import_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    args = parser.parse_args()
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        folder = Path(tmp)
        source = Database(f"sqlite:///{folder / 'demo.db'}")
        source.upgrade()
        start = time.perf_counter()
        summary = seed_demo(source, contacts=args.contacts)
        rows.append(
            (
                f"seed demo data ({summary.contacts:,} contacts, "
                f"{summary.interactions:,} history entries)",
                time.perf_counter() - start,
                f"{summary.contacts / (time.perf_counter() - start):,.0f} contacts/s",
            )
        )
        csv_path = folder / "contacts.csv"
        start = time.perf_counter()
        with csv_path.open("w", encoding="utf-8", newline="") as out:
            written = export_contacts(source, "csv", out)
        elapsed = time.perf_counter() - start
        rows.append((f"export CSV ({written:,} contacts)", elapsed, f"{written / elapsed:,.0f}/s"))
        source.dispose()

        target = Database(f"sqlite:///{folder / 'import.db'}")
        target.upgrade()
        for label in ("import into an empty database", "import the same file again"):
            start = time.perf_counter()
            report = import_file(target, csv_path)
            elapsed = time.perf_counter() - start
            rows.append(
                (
                    f"{label}: {report.created:,} created, {report.updated:,} updated, "
                    f"{report.unchanged:,} unchanged",
                    elapsed,
                    f"{written / elapsed:,.0f} rows/s",
                )
            )
        target.dispose()

    print(
        f"SQLite {sqlite3.sqlite_version}, Python {platform.python_version()}, "
        f"{platform.machine()}\n"
    )
    print("| step | seconds | rate |")
    print("|---|---:|---:|")
    for label, seconds, rate in rows:
        print(f"| {label} | {seconds:.1f} | {rate} |")


if __name__ == "__main__":
    main()

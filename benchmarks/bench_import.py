"""Importing a big contact file into an empty database: rows a second, and the total time.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000000]

Writes (once, cached under benchmarks/out/) a CSV in our own layout with N people: German, Austrian
and Swiss names, one in ten without a company, two numbers written the many ways people write
them, one e-mail address, a city. Then imports it with ``import_file`` (the path the desktop
client's File → Import and ``desktop-crm import`` take, worker processes included) into a fresh
SQLite database, and prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.importing import import_file, parallel  # noqa: E402
from desktop_crm.data.importing.layout import OWN_CSV_COLUMNS  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
FIRST = [
    "Anna",
    "Bernd",
    "Clara",
    "Dieter",
    "Eva",
    "Frank",
    "Gabi",
    "Hans",
    "Ines",
    "Jürgen",
    "Katharina",
    "Lukas",
    "Maria",
    "Norbert",
    "Olga",
    "Peter",
    "Regina",
    "Stefan",
    "Tanja",
    "Uwe",
    "Vera",
    "Werner",
    "Yvonne",
    "Zoe",
    "Käthe",
    "Jörg",
    "Björn",
    "Sören",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Huber",
    "Gruber",
    "Steiner",
    "Moser",
    "Brunner",
]
CITIES = (
    ("DE", "München", "89"),
    ("DE", "Hamburg", "40"),
    ("DE", "Bremen", "421"),
    ("DE", "Köln", "221"),
    ("AT", "Wien", "1"),
    ("CH", "Zürich", "44"),
)


def _number(rng: random.Random, country: str, area: str, n: int) -> str:
    code = {"DE": "49", "AT": "43", "CH": "41"}[country]
    subscriber = f"{n:07d}"[-7:]
    style = rng.randrange(5)
    if style == 0:
        return f"+{code} {area} {subscriber}"
    if style == 1:
        return f"0{area}/{subscriber}"
    if style == 2:
        return f"00{code} {area} {subscriber[:3]} {subscriber[3:]}"
    if style == 3:
        return f"0{area} {subscriber[:4]}-{subscriber[4:]}"
    return f"+{code} (0){area} {subscriber}"


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    companies = [
        f"{rng.choice(LAST)} {rng.choice(['GmbH', 'AG', 'KG', 'e.K.'])} {i}"
        for i in range(max(1, rows // 10))
    ]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=OWN_CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for i in range(rows):
            country, city, area = rng.choice(CITIES)
            first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{i}"
            writer.writerow(
                {
                    "first_name": first,
                    "last_name": last,
                    "organization": rng.choice(companies) if rng.random() < 0.9 else "",
                    "city": city,
                    "country": country,
                    "phone_work": _number(rng, country, area, 2 * i),
                    "phone_mobile": f"+49 17{i % 10} {3_000_000 + i}",
                    "email": f"{first.lower()}.{i}@example.de",
                }
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes that read rows (default: import_file's choice; 0: none)",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"import-{args.rows}.csv"
    if not path.exists():
        print(f"writing {path} …", file=sys.stderr)
        write_csv(path, args.rows)
    with tempfile.TemporaryDirectory(prefix="crm-import-", dir=OUT) as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'import.db'}")
        db.upgrade()
        last = [time.perf_counter()]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 30:
                last[0] = now
                print(f"  line {done:,} of {total:,}", file=sys.stderr)

        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        report = import_file(db, path, progress=progress, workers=args.workers)
        elapsed = time.perf_counter() - start
        load_after = os.getloadavg()[0]
        db.dispose()
    workers = args.workers
    if workers is None:
        workers = parallel.default_workers() if args.rows >= parallel.POOL_MIN_LINES else 0
    print(
        f"{args.rows:,} rows; SQLite {sqlite3.sqlite_version}, Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{workers} worker process(es) ({parallel.start_method()}); "
        f"load average {load_before:.2f} before, {load_after:.2f} after\n"
    )
    print("| rows | created | organizations | problems | seconds | rows/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.rows:,} | {report.created:,} | {report.organizations_created:,} | "
        f"{report.problem_count:,} | {elapsed:,.1f} | {args.rows / elapsed:,.0f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Caller look-up on a million contacts: our resolver against what other CRMs do.

Builds (once, cached under benchmarks/out/) a SQLite database with N contacts (default
1,000,000), each with two numbers and one e-mail address, plus N/10 companies with a switchboard
number and a mail domain. Numbers are written the many ways people write them, in Germany,
Austria and Switzerland; every derived column is computed by desktop_crm.data.phone, exactly as
the record services store it.

Then it measures, in the same run and on the same data and caller IDs:

- ``resolve_caller`` (desktop_crm.identify): index look-ups on E.164, base number and suffix key;
- "last 8 digits LIKE": ``WHERE e164 LIKE '%' || last8`` — what many CRMs do;
- "normalise in SQL at call time": strip separators with REPLACE() from every stored number, then
  compare the last 8 digits;
- "normalise every stored number at call time": read every stored number and run the
  normaliser on it (only a couple of samples: each takes minutes).

Each timing is one look-up in a fresh session (as the CTI listener does it), after a warm-up.
The output is a markdown table for docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_lookup.py                 # 1,000,000 contacts
    .venv/bin/python benchmarks/bench_lookup.py --contacts 20000 --lookups 2000   # quick
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_crm.data.db import Database  # noqa: E402
from desktop_crm.data.models import (  # noqa: E402
    AppMeta,
    Contact,
    EmailAddress,
    Organization,
    OrganizationDomain,
    PhoneKind,
    PhoneNumber,
)
from desktop_crm.data.phone import normalize_phone  # noqa: E402
from desktop_crm.data.records import normalize_email  # noqa: E402
from desktop_crm.identify import DialingRules, Reason, read_caller_id, resolve_caller  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 20_000
RULES = DialingRules(country="DE", area_code="89", outside_line_prefix="0")

# area codes (without trunk 0) and mobile prefixes per country
AREAS = {
    "DE": [
        *("30", "40", "89", "221", "69", "711", "211", "201", "511", "911", "351", "341"),
        *("421", "231", "6221", "7071", "8031", "4131", "2151", "6131", "761", "9131", "3641"),
        "5551",
    ],
    "AT": ["1", "316", "512", "662", "732", "463", "2742", "5572"],
    "CH": ["44", "31", "61", "71", "21", "22", "41", "52"],
}
MOBILE = {
    "DE": ["151", "152", "160", "162", "170", "171", "172", "175", "176", "177", "178", "179"],
    "AT": ["664", "676", "699", "650", "660"],
    "CH": ["76", "77", "78", "79"],
}
CC = {"DE": "49", "AT": "43", "CH": "41"}
COUNTRY_WEIGHTS = [("DE", 0.8), ("AT", 0.12), ("CH", 0.08)]

# the ways people write a direct dial (area, base, extension), per country code
DIRECT_DIAL: list[Callable[[str, str, str, str], str]] = [
    lambda cc, a, b, e: f"+{cc} {a} {b}-{e}",
    lambda cc, a, b, e: f"0{a}/{b}-{e}",
    lambda cc, a, b, e: f"(0{a}) {b} {e}",
    lambda cc, a, b, e: f"+{cc} (0){a} {b}-{e}",
    lambda cc, a, b, e: f"00{cc} {a} {b}{e}",
    lambda cc, a, b, e: f"+{cc}-{a}-{b}-{e}",
    lambda cc, a, b, e: f"0{a} {b} Durchwahl {e}",
    lambda cc, a, b, e: f"+{cc} {a} {b} ext. {e}",
    lambda cc, a, b, e: f"0{a}-{b}-{e}",
]
PLAIN: list[Callable[[str, str, str], str]] = [
    lambda cc, a, n: f"+{cc} {a} {n}",
    lambda cc, a, n: f"0{a} {n}",
    lambda cc, a, n: f"0{a}/{n}",
    lambda cc, a, n: f"+{cc} (0){a} {n[:3]} {n[3:]}",
    lambda cc, a, n: f"00{cc} {a} {n}",
    lambda cc, a, n: f"(0{a}) {n[:3]} {n[3:5]} {n[5:]}",
]
FREEMAIL = ["gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.com", "gmx.at", "bluewin.ch"]


def _weighted(rng: random.Random, choices: Sequence[tuple[str, float]]) -> str:
    r = rng.random()
    for value, weight in choices:
        r -= weight
        if r <= 0:
            return value
    return choices[-1][0]


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


@dataclass
class Company:
    id: int
    country: str
    area: str
    base: str  # subscriber number the extensions follow


class Numbers:
    """Hands out numbers nobody else has, none the start of another (a company's block)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.blocks: set[str] = set()

    def fresh(self, prefix: str, length: int, *, block: bool = False) -> str:
        while True:
            number = _digits(self.rng, length)
            full = prefix + number
            inside = any(full[:-k] in self.blocks for k in range(1, 6))
            if full not in self.used and full not in self.blocks and not inside:
                (self.blocks if block else self.used).add(full)
                return number


def _company(rng: random.Random, numbers: Numbers, cid: int) -> Company:
    country = _weighted(rng, COUNTRY_WEIGHTS)
    area = rng.choice(AREAS[country])
    # Swiss numbers have a fixed length: the base is followed by exactly two digits
    length = 5 if country == "CH" else max(5, 8 - len(area))
    return Company(cid, country, area, numbers.fresh(CC[country] + area, length, block=True))


def _normalize(item: tuple[str, str]) -> tuple[str | None, str | None, str | None, str]:
    n = normalize_phone(*item)
    return n.e164, n.base_e164, n.extension, n.suffix_key


def _phone_rows(
    pool: Any, pending: list[tuple[str, str, PhoneKind, int | None, int | None]]
) -> list[dict[str, Any]]:
    normalized = pool.map(_normalize, [(raw, region) for raw, region, *_ in pending], 2000)
    rows = []
    for (raw, _region, kind, contact_id, org_id), (e164, base, ext, key) in zip(
        pending, normalized, strict=True
    ):
        rows.append(
            {
                "raw": raw,
                "kind": kind,
                "e164": e164,
                "base_e164": base,
                "extension": ext,
                "suffix_key": key,
                "contact_id": contact_id,
                "organization_id": org_id,
            }
        )
    return rows


def build(db: Database, contacts: int, seed: int) -> None:
    """Write the data set; companies first, then contacts in batches, all in one transaction."""
    rng = random.Random(seed)
    started = time.perf_counter()
    n_companies = max(1, contacts // 10)
    numbers = Numbers(rng)
    companies = [_company(rng, numbers, i) for i in range(1, n_companies + 1)]
    stamp = {"created_at": NOW, "updated_at": NOW, "version": 1}
    with multiprocessing.Pool() as pool, db.session() as s:
        conn = s.connection()
        for start in range(0, n_companies, BATCH):
            chunk = companies[start : start + BATCH]
            conn.execute(
                insert(Organization),
                [
                    {"id": c.id, "name": f"Firma {c.id}", "sort_key": f"firma {c.id:07d}"}
                    | {"country": c.country}
                    | stamp
                    for c in chunk
                ],
            )
            conn.execute(
                insert(OrganizationDomain),
                [{"organization_id": c.id, "domain": f"firma{c.id}.example"} for c in chunk],
            )
            pending = []
            for c in chunk:
                cc = CC[c.country]
                if c.country == "CH":
                    raw = f"+{cc} {c.area} {c.base[:3]} {c.base[3:]} 00"
                else:
                    raw = rng.choice(
                        [
                            f"+{cc} {c.area} {c.base}-0",
                            f"0{c.area} {c.base}-0",
                            f"+{cc} {c.area} {c.base}",
                        ]
                    )
                pending.append((raw, c.country, PhoneKind.SWITCHBOARD, None, c.id))
            conn.execute(insert(PhoneNumber), _phone_rows(pool, pending))
        used_ext: dict[int, set[str]] = {}
        for start in range(1, contacts + 1, BATCH):
            ids = range(start, min(start + BATCH, contacts + 1))
            people, phones, mails = [], [], []
            for cid in ids:
                employee = rng.random() < 0.7
                company = rng.choice(companies) if employee else None
                country = company.country if company else _weighted(rng, COUNTRY_WEIGHTS)
                cc = CC[country]
                people.append(
                    {
                        "id": cid,
                        "first_name": f"Vorname{cid}",
                        "last_name": f"Nachname{cid}",
                        "sort_key": f"nachname{cid:07d} vorname",
                        "organization_id": company.id if company else None,
                        "country": country,
                    }
                    | stamp
                )
                if company is not None:
                    taken = used_ext.setdefault(company.id, set())
                    high = 99 if country == "CH" else 899
                    ext = str(rng.randint(10, high))
                    while ext in taken and len(taken) < high - 10:
                        ext = str(rng.randint(10, high))
                    taken.add(ext)
                    if country == "CH":  # a fixed-length number in the company's block
                        sub = f"{company.base[:3]} {company.base[3:]} {ext}"
                        work = f"+{cc} {company.area} {sub}"
                    else:
                        work = rng.choice(DIRECT_DIAL)(cc, company.area, company.base, ext)
                    phones.append((work, country, PhoneKind.WORK, cid, None))
                    mails.append((f"vorname{cid}.nachname@firma{company.id}.example", cid))
                else:
                    area = rng.choice(AREAS[country])
                    length = 7 if country == "CH" else max(6, 9 - len(area))
                    number = numbers.fresh(cc + area, length)
                    phones.append(
                        (rng.choice(PLAIN)(cc, area, number), country, PhoneKind.HOME, cid, None)
                    )
                    mails.append((f"vorname{cid}.nachname{cid}@{rng.choice(FREEMAIL)}", cid))
                prefix = rng.choice(MOBILE[country])
                mobile = prefix + numbers.fresh(cc + prefix, 7)
                written = rng.choice(
                    [
                        f"0{mobile}",
                        f"+{cc} {mobile[:3]} {mobile[3:]}",
                        f"0{mobile[:3]}/{mobile[3:]}",
                    ]
                )
                phones.append((written, country, PhoneKind.MOBILE, cid, None))
            conn.execute(insert(Contact), people)
            conn.execute(insert(PhoneNumber), _phone_rows(pool, phones))
            rows = []
            for raw, cid in mails:
                normalized, domain = normalize_email(raw)
                rows.append(
                    {
                        "raw": raw,
                        "normalized": normalized,
                        "domain": domain,
                        "is_primary": True,
                        "contact_id": cid,
                    }
                )
            conn.execute(insert(EmailAddress), rows)
            done = ids[-1]
            rate = done / (time.perf_counter() - started)
            print(f"  {done:,} contacts written ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        conn.execute(insert(AppMeta).values(key="bench_lookup", value=f"{contacts}:{seed}"))
    with db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)


# --- caller IDs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    caller_id: str
    kind: str  # hit, switchboard, local, miss, withheld
    expect: tuple[str, int] | None  # ("contact"/"organization", id)


def _incoming_forms(e164: str) -> list[str]:
    national = "0" + e164[3:] if e164.startswith("+49") else "00" + e164[1:]
    return [
        e164,
        national,
        "00" + e164[1:],
        "0" + national,  # the PBX's outside-line 0 in front
        f"tel:{e164[:3]}-{e164[3:5]}-{e164[5:]}",
        f"sip:{e164}@sip.example.de;user=phone",
    ]


def probes(db: Database, n: int, seed: int) -> list[Probe]:
    """Realistic caller IDs: 45 % stored numbers in the forms caller IDs arrive in (some as
    local calls without area code), 15 % direct dials into companies with an extension nobody
    stored, 35 % numbers nobody stored, 5 % withheld."""
    rng = random.Random(seed + 1)
    with db.session() as s:
        max_id = s.scalar(select(PhoneNumber.id).order_by(PhoneNumber.id.desc()).limit(1)) or 0
        companies = s.scalar(select(Organization.id).order_by(Organization.id.desc()).limit(1))
        out: list[Probe] = []
        while len(out) < n:
            r = rng.random()
            if r < 0.45:  # a stored number
                row = s.execute(
                    select(
                        PhoneNumber.e164, PhoneNumber.contact_id, PhoneNumber.organization_id
                    ).where(PhoneNumber.id == rng.randint(1, max_id))
                ).first()
                if row is None or row.e164 is None:
                    continue
                who = ("contact", row.contact_id) if row.contact_id else None
                who = who or ("organization", row.organization_id)
                caller = rng.choice(_incoming_forms(row.e164))
                local = row.e164.startswith("+4989") and rng.random() < 0.2
                if local:
                    caller = row.e164[5:]
                out.append(Probe(caller, "local" if local else "hit", who))
            elif r < 0.60:  # a direct dial into a company (Swiss numbers have no extensions)
                row = s.execute(
                    select(
                        PhoneNumber.e164, PhoneNumber.base_e164, PhoneNumber.organization_id
                    ).where(PhoneNumber.organization_id == rng.randint(1, companies or 1))
                ).first()
                if row is None or row.e164 is None or row.e164.startswith("+41"):
                    continue
                caller = (row.base_e164 or row.e164) + str(rng.randint(900, 999))
                who = ("organization", row.organization_id)
                out.append(Probe(rng.choice(_incoming_forms(caller)), "switchboard", who))
            elif r < 0.95:  # numbers nobody stored, nor a direct dial of a stored base number
                cc = rng.choice(["49", "49", "49", "43", "41"])
                area = rng.choice(AREAS[{"49": "DE", "43": "AT", "41": "CH"}[cc]])
                e164 = f"+{cc}{area}{_digits(rng, 7 if cc == '41' else 9 - len(area))}"
                prefixes = [e164] + [e164[:-k] for k in range(1, 6)]
                taken = s.scalar(
                    select(PhoneNumber.id)
                    .where(PhoneNumber.e164.in_(prefixes) | PhoneNumber.base_e164.in_(prefixes))
                    .limit(1)
                )
                if taken is None:
                    out.append(Probe(rng.choice(_incoming_forms(e164)), "miss", None))
            else:
                out.append(
                    Probe(rng.choice(["anonymous", "", "unknown", "restricted"]), "withheld", None)
                )
    return out


# --- strategies -------------------------------------------------------------------------------


def _last8(caller_id: str) -> str:
    digits = "".join(ch for ch in caller_id.split("@")[0] if ch.isdigit())
    return digits[-8:]


def ours(session: Session, probe: Probe) -> list[tuple[str, int]]:
    result = resolve_caller(session, probe.caller_id, RULES)
    return [(m.record.kind.value, m.record.id) for m in result.matches]


def _owners(rows: Any) -> list[tuple[str, int]]:
    return [("contact", c) if c else ("organization", o) for c, o in rows]


def like_last8(session: Session, probe: Probe) -> list[tuple[str, int]]:
    tail = _last8(probe.caller_id)
    if len(tail) < 8:
        return []
    rows = session.execute(
        text(
            "SELECT contact_id, organization_id FROM phone_number WHERE e164 LIKE :pattern LIMIT 50"
        ),
        {"pattern": "%" + tail},
    )
    return _owners(rows)


_REPLACE_CHAIN = "raw"
for _ch in (" ", "-", "/", "(", ")", "+", "."):
    _REPLACE_CHAIN = f"replace({_REPLACE_CHAIN}, '{_ch}', '')"


def sql_normalise(session: Session, probe: Probe) -> list[tuple[str, int]]:
    tail = _last8(probe.caller_id)
    if len(tail) < 8:
        return []
    rows = session.execute(
        text(
            f"SELECT contact_id, organization_id FROM phone_number "
            f"WHERE {_REPLACE_CHAIN} LIKE :pattern LIMIT 50"
        ),
        {"pattern": "%" + tail},
    )
    return _owners(rows)


def python_normalise(session: Session, probe: Probe) -> list[tuple[str, int]]:
    # the caller ID read as our resolver reads it: only the stored side differs
    wanted = read_caller_id(probe.caller_id, RULES).e164
    rows = session.execute(
        text(
            "SELECT p.raw, p.contact_id, p.organization_id, "
            "coalesce(c.country, o.country, 'DE') FROM phone_number p "
            "LEFT JOIN contact c ON c.id = p.contact_id "
            "LEFT JOIN organization o ON o.id = p.organization_id"
        )
    )
    return [
        ("contact", c) if c else ("organization", o)
        for raw, c, o, region in rows
        if normalize_phone(raw, region).e164 == wanted
    ]


@dataclass
class Result:
    name: str
    probes: list[Probe]
    wall_ms: list[float]  # wall clock, session included
    cpu_ms: list[float]  # CPU time of this thread: unaffected by other processes on the machine
    found: list[list[tuple[str, int]]]

    def subset(self, name: str, kind: str) -> Result:
        keep = [i for i, p in enumerate(self.probes) if p.kind == kind]
        return Result(
            name,
            [self.probes[i] for i in keep],
            [self.wall_ms[i] for i in keep],
            [self.cpu_ms[i] for i in keep],
            [self.found[i] for i in keep],
        )

    @property
    def expected(self) -> int:
        return sum(p.expect is not None for p in self.probes)

    @property
    def right(self) -> int:
        """Look-ups whose expected record is among the results."""
        return sum(p.expect in f for p, f in zip(self.probes, self.found, strict=True))

    @property
    def wrong(self) -> int:
        """Look-ups that returned a record that is not the caller."""
        return sum(
            any(x != p.expect for x in f) for p, f in zip(self.probes, self.found, strict=True)
        )


def measure(
    db: Database,
    name: str,
    strategy: Callable[[Session, Probe], list[tuple[str, int]]],
    sample: Sequence[Probe],
) -> Result:
    result = Result(name, list(sample), [], [], [])
    for probe in sample:
        started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
        with db.session() as s:
            found = strategy(s, probe)
        result.cpu_ms.append((time.thread_time_ns() - started_cpu) / 1e6)
        result.wall_ms.append((time.perf_counter_ns() - started) / 1e6)
        result.found.append(found)
    return result


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(results: list[Result], base: Result | None = None) -> Iterator[str]:
    ratio = base is not None
    yield (
        "| strategy | look-ups | p50 ms | p95 ms | p99 ms | max ms | p99 CPU ms |"
        + (" × ours (p50) |" if ratio else "")
        + " right | wrong |"
    )
    yield "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if ratio else "") + "---:|---:|"
    for r in results:
        p50 = statistics.median(r.wall_ms)
        few = len(r.wall_ms) < 20  # too few for tail percentiles
        cells = [
            r.name,
            f"{len(r.wall_ms):,}",
            f"{p50:.3f}",
            "–" if few else f"{_pct(r.wall_ms, 0.95):.3f}",
            "–" if few else f"{_pct(r.wall_ms, 0.99):.3f}",
            f"{max(r.wall_ms):.3f}",
            "–" if few else f"{_pct(r.cpu_ms, 0.99):.3f}",
        ]
        if base is not None:
            cells.append(f"{p50 / statistics.median(base.wall_ms):,.0f}×")
        cells += [f"{r.right}/{r.expected}", f"{r.wrong}"]
        yield "| " + " | ".join(cells) + " |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5000, help="caller IDs per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of our resolver")
    parser.add_argument("--like-lookups", type=int, default=100)
    parser.add_argument("--sql-lookups", type=int, default=10)
    parser.add_argument("--scan-lookups", type=int, default=1)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"lookup-{args.contacts}-{args.seed}.db"
    if args.rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as s:
        marker = s.scalar(select(AppMeta.value).where(AppMeta.key == "bench_lookup"))
    if marker is None:
        print(f"building {path} with {args.contacts:,} contacts …", file=sys.stderr)
        build(db, args.contacts, args.seed)
    with db.session() as s:
        counts = {
            name: s.scalar(text(f"SELECT count(*) FROM {name}"))
            for name in ("contact", "organization", "phone_number", "email_address")
        }
    print("choosing caller IDs …", file=sys.stderr)
    # every round has caller IDs of its own: nothing a round looks up was cached before it
    samples = [probes(db, args.lookups, args.seed + 10 * i) for i in range(args.rounds)]
    warm_up = probes(db, 2000, args.seed + 1000)
    print("warming up …", file=sys.stderr)
    measure(db, "warm-up", ours, warm_up)

    print("measuring …", file=sys.stderr)
    rounds = [measure(db, f"round {i + 1}", ours, chosen) for i, chosen in enumerate(samples)]
    mine = Result(
        "`resolve_caller` (indexed E.164, base number, suffix key)",
        [p for r in rounds for p in r.probes],
        [t for r in rounds for t in r.wall_ms],
        [t for r in rounds for t in r.cpu_ms],
        [f for r in rounds for f in r.found],
    )
    sample = samples[0]
    rng = random.Random(args.seed + 2)
    like_sample = rng.sample(sample, min(args.like_lookups, len(sample)))
    scan_sample = [p for p in like_sample if p.kind == "hit"][: args.scan_lookups]
    others = [
        measure(db, name, strategy, chosen)
        for name, strategy, chosen in [
            ("last 8 digits `LIKE '%…'` on e164", like_last8, like_sample),
            (
                "normalise in SQL at call time (`REPLACE()` chain + `LIKE`)",
                sql_normalise,
                like_sample[: args.sql_lookups],
            ),
            ("normalise every stored number at call time (Python)", python_normalise, scan_sample),
        ]
        if chosen
    ]

    files = [Path(f"{path}{suffix}") for suffix in ("", "-wal")]
    size_mb = sum(f.stat().st_size for f in files if f.exists()) / 1e6
    print()
    print(
        f"{counts['contact']:,} contacts, {counts['organization']:,} companies, "
        f"{counts['phone_number']:,} numbers, {counts['email_address']:,} addresses; "
        f"SQLite {sqlite3.sqlite_version}, {size_mb:,.0f} MB; Python {platform.python_version()}, "
        f"{platform.machine()}, {multiprocessing.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; dialling rules: country "
        f"{RULES.country}, area code {RULES.area_code}, outside-line prefix "
        f"{RULES.outside_line_prefix!r}"
    )
    print()
    for line in table([mine, *others], mine):
        print(line)
    print()
    print(
        f"`resolve_caller` in {args.rounds} rounds of {args.lookups:,} caller IDs each, "
        "p50 / p99 ms: "
        + ", ".join(
            f"{statistics.median(r.wall_ms):.3f} / {_pct(r.wall_ms, 0.99):.3f}" for r in rounds
        )
    )
    print()
    print("`resolve_caller` by kind of caller ID (same run, all rounds):")
    print()
    kinds = ("hit", "local", "switchboard", "miss", "withheld")
    for line in table([mine.subset(k, k) for k in kinds if any(p.kind == k for p in mine.probes)]):
        print(line)
    reasons = {reason.value: 0 for reason in Reason}
    with db.session() as s:
        for probe in mine.probes:
            for m in resolve_caller(s, probe.caller_id, RULES).matches[:1]:
                reasons[m.reason.value] += 1
    print()
    print("Best match reasons: " + ", ".join(f"{k} {v:,}" for k, v in reasons.items() if v))
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

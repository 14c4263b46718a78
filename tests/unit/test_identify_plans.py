"""Every query the resolver sends is an index look-up, on SQLite and on PostgreSQL.

The statements are captured while real look-ups run (every path: exact with several ranked
hits, switchboard, suffix, internal, address, role address, domain), then explained. On
PostgreSQL the tables hold a few thousand rows and are ANALYZEd, so the plan is the planner's
own choice (``enable_seqscan`` stays on).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine

from desktop_crm.data.db import Database
from desktop_crm.data.models import (
    CallerPick,
    Contact,
    EmailAddress,
    Interaction,
    InteractionKind,
    Organization,
    OrganizationDomain,
    PhoneKind,
    PhoneNumber,
    Ticket,
    TicketStatus,
    User,
)
from desktop_crm.data.phone import normalize_phone
from desktop_crm.identify import DialingRules, Reason, remember_pick, resolve_caller, resolve_sender

N = 15000  # organizations and contacts (and users, tickets, picks); interactions twice that
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _phone(raw: str, kind: PhoneKind = PhoneKind.WORK, **owner: int) -> dict[str, Any]:
    n = normalize_phone(raw, "DE")
    return {
        "raw": raw,
        "kind": kind,
        "e164": n.e164,
        "base_e164": n.base_e164,
        "extension": n.extension,
        "suffix_key": n.suffix_key,
        "contact_id": owner.get("contact_id"),
        "organization_id": owner.get("organization_id"),
    }


def _populate(db: Database) -> None:
    orgs = [
        {"id": i, "name": f"Firma {i}", "sort_key": f"firma {i}", "country": "DE"}
        for i in range(1, N + 1)
    ]
    contacts = [
        {
            "id": i,
            "first_name": f"Vorname{i}",
            "last_name": f"Nachname{i}",
            "sort_key": f"nachname{i} vorname{i}",
            "organization_id": i,
        }
        for i in range(1, N + 1)
    ]
    phones = []
    for i in range(1, N + 1):
        phones.append(_phone(f"+49 30 {1000000 + i}-0", PhoneKind.SWITCHBOARD, organization_id=i))
        phones.append(_phone(f"030 {1000000 + i}-{10 + i % 80}", contact_id=i))
        phones.append(_phone(f"0171 {2000000 + i}", PhoneKind.MOBILE, contact_id=i))
    # a number shared by two people, a switchboard shared by two companies
    phones.append(_phone("+49 89 5555555", contact_id=1))
    phones.append(_phone("089 5555555", contact_id=2))
    phones.append(_phone("+49 40 7777777-0", PhoneKind.SWITCHBOARD, organization_id=1))
    phones.append(_phone("040 7777777", organization_id=2))
    # a big customer: more stored direct dials on one base number than a look-up reads
    phones.append(_phone("+49 69 4444444-0", PhoneKind.SWITCHBOARD, organization_id=3))
    phones += [_phone(f"069 4444444-{100 + i}", contact_id=3) for i in range(80)]
    emails = [
        {
            "contact_id": i,
            "organization_id": None,
            "raw": f"person{i}@firma{i}.de",
            "normalized": f"person{i}@firma{i}.de",
            "domain": f"firma{i}.de",
            "is_primary": True,
        }
        for i in range(1, N + 1)
    ] + [
        {
            "contact_id": None,
            "organization_id": i,
            "raw": f"info@firma{i}.de",
            "normalized": f"info@firma{i}.de",
            "domain": f"firma{i}.de",
            "is_primary": True,
        }
        for i in range(1, N + 1)
    ]
    emails += [
        {
            "contact_id": c,
            "organization_id": None,
            "raw": "geteilt@web.de",
            "normalized": "geteilt@web.de",
            "domain": "web.de",
            "is_primary": False,
        }
        for c in (1, 2)
    ]
    domains = [{"organization_id": i, "domain": f"firma{i}.de"} for i in range(1, N + 1)]
    users = [
        {"login": f"u{i}", "name": f"Kollege {i}", "phone_extension": str(1000 + i)}
        for i in range(N)
    ]
    interactions = [
        {
            "kind": InteractionKind.CALL,
            "contact_id": 1 + i % N,
            "organization_id": 1 + i % N,
            "occurred_at": T0 + timedelta(minutes=i),
        }
        for i in range(2 * N)
    ]
    tickets = [
        {
            "number": f"T-{i}",
            "contact_id": i,
            "organization_id": i,
            "status": TicketStatus.OPEN if i % 3 else TicketStatus.CLOSED,
        }
        for i in range(1, N + 1)
    ]
    picks = [{"remote": f"+49171{2000000 + i}", "contact_id": i} for i in range(3, N + 1)]
    with db.session() as s:
        conn = s.connection()  # Core inserts: the ORM's bulk path is slower by far
        for model, rows in [
            (User, users),
            (Organization, orgs),
            (OrganizationDomain, domains),
            (Contact, contacts),
            (PhoneNumber, phones),
            (EmailAddress, emails),
            (Interaction, interactions),
            (Ticket, tickets),
            (CallerPick, picks),
        ]:
            conn.execute(insert(model.__table__), rows)
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


@contextmanager
def _captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _lookups(db: Database) -> None:
    rules = DialingRules()
    with db.session() as s:
        shared = resolve_caller(s, "+49895555555", rules)  # two people: ranked
        assert len(shared.matches) == 2 and shared.matches[0].reason is Reason.EXACT
        remember_pick(s, shared.key, contact_id=2)
    with db.session() as s:
        assert resolve_caller(s, "+49895555555", rules).matches[0].record.id == 2
        board = resolve_caller(s, "+49 40 7777777 12", rules)  # two companies: ranked
        assert {m.reason for m in board.matches} == {Reason.SWITCHBOARD}
        assert len(board.matches) == 2
        assert resolve_caller(s, "030 1000010-99", rules).matches[0].reason is Reason.SWITCHBOARD
        big = resolve_caller(s, "+49 69 4444444 999", rules).matches
        assert [(m.reason, m.record.id) for m in big] == [(Reason.SWITCHBOARD, 3)]
        assert resolve_caller(s, "01712000500", rules).matches[0].reason is Reason.EXACT
        suffix = resolve_caller(s, "2000500", rules)  # local, no area code: suffix
        assert suffix.matches[0].reason is Reason.SUFFIX
        assert resolve_caller(s, "+43 1 999999", rules).matches == ()
        assert resolve_caller(s, "1500", rules).matches[0].reason is Reason.INTERNAL
        assert resolve_sender(s, "person7@firma7.de").matches[0].reason is Reason.EMAIL
        assert len(resolve_sender(s, "geteilt@web.de").matches) == 2
        assert resolve_sender(s, "info@firma9.de").matches[0].reason is Reason.EMAIL
        assert resolve_sender(s, "neu@firma9.de").matches[0].reason is Reason.DOMAIN
        assert resolve_sender(s, "neu@sub.firma9.de").matches[0].reason is Reason.DOMAIN


def _explain_sqlite(db: Database, statement: str, params: Any) -> str:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    return "\n".join(str(row[-1]) for row in rows)


def _explain_postgresql(db: Database, statement: str, params: Any) -> str:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
    return "\n".join(str(row[0]) for row in rows)


def test_every_lookup_query_uses_an_index(db: Database) -> None:
    _populate(db)
    with _captured(db.engine) as statements:
        _lookups(db)
    lookups = [(sql, p) for sql, p in statements if "caller_pick" in sql or "SELECT" in sql]
    assert len(lookups) >= 12
    tables = ("phone_number", "email_address", "contact", "organization", "organization_domain")
    assert all(any(t in sql for sql, _ in lookups) for t in tables)
    for sql, params in lookups:
        if db.is_sqlite:
            plan = _explain_sqlite(db, sql, params)
            scans = [
                line
                for line in plan.splitlines()
                if re.match(r"\s*SCAN ", line) and "CONSTANT ROW" not in line
            ]
            assert not scans, f"table scan in\n{sql}\n{plan}"
            assert re.search(r"USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY", plan), plan
        else:
            plan = _explain_postgresql(db, sql, params)
            assert "Seq Scan" not in plan, f"sequential scan in\n{sql}\n{plan}"
            assert "Index" in plan, plan

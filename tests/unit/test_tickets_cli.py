"""`desktop-crm tickets`: queues, new tickets, the list with SLA states, escalation, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_crm.cli import main
from desktop_crm.data.db import Database
from desktop_crm.data.models import (
    Queue,
    QueueBusinessHours,
    QueueMember,
    QueueSlaTarget,
    TicketPriority,
    User,
)
from desktop_crm.tickets import service
from desktop_crm.tickets.service import TicketChanges


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_queue_add_new_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    code, out, err = run(
        capsys,
        "tickets",
        "queue",
        "add",
        "Support",
        "--holidays",
        "DE-BY",
        "--hours",
        "mo-fr 08:00-12:00,13:00-17:00",
        "--sla",
        "urgent=30m/2h",
        "--assignment",
        "round_robin",
        "--database",
        url,
    )
    assert code == 0, err
    assert "Support" in out
    db = Database(url)
    with db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.name == "Support"))
        assert queue is not None and queue.holiday_subdivision == "BY"
        assert len(s.scalars(select(QueueBusinessHours)).all()) == 10
        urgent = s.scalar(
            select(QueueSlaTarget).where(QueueSlaTarget.priority == TicketPriority.URGENT)
        )
        assert urgent is not None
        assert (urgent.first_response_minutes, urgent.resolution_minutes) == (30, 120)
    code, out, _ = run(
        capsys,
        "tickets",
        "new",
        "Drucker defekt",
        "--queue",
        "support",
        "--priority",
        "urgent",
        "--database",
        url,
    )
    assert code == 0 and out.startswith("T-000001 opened")
    run(capsys, "tickets", "new", "Rechnung falsch", "--database", url)

    code, out, _ = run(capsys, "tickets", "--json", "--database", url)
    data = json.loads(out)
    numbers = {t["number"]: t for t in data["tickets"]}
    assert set(numbers) == {"T-000001", "T-000002"}
    first = numbers["T-000001"]
    assert first["queue"] == "Support" and first["priority"] == "urgent"
    assert first["sla"] in ("ok", "at_risk", "breached") and first["due"]
    assert numbers["T-000002"]["sla"] == "none"  # no queue, no SLA

    code, out, _ = run(capsys, "tickets", "--queue", "Support", "--database", url)
    assert code == 0 and "T-000001" in out and "T-000002" not in out
    with db.session() as s:
        t = service.ticket_by_number(s, "T-000001")
        assert t is not None
        service.update_ticket(
            s,
            t.id,
            TicketChanges(status=service.TicketStatus.WAITING_CUSTOMER),
            expected_version=t.version,
            user_id=None,
        )
    code, out, _ = run(
        capsys, "tickets", "--status", "waiting_customer", "--json", "--database", url
    )
    rows = json.loads(out)["tickets"]
    assert [r["number"] for r in rows] == ["T-000001"]
    assert rows[0]["sla"] in ("paused", "breached")
    code, out, _ = run(capsys, "tickets", "escalate", "--json", "--database", url)
    assert code == 0
    code, out, _ = run(capsys, "tickets", "recompute", "--database", url)
    assert code == 0 and "due times of 2 open tickets recomputed" in out
    db.dispose()


def test_bad_arguments_give_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    code, _, err = run(capsys, "tickets", "--queue", "Nirgendwo", "--database", url)
    assert code == 1 and "no queue 'Nirgendwo'" in err and err.count("\n") == 1
    code, _, err = run(capsys, "tickets", "--status", "kaputt", "--database", url)
    assert code == 1 and "--status 'kaputt'" in err
    code, _, err = run(
        capsys, "tickets", "queue", "add", "X", "--holidays", "DE-ZZ", "--database", url
    )
    assert code == 1 and "DE-ZZ" in err
    code, _, err = run(
        capsys, "tickets", "queue", "add", "X", "--hours", "xy 8-9", "--database", url
    )
    assert code == 1 and "weekday" in err


def test_queue_members_supervisor_and_mailbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    db = Database(url)
    db.ensure_schema()
    with db.session() as s:
        for login in ("lena", "murat", "sabine"):
            s.add(User(login=login, name=login.title()))
    code, _, err = run(
        capsys,
        "tickets",
        "queue",
        "add",
        "Support",
        "--members",
        "lena,murat",
        "--supervisor",
        "sabine",
        "--email",
        "Support@Musterfirma.de",
        "--assignment",
        "round_robin",
        "--database",
        url,
    )
    assert code == 0, err
    with db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.name == "Support"))
        assert queue is not None
        members = set(
            s.scalars(select(QueueMember.user_id).where(QueueMember.queue_id == queue.id))
        )
        logins = set(s.scalars(select(User.login).where(User.id.in_(members))))
        assert logins == {"lena", "murat"}
        assert queue.supervisor_id == s.scalar(select(User.id).where(User.login == "sabine"))
        assert service.queue_for_mailbox(s, "<support@musterfirma.de>") == queue.id
        assert service.queue_for_mailbox(s, "info@musterfirma.de") is None
    code, _, err = run(
        capsys, "tickets", "queue", "add", "X", "--members", "nobody", "--database", url
    )
    assert code == 1 and "nobody" in err
    db.dispose()

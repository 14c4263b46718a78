"""Mail to a support mailbox opens a ticket or joins the one it answers (SQLite and PostgreSQL).

The mail is read, identified and logged by the real mail code (parse_message + handle_mail),
then handed to tickets.inbox as the composition root does.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop_crm.data import records
from desktop_crm.data.db import Database
from desktop_crm.data.models import (
    Interaction,
    InteractionKind,
    MailDirection,
    Ticket,
    TicketStatus,
)
from desktop_crm.data.records import ContactInput, EmailInput
from desktop_crm.mail.events import MailEvent
from desktop_crm.mail.maillog import handle_mail
from desktop_crm.mail.message import parse_message
from desktop_crm.tickets.inbox import ticket_from_mail
from desktop_crm.tickets.service import (
    QueueSetup,
    TicketChanges,
    save_queue,
    update_ticket,
)

ANNA = "anna.schaefer@mueller-anlagenbau.de"


@pytest.fixture
def crm(db: Database) -> dict[str, int]:
    with db.session() as s:
        anna = records.create_contact(
            s, ContactInput(first_name="Anna", last_name="Schäfer", emails=[EmailInput(ANNA)])
        )
        queue = save_queue(s, QueueSetup(name="Support", email="support@crm.test"))
        return {"anna": anna.id, "queue": queue.id}


def mail(
    db: Database,
    sender: str = ANNA,
    *,
    to: str = "support@crm.test",
    subject: str = "Pumpe defekt",
    mid: str = "m1@x",
    extra: str = "",
    backlog: bool = False,
) -> MailEvent:
    data = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
        f"Date: Mon, 2 Mar 2026 09:30:00 +0100\r\n{extra}\r\nBitte um Rückruf.\r\n"
    ).encode()
    with db.session() as s:
        return handle_mail(
            s,
            parse_message(data),
            account="office",
            folder="INBOX",
            uid=abs(hash(mid)) % 100_000,
            direction=MailDirection.INBOUND,
            backlog=backlog,
        )


def route(db: Database, event: MailEvent) -> tuple[str, bool] | None:
    with db.session() as s:
        result = ticket_from_mail(s, event)
        return None if result is None else (result[0].number, result[1])


def test_a_customers_mail_to_the_support_mailbox_opens_a_ticket(
    db: Database, crm: dict[str, int]
) -> None:
    event = mail(db)
    opened = route(db, event)
    assert opened is not None and opened[1] is True
    with db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert (ticket.subject, ticket.queue_id, ticket.contact_id, ticket.channel) == (
            "Pumpe defekt",
            crm["queue"],
            crm["anna"],
            "email",
        )
        entry = s.get(Interaction, event.interaction_ids[0])
        assert entry is not None and entry.ticket_id == ticket.id


def test_an_answer_joins_its_ticket_by_in_reply_to_or_by_number(
    db: Database, crm: dict[str, int]
) -> None:
    number, _ = route(db, mail(db)) or ("", False)
    with db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        update_ticket(
            s,
            ticket.id,
            TicketChanges(status=TicketStatus.WAITING_CUSTOMER),
            expected_version=ticket.version,
            user_id=None,
        )
    reply = mail(db, mid="m2@x", subject="AW: Pumpe defekt", extra="In-Reply-To: <m1@x>\r\n")
    assert route(db, reply) == (number, False)
    by_number = mail(db, mid="m3@x", to="anna@elsewhere.test", subject=f"Frage zu [{number}]")
    assert route(db, by_number) == (number, False)
    with db.session() as s:
        ticket = s.scalars(select(Ticket)).one()  # still one ticket
        assert ticket.status is TicketStatus.OPEN  # the customer answered: no longer waiting
        joined = s.scalars(
            select(Interaction.ticket_id).where(Interaction.kind == InteractionKind.EMAIL)
        )
        assert list(joined) == [ticket.id] * 3  # the mail and both answers


def test_what_opens_no_ticket(db: Database, crm: dict[str, int]) -> None:
    assert route(db, mail(db, to="vertrieb@crm.test", mid="a@x")) is None  # not a queue
    assert route(db, mail(db, sender="fremd@example.org", mid="b@x")) is None  # unknown
    assert route(db, mail(db, mid="c@x", backlog=True)) is None  # first scan of old mail
    robot = mail(db, mid="d@x", extra="Auto-Submitted: auto-replied\r\n")
    assert route(db, robot) is None
    with db.session() as s:
        assert s.scalars(select(Ticket)).all() == []

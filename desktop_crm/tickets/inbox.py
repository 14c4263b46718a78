"""Mail to a support mailbox becomes a ticket, or joins the ticket it answers.

The mail watcher logs a customer's mail in the history and hands on a :class:`MailEvent`; the
composition root (``desktop-crm listen``, the desktop client) passes each one here, in a
session of its own. Tickets sit above mail in the layers, so mail never needs to know them.

* An answer to a ticket (In-Reply-To or References naming a mail of the ticket, or its number
  ``T-000123`` in the subject) is added to that ticket, whichever mailbox it reached; a
  customer's answer ends a wait for the customer and reopens a resolved ticket (recorded).
* Otherwise a mail *to* a queue's mailbox (``tickets queue add … --email support@…``) from a
  known customer opens a ticket in that queue, linked to the customer.
* Robots (bounces, auto-replies), unknown senders (the unassigned list decides), our own sent
  mail and the backlog of a first scan open nothing: a mailbox with years of mail must not turn
  into thousands of tickets the first time it is watched.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from desktop_crm.data.models import Ticket
from desktop_crm.mail.events import MailEvent, MailOutcome
from desktop_crm.tickets.service import (
    MailInput,
    TicketInput,
    add_mail,
    create_from_mail,
    queue_for_mailbox,
    ticket_for_mail,
)

__all__ = ["ticket_from_mail"]


def _bracketed(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def ticket_from_mail(session: Session, event: MailEvent) -> tuple[Ticket, bool] | None:
    """The ticket ``event`` opened (created True) or joined (False); None when neither."""
    if event.direction != "inbound" or event.outcome is not MailOutcome.LOGGED:
        return None
    if not event.interaction_ids:
        return None
    mail = MailInput(
        interaction_id=event.interaction_ids[0],
        subject=event.subject,
        message_id=None
        if event.message_id.startswith(("synthetic:", "sha256:"))
        else _bracketed(event.message_id),
        in_reply_to=event.in_reply_to or None,
        references=event.references,
    )
    answered = ticket_for_mail(session, mail)
    if answered is not None:
        return add_mail(session, answered, mail), False
    if event.backlog:
        return None
    queue_id = next(
        (q for q in (queue_for_mailbox(session, r) for r in event.recipients) if q is not None),
        None,
    )
    if queue_id is None:
        return None
    return create_from_mail(session, mail, TicketInput(subject=event.subject, queue_id=queue_id))

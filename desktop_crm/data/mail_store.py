"""Mail in the database: messages read once per Message-ID, folder read positions, the
unassigned-mail list the back office works through, and messages skipped with their reason.

Every write here is safe against a second process doing the same at the same moment (two
desktop clients watching one shared mailbox on PostgreSQL): rows are unique on their natural
key, and a conflict returns the row the other process wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import NotFound, ValidationError
from .history import InteractionInput, log_interaction
from .models import (
    Contact,
    Direction,
    Interaction,
    InteractionKind,
    MailDirection,
    MailFolderState,
    MailMessage,
    MailSkip,
    Organization,
    UnassignedMail,
    UnassignedStatus,
    utcnow,
)

#: ``interaction.source`` of every logged mail: one source for all accounts, so a mail that
#: sits in two mailboxes (or in INBOX and Sent) is still logged once per record.
MAIL_SOURCE = "mail"

T = TypeVar("T")


@dataclass(frozen=True)
class MailInput:
    """A mail as the watcher read it (plain values; see desktop_crm.mail.message)."""

    message_id: str
    account: str
    folder: str
    direction: MailDirection
    sent_at: datetime
    sender: str
    sender_name: str
    recipients: Sequence[str]
    cc: Sequence[str]
    subject: str
    snippet: str
    attachments: Sequence[str]
    size: int = 0


def _get_or_create(
    session: Session, find: Callable[[], T | None], make: Callable[[], T]
) -> tuple[T, bool]:
    existing = find()
    if existing is not None:
        return existing, False
    savepoint = session.begin_nested()
    try:
        row = make()
        session.add(row)
        session.flush()
    except IntegrityError:  # another process wrote it between our look and our insert
        savepoint.rollback()
        again = find()
        if again is None:
            raise
        return again, False
    savepoint.commit()
    return row, True


def store_mail(session: Session, data: MailInput) -> tuple[MailMessage, bool]:
    """The stored mail with this Message-ID, stored now if new; ``(row, created)``."""
    if data.sent_at.tzinfo is None:
        raise ValidationError("mail times must carry a time zone", field="sent_at")

    def find() -> MailMessage | None:
        return session.scalar(select(MailMessage).where(MailMessage.message_id == data.message_id))

    def make() -> MailMessage:
        return MailMessage(
            message_id=data.message_id,
            account=data.account[:80],
            folder=data.folder[:200],
            direction=data.direction,
            sent_at=data.sent_at,
            sender=data.sender[:320],
            sender_name=data.sender_name[:200],
            recipients="\n".join(data.recipients),
            cc="\n".join(data.cc),
            subject=data.subject[:300],
            snippet=data.snippet,
            attachments="\n".join(data.attachments),
            size=data.size,
        )

    return _get_or_create(session, find, make)


def mail_external_id(
    message_id: str, *, contact_id: int | None, organization_id: int | None
) -> str:
    """The history's external id of a mail on one record: the same mail is logged once per
    record (a mail to two customers is in both histories, a mail in two folders in one)."""
    owner = f"c{contact_id}" if contact_id is not None else f"o{organization_id}"
    return f"{message_id}|{owner}"


def mail_body(mail: MailMessage) -> str:
    """The history text of a mail: who to whom, attachments, then the snippet."""
    sender = f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else mail.sender
    lines = [f"From: {sender or '(unknown sender)'}"]
    if mail.recipients:
        lines.append(f"To: {', '.join(mail.recipients.splitlines())}")
    if mail.cc:
        lines.append(f"Cc: {', '.join(mail.cc.splitlines())}")
    if mail.attachments:
        lines.append(f"Attachments: {', '.join(mail.attachments.splitlines())}")
    return "\n".join(lines) + ("\n\n" + mail.snippet if mail.snippet else "")


def log_mail(
    session: Session,
    mail: MailMessage,
    *,
    contact_id: int | None = None,
    organization_id: int | None = None,
    remote: str = "",
    user_id: int | None = None,
    direction: MailDirection | None = None,
) -> tuple[Interaction, bool]:
    """Log ``mail`` in the history of one record, exactly once; ``(entry, created)``.

    ``direction``: as found this time (the folder it was read from); default: as stored.
    """
    if (contact_id is None) == (organization_id is None):
        raise ValueError("log a mail on either a contact or an organization")
    outbound = (direction or mail.direction) is MailDirection.OUTBOUND
    direction_ = Direction.OUTBOUND if outbound else Direction.INBOUND
    return log_interaction(
        session,
        InteractionInput(
            kind=InteractionKind.EMAIL,
            contact_id=contact_id,
            organization_id=organization_id,
            direction=direction_,
            occurred_at=mail.sent_at,
            subject=mail.subject,
            body=mail_body(mail),
            user_id=user_id,
            remote=(remote or mail.sender)[:320],
            source=MAIL_SOURCE,
            external_id=mail_external_id(
                mail.message_id, contact_id=contact_id, organization_id=organization_id
            ),
        ),
    )


def mark_sent(session: Session, mail: MailMessage) -> None:
    """``mail`` is in our Sent folder: it is ours, whatever folder it was first read from (a
    copy to ourselves in INBOX); it leaves the unassigned list if it was put there."""
    if mail.direction is not MailDirection.OUTBOUND:
        mail.direction = MailDirection.OUTBOUND
    entry = session.scalar(
        select(UnassignedMail).where(
            UnassignedMail.mail_id == mail.id, UnassignedMail.status == UnassignedStatus.OPEN
        )
    )
    if entry is not None:
        entry.status = UnassignedStatus.DISMISSED
        entry.decided_at = utcnow()
    session.flush()


# --- folder read positions ------------------------------------------------------------------


def folder_state(session: Session, account: str, folder: str) -> MailFolderState | None:
    return session.scalar(
        select(MailFolderState).where(
            MailFolderState.account == account, MailFolderState.folder == folder
        )
    )


def save_folder_state(
    session: Session, account: str, folder: str, uidvalidity: int, last_uid: int
) -> MailFolderState:
    """Remember how far ``folder`` was read; never moves backwards under one UIDVALIDITY."""
    row, created = _get_or_create(
        session,
        lambda: folder_state(session, account, folder),
        lambda: MailFolderState(
            account=account, folder=folder, uidvalidity=uidvalidity, last_uid=last_uid
        ),
    )
    if not created:
        if row.uidvalidity != uidvalidity:
            row.uidvalidity, row.last_uid = uidvalidity, last_uid
        else:
            row.last_uid = max(row.last_uid, last_uid)
        session.flush()
    return row


def record_skip(
    session: Session, account: str, folder: str, uidvalidity: int, uid: int, reason: str
) -> MailSkip:
    """Remember a message that could not be read, with the reason (for the back office)."""
    row, _ = _get_or_create(
        session,
        lambda: session.scalar(
            select(MailSkip).where(
                MailSkip.account == account,
                MailSkip.folder == folder,
                MailSkip.uidvalidity == uidvalidity,
                MailSkip.uid == uid,
            )
        ),
        lambda: MailSkip(
            account=account, folder=folder, uidvalidity=uidvalidity, uid=uid, reason=reason[:400]
        ),
    )
    return row


# --- unassigned mail ------------------------------------------------------------------------


@dataclass(frozen=True)
class UnassignedRow:
    """One entry of the unassigned-mail list, as plain values for a table view."""

    id: int
    status: UnassignedStatus
    mail_id: int
    message_id: str
    account: str
    folder: str
    direction: MailDirection
    sent_at: datetime
    sender: str
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    snippet: str
    attachments: tuple[str, ...]
    interaction_id: int | None


def add_unassigned(session: Session, mail: MailMessage) -> tuple[UnassignedMail, bool]:
    """Put ``mail`` on the unassigned list (once; a mail decided on stays decided)."""
    return _get_or_create(
        session,
        lambda: session.scalar(select(UnassignedMail).where(UnassignedMail.mail_id == mail.id)),
        lambda: UnassignedMail(mail_id=mail.id, status=UnassignedStatus.OPEN),
    )


def _row(entry: UnassignedMail, mail: MailMessage) -> UnassignedRow:
    return UnassignedRow(
        id=entry.id,
        status=entry.status,
        mail_id=mail.id,
        message_id=mail.message_id,
        account=mail.account,
        folder=mail.folder,
        direction=mail.direction,
        sent_at=mail.sent_at,
        sender=mail.sender,
        sender_name=mail.sender_name,
        recipients=tuple(mail.recipients.splitlines()),
        subject=mail.subject,
        snippet=mail.snippet,
        attachments=tuple(mail.attachments.splitlines()),
        interaction_id=entry.interaction_id,
    )


def list_unassigned(
    session: Session,
    *,
    status: UnassignedStatus | None = UnassignedStatus.OPEN,
    limit: int = 200,
    offset: int = 0,
) -> list[UnassignedRow]:
    """Unassigned mail, newest first (``status=None``: all, decided ones included)."""
    query = select(UnassignedMail, MailMessage).join(
        MailMessage, MailMessage.id == UnassignedMail.mail_id
    )
    if status is not None:
        query = query.where(UnassignedMail.status == UnassignedStatus(status))
    query = query.order_by(MailMessage.sent_at.desc(), UnassignedMail.id.desc())
    return [_row(entry, mail) for entry, mail in session.execute(query.limit(limit).offset(offset))]


def unassigned_ids(session: Session, *, limit: int = 100_000) -> list[int]:
    """The ids of the open unassigned mail, newest first (for a lazy table over ids)."""
    query = (
        select(UnassignedMail.id)
        .join(MailMessage, MailMessage.id == UnassignedMail.mail_id)
        .where(UnassignedMail.status == UnassignedStatus.OPEN)
        .order_by(MailMessage.sent_at.desc(), UnassignedMail.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def unassigned_rows(session: Session, ids: Sequence[int]) -> dict[int, UnassignedRow]:
    """The entries with these ids (decided ones included), by id; unknown ids are left out."""
    if not ids:
        return {}
    query = (
        select(UnassignedMail, MailMessage)
        .join(MailMessage, MailMessage.id == UnassignedMail.mail_id)
        .where(UnassignedMail.id.in_(list(ids)))
    )
    return {entry.id: _row(entry, mail) for entry, mail in session.execute(query)}


def count_unassigned(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(UnassignedMail)
            .where(UnassignedMail.status == UnassignedStatus.OPEN)
        )
        or 0
    )


def _open_entry(session: Session, unassigned_id: int) -> tuple[UnassignedMail, MailMessage]:
    row = session.execute(
        select(UnassignedMail, MailMessage)
        .join(MailMessage, MailMessage.id == UnassignedMail.mail_id)
        .where(UnassignedMail.id == unassigned_id)
    ).first()
    if row is None:
        raise NotFound(f"unassigned mail {unassigned_id} does not exist")
    entry, mail = row
    if entry.status is not UnassignedStatus.OPEN:
        raise ValidationError(
            f"unassigned mail {unassigned_id} was already {entry.status.value}", field="status"
        )
    return entry, mail


def assign_unassigned(
    session: Session,
    unassigned_id: int,
    *,
    contact_id: int | None = None,
    organization_id: int | None = None,
    user_id: int | None = None,
) -> Interaction:
    """Log an unassigned mail on a record (it leaves the list); the history entry."""
    if (contact_id is None) == (organization_id is None):
        raise ValidationError("assign the mail to either a contact or an organization")
    entry, mail = _open_entry(session, unassigned_id)
    if contact_id is not None and session.get(Contact, contact_id) is None:
        raise NotFound(f"contact {contact_id} does not exist")
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise NotFound(f"organization {organization_id} does not exist")
    remote = mail.sender
    if mail.direction is MailDirection.OUTBOUND and mail.recipients:
        remote = mail.recipients.splitlines()[0]
    interaction, _ = log_mail(
        session,
        mail,
        contact_id=contact_id,
        organization_id=organization_id,
        remote=remote,
        user_id=user_id,
    )
    entry.status = UnassignedStatus.ASSIGNED
    entry.decided_at = utcnow()
    entry.decided_by = user_id
    entry.interaction_id = interaction.id
    session.flush()
    return interaction


def dismiss_unassigned(session: Session, unassigned_id: int, *, user_id: int | None = None) -> None:
    """Take a mail off the list without logging it (spam, private, internal)."""
    entry, _mail = _open_entry(session, unassigned_id)
    entry.status = UnassignedStatus.DISMISSED
    entry.decided_at = utcnow()
    entry.decided_by = user_id
    session.flush()

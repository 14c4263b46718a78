"""Mail logging: one read mail -> stored once, identified, in the right history, or waiting.

Inbound mail (any watched folder but Sent) is identified by its author (the From mailbox) with
the same resolver as the caller pop-up; a known author gets the mail in their history (the best
match only, like a call), an unknown one puts it on the unassigned list, a robot (bounce,
auto-reply, list mail) is neither. Sent mail is logged on every known To recipient, and on a Cc
recipient only when their very address is stored (Cc never creates anything, and a domain guess
is not enough for a Cc).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from desktop_crm.data.mail_store import MailInput, add_unassigned, log_mail, mark_sent, store_mail
from desktop_crm.data.models import MailDirection
from desktop_crm.identify.resolve import Match, Reason, RecordKind, resolve_sender

from .events import MailEvent, MailOutcome
from .message import ParsedMail


def _owner(match: Match) -> tuple[int | None, int | None] | None:
    if match.record.kind is RecordKind.CONTACT:
        return match.record.id, None
    if match.record.kind is RecordKind.ORGANIZATION:
        return None, match.record.id
    return None  # a colleague (user): not a customer record


def handle_mail(
    session: Session,
    mail: ParsedMail,
    *,
    account: str,
    folder: str,
    uid: int,
    direction: MailDirection,
    backlog: bool = False,
) -> MailEvent:
    """Store, identify and log one mail in ``session`` (the caller commits)."""
    stored, _ = store_mail(
        session,
        MailInput(
            message_id=mail.message_id,
            account=account,
            folder=folder,
            direction=direction,
            sent_at=mail.sent_at,
            sender=mail.sender or "",
            sender_name=mail.sender_name,
            recipients=mail.to,
            cc=mail.cc,
            subject=mail.subject,
            snippet=mail.snippet,
            attachments=mail.attachments,
            size=mail.size,
        ),
    )

    def event(
        outcome: MailOutcome,
        *,
        matches: tuple[Match, ...] = (),
        interaction_ids: tuple[int, ...] = (),
        unassigned_id: int | None = None,
        reason: str = "",
        popup: bool = False,
    ) -> MailEvent:
        return MailEvent(
            account=account,
            folder=folder,
            uid=uid,
            message_id=mail.message_id,
            direction=str(direction),
            sender=mail.sender,
            sender_name=mail.sender_name,
            recipients=mail.to,
            subject=mail.subject,
            sent_at=mail.sent_at,
            snippet=mail.snippet,
            attachments=mail.attachments,
            outcome=outcome,
            matches=matches,
            interaction_ids=interaction_ids,
            unassigned_id=unassigned_id,
            reason=reason,
            backlog=backlog,
            popup=popup,
            in_reply_to=_header(mail, "In-Reply-To")[:1000],
            references=tuple(_header(mail, "References").split())[-20:],
        )

    if mail.automated:
        return event(MailOutcome.AUTOMATED, reason=mail.automated)

    if direction is MailDirection.INBOUND:
        if stored.direction is MailDirection.OUTBOUND:
            return event(MailOutcome.IGNORED, reason="our own mail (it is in Sent)")
        resolution = resolve_sender(session, mail.from_value or None, mail.headers)
        if resolution.status == "automated":
            return event(MailOutcome.AUTOMATED, reason=resolution.note)
        for match in resolution.matches:
            owner = _owner(match)
            if owner is None:
                continue
            entry, _ = log_mail(
                session,
                stored,
                contact_id=owner[0],
                organization_id=owner[1],
                remote=mail.sender or "",
                direction=direction,
            )
            return event(
                MailOutcome.LOGGED,
                matches=resolution.matches,
                interaction_ids=(entry.id,),
                popup=not backlog,
            )
        waiting, _ = add_unassigned(session, stored)
        reason = "unknown sender" if mail.sender else "no sender address"
        return event(MailOutcome.UNASSIGNED, unassigned_id=waiting.id, reason=reason)

    # sent mail: each known To recipient, and Cc recipients whose address is stored
    mark_sent(session, stored)
    logged: list[Match] = []
    ids: list[int] = []
    seen: set[tuple[int | None, int | None]] = set()
    for address, is_cc in [*((a, False) for a in mail.to), *((a, True) for a in mail.cc)]:
        resolution = resolve_sender(session, address)
        for match in resolution.matches[:1]:
            owner = _owner(match)
            if owner is None or owner in seen or (is_cc and match.reason is not Reason.EMAIL):
                continue
            seen.add(owner)
            entry, _ = log_mail(
                session,
                stored,
                contact_id=owner[0],
                organization_id=owner[1],
                remote=address,
                direction=direction,
            )
            logged.append(match)
            ids.append(entry.id)
    if not logged:
        return event(MailOutcome.IGNORED, reason="no recipient is a known contact")
    return event(MailOutcome.LOGGED, matches=tuple(logged), interaction_ids=tuple(ids))


def _header(mail: ParsedMail, name: str) -> str:
    lowered = name.lower()
    return next((value.strip() for key, value in mail.headers if key.lower() == lowered), "")

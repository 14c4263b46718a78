"""The CRM's records as SQLAlchemy 2 typed ORM classes, one metadata, same schema everywhere.

Relationships are ``lazy="raise"``: a view that needs related rows says so in its query
(``selectinload``), so no screen fires hidden queries row by row. Every record people edit has a
``version`` column used for optimistic locking (see :mod:`desktop_crm.data.errors`).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the CRM stores times in UTC with a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    AGENT = "agent"
    BACKOFFICE = "backoffice"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class PhoneKind(enum.StrEnum):
    WORK = "work"
    MOBILE = "mobile"
    HOME = "home"
    FAX = "fax"
    SWITCHBOARD = "switchboard"
    OTHER = "other"


class InteractionKind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    NOTE = "note"
    MEETING = "meeting"
    LETTER = "letter"
    TICKET_EVENT = "ticket_event"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"
    NONE = "none"


class TicketStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_THIRD_PARTY = "waiting_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketPriority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Stamped:
    """Created/updated stamps and the optimistic-locking version of an editable record."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class User(Stamped, Base):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.AGENT)
    phone_extension: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


contact_tag = Table(
    "contact_tag",
    Base.metadata,
    Column("contact_id", ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)

organization_tag = Table(
    "organization_tag",
    Base.metadata,
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    important: Mapped[bool] = mapped_column(Boolean, default=False)


class AddressMixin:
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    # ISO 3166 alpha-2; decides how a stored number without country code is read
    country: Mapped[str | None] = mapped_column(String(2))


class Organization(AddressMixin, Stamped, Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    sort_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    customer_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    contacts: Mapped[list[Contact]] = relationship(back_populates="organization", lazy="raise")
    phones: Mapped[list[PhoneNumber]] = relationship(
        back_populates="organization",
        lazy="raise",
        cascade="all, delete-orphan",
        foreign_keys="PhoneNumber.organization_id",
    )
    domains: Mapped[list[OrganizationDomain]] = relationship(
        back_populates="organization", lazy="raise", cascade="all, delete-orphan"
    )
    emails: Mapped[list[EmailAddress]] = relationship(
        back_populates="organization",
        lazy="raise",
        cascade="all, delete-orphan",
        foreign_keys="EmailAddress.organization_id",
    )
    tags: Mapped[list[Tag]] = relationship(secondary=organization_tag, lazy="raise")
    owner: Mapped[User | None] = relationship(lazy="raise")


class OrganizationDomain(Base):
    """A mail domain of an organization (lower-case, without '@'), indexed for sender look-up."""

    __tablename__ = "organization_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(255), index=True)

    organization: Mapped[Organization] = relationship(back_populates="domains", lazy="raise")

    __table_args__ = (UniqueConstraint("organization_id", "domain"),)


class Contact(AddressMixin, Stamped, Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    salutation: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(60), default="")
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    # lower-cased "last first" (or the organization/number when there is no name), for sorting
    # and prefix search on an index
    sort_key: Mapped[str] = mapped_column(String(250), default="", index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[Any | None] = mapped_column(Date)
    consent_source: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    birthday: Mapped[Any | None] = mapped_column(Date)

    organization: Mapped[Organization | None] = relationship(
        back_populates="contacts", lazy="raise"
    )
    phones: Mapped[list[PhoneNumber]] = relationship(
        back_populates="contact",
        lazy="raise",
        cascade="all, delete-orphan",
        foreign_keys="PhoneNumber.contact_id",
        order_by="PhoneNumber.id",
    )
    emails: Mapped[list[EmailAddress]] = relationship(
        back_populates="contact",
        lazy="raise",
        cascade="all, delete-orphan",
        foreign_keys="EmailAddress.contact_id",
        order_by="EmailAddress.id",
    )
    tags: Mapped[list[Tag]] = relationship(secondary=contact_tag, lazy="raise")

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.title, self.first_name, self.last_name) if p)
        return name


def _owner_check() -> CheckConstraint:
    return CheckConstraint(
        "(contact_id IS NOT NULL AND organization_id IS NULL) OR "
        "(contact_id IS NULL AND organization_id IS NOT NULL)",
        name="one_owner",
    )


class PhoneNumber(Base):
    __tablename__ = "phone_number"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PhoneKind] = mapped_column(_enum(PhoneKind, "phone_kind"), default=PhoneKind.WORK)
    raw: Mapped[str] = mapped_column(String(100))  # exactly as typed, never rewritten
    extension: Mapped[str | None] = mapped_column(String(10))
    e164: Mapped[str | None] = mapped_column(String(24), index=True)
    base_e164: Mapped[str | None] = mapped_column(String(24), index=True)
    suffix_key: Mapped[str] = mapped_column(String(40), default="", index=True)

    contact: Mapped[Contact | None] = relationship(
        back_populates="phones", lazy="raise", foreign_keys=[contact_id]
    )
    organization: Mapped[Organization | None] = relationship(
        back_populates="phones", lazy="raise", foreign_keys=[organization_id]
    )

    __table_args__ = (_owner_check(),)


class EmailAddress(Base):
    __tablename__ = "email_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    raw: Mapped[str] = mapped_column(String(320))
    normalized: Mapped[str] = mapped_column(String(320), index=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    contact: Mapped[Contact | None] = relationship(
        back_populates="emails", lazy="raise", foreign_keys=[contact_id]
    )
    organization: Mapped[Organization | None] = relationship(
        back_populates="emails", lazy="raise", foreign_keys=[organization_id]
    )

    __table_args__ = (_owner_check(),)


class AssignmentMode(enum.StrEnum):
    MANUAL = "manual"
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"


class Queue(Stamped, Base):
    """A ticket queue and its SLA settings (targets, hours and closed days are child rows)."""

    __tablename__ = "queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(320))
    # business hours are local times in this zone (IANA name, DST handled by zoneinfo)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    # public holidays of this country (DE, AT, CH) and subdivision (a German state: BY, NW, …)
    holiday_country: Mapped[str] = mapped_column(String(2), default="DE")
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))
    # a ticket is "at risk" once this share (percent) of an SLA target's time is used up
    at_risk_percent: Mapped[int] = mapped_column(Integer, default=75)
    assignment_mode: Mapped[AssignmentMode] = mapped_column(
        _enum(AssignmentMode, "assignment_mode"), default=AssignmentMode.MANUAL
    )
    # round-robin cursor: the agent who got the last ticket
    last_assigned_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # who is notified when a ticket of this queue is at risk or breached
    supervisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class Ticket(Stamped, Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    queue_id: Mapped[int | None] = mapped_column(
        ForeignKey("queue.id", ondelete="SET NULL"), index=True
    )
    priority: Mapped[TicketPriority] = mapped_column(
        _enum(TicketPriority, "ticket_priority"), default=TicketPriority.NORMAL
    )
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.NEW, index=True
    )
    channel: Mapped[str] = mapped_column(String(20), default="manual")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when each running SLA clock reaches the queue's at-risk share (NULL: no target, met or
    # paused); stored on every change so the board compares, never computes
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the earliest due time and at-risk time of the clocks still running: NULL when the ticket
    # is done, has no target, or waits for the customer/a third party (paused, not yet breached)
    sla_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused: Mapped[bool] = mapped_column(Boolean, default=False)

    queue: Mapped[Queue | None] = relationship(lazy="raise")
    assignee: Mapped[User | None] = relationship(lazy="raise")
    contact: Mapped[Contact | None] = relationship(lazy="raise")
    organization: Mapped[Organization | None] = relationship(lazy="raise")

    __table_args__ = (
        # the board: open tickets per status, queue, assignee, oldest, also when filtered by
        # priority, organization or age (index-only counts)
        Index(
            "ix_ticket_board",
            "status",
            "queue_id",
            "assignee_id",
            "priority",
            "organization_id",
            "created_at",
        ),
        Index("ix_ticket_agent_status", "assignee_id", "status"),
        Index("ix_ticket_sla_due_queue", "sla_due", "queue_id"),
        Index("ix_ticket_sla_warn_queue", "sla_warn_at", "queue_id", "sla_due"),
        Index("ix_ticket_resolved_at", "resolved_at", "assignee_id"),
    )


class Interaction(Stamped, Base):
    """One entry of a customer's history: a call, a mail, a note, a meeting, a ticket event."""

    __tablename__ = "interaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind, "interaction_kind"))
    direction: Mapped[Direction] = mapped_column(
        _enum(Direction, "direction"), default=Direction.NONE
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(24), default="")  # answered, missed, ...
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True
    )
    remote: Mapped[str] = mapped_column(String(320), default="")  # number or address involved
    # where it came from (e.g. "sip:office", "imap:support") and its id there (Call-ID,
    # Message-ID): unique together, so the same call or mail is never logged twice
    source: Mapped[str] = mapped_column(String(80), default="")
    external_id: Mapped[str | None] = mapped_column(String(400))

    user: Mapped[User | None] = relationship(lazy="raise")
    contact: Mapped[Contact | None] = relationship(lazy="raise")
    organization: Mapped[Organization | None] = relationship(lazy="raise")
    ticket: Mapped[Ticket | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_interaction_source_external_id"),
        Index("ix_interaction_contact_time", "contact_id", "occurred_at"),
        Index("ix_interaction_organization_time", "organization_id", "occurred_at"),
        Index("ix_interaction_occurred_at", "occurred_at"),
    )


class AppMeta(Base):
    """Small facts about the database itself (e.g. that demo data was loaded)."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


EDITABLE = (Contact, Organization, User, Queue, Ticket, Interaction)


class CallerPick(Base):
    """Which record an agent picked last time for a number or address (issue 3).

    When a caller ID or a sender matches several records, the one picked last time for it is
    ranked first. ``remote`` is the E.164 number (or the digits received, when the caller ID was
    not a complete number) or the lower-cased e-mail address.
    """

    __tablename__ = "caller_pick"

    id: Mapped[int] = mapped_column(primary_key=True)
    remote: Mapped[str] = mapped_column(String(320), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    picked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (_owner_check(),)


# --- tickets: queue settings, membership, presence, changes, escalation (issue 7) -------------


class QueueBusinessHours(Base):
    """One opening interval of a queue on one weekday, in the queue's local time.

    ``weekday`` 0 is Monday; minutes count from local midnight, ``end_minute`` 1440 is midnight at
    the end of the day. Several rows on one day make a lunch break.
    """

    __tablename__ = "queue_business_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="minutes",
        ),
    )


class QueueClosedDay(Base):
    """A day the queue is closed besides public holidays (24 and 31 December, company events)."""

    __tablename__ = "queue_closed_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id", ondelete="CASCADE"))
    day: Mapped[Any] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120), default="")

    __table_args__ = (UniqueConstraint("queue_id", "day"),)


class QueueSlaTarget(Base):
    """The SLA of one priority in one queue, in business minutes (NULL: no target)."""

    __tablename__ = "queue_sla_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id", ondelete="CASCADE"))
    priority: Mapped[TicketPriority] = mapped_column(_enum(TicketPriority, "ticket_priority"))
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("queue_id", "priority"),)


class QueueMember(Base):
    """An agent who works a queue (candidates of round-robin and least-busy assignment)."""

    __tablename__ = "queue_member"

    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queue.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AgentPresence(Base):
    """Whether an agent is present (logged in, not on a break): only present agents get tickets."""

    __tablename__ = "agent_presence"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketChange(Base):
    """One changed field of a ticket: who, when, from what to what.

    The SLA clock is replayed from these rows (status and priority over time); the same change
    is also one ``interaction`` (``interaction_id``) so it shows in the customer's history.
    """

    __tablename__ = "ticket_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(400))
    new_value: Mapped[str | None] = mapped_column(String(400))
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="SET NULL")
    )

    __table_args__ = (Index("ix_ticket_change_ticket_time", "ticket_id", "changed_at", "id"),)


class TicketNotification(Base):
    """A supervisor was told that a ticket reached an escalation level; once per ticket and level.

    The unique constraint makes "notify once" hold across processes: whoever inserts the row
    first notifies and runs the queue's escalation rules; everyone else finds it there.
    """

    __tablename__ = "ticket_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    # first_response_at_risk, first_response_breached, resolution_at_risk, resolution_breached
    level: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("ticket_id", "level"),)


class EscalationRule(Base):
    """What happens to a ticket of ``queue_id`` reaching ``level``: move it or reassign it."""

    __tablename__ = "escalation_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))  # move, reassign
    target_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queue.id", ondelete="CASCADE"))
    # reassign to this agent; NULL with action "reassign": the queue's automatic assignment
    target_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class TicketMessage(Base):
    """A Message-ID of a ticket's mails, so a reply (In-Reply-To/References) finds the ticket."""

    __tablename__ = "ticket_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(400), unique=True)


# --- mail (issue 5) -------------------------------------------------------------------------


class MailDirection(enum.StrEnum):
    INBOUND = "inbound"  # found in a watched folder other than Sent: a customer wrote to us
    OUTBOUND = "outbound"  # found in Sent: we wrote to a customer


class UnassignedStatus(enum.StrEnum):
    OPEN = "open"  # waits for the back office
    ASSIGNED = "assigned"  # logged on a record by hand
    DISMISSED = "dismissed"  # not a customer's mail (spam, private, internal)


class MailMessage(Base):
    """One mail as read from an IMAP folder, once per Message-ID however many folders hold it.

    ``message_id`` is the Message-ID without angle brackets (a hash when it is longer than the
    column, ``synthetic:…`` when the mail has none). Addresses are lower-cased, lists are
    newline-separated; the snippet is plain text (HTML converted).
    """

    __tablename__ = "mail_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(400), unique=True)
    account: Mapped[str] = mapped_column(String(80), default="")
    folder: Mapped[str] = mapped_column(String(200), default="")
    direction: Mapped[MailDirection] = mapped_column(
        _enum(MailDirection, "mail_direction"), default=MailDirection.INBOUND
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sender: Mapped[str] = mapped_column(String(320), default="")  # address, "" when unknown
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    recipients: Mapped[str] = mapped_column(Text, default="")  # To, one address a line
    cc: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    snippet: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[str] = mapped_column(Text, default="")  # file names, one a line
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailFolderState(Base):
    """How far a watcher has read a folder: a restart neither loses nor repeats mail.

    ``last_uid`` is the highest UID handled (logged, queued as unassigned, or skipped with a
    reason) under ``uidvalidity``; a different UIDVALIDITY from the server means the UIDs were
    renumbered and the folder is scanned again (Message-IDs keep that from logging twice).
    """

    __tablename__ = "mail_folder_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(80))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("account", "folder", name="uq_mail_folder_state_account"),)


class UnassignedMail(Base):
    """A mail from (or to) nobody the CRM knows, waiting for the back office."""

    __tablename__ = "mail_unassigned"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(
        ForeignKey("mail_message.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[UnassignedStatus] = mapped_column(
        _enum(UnassignedStatus, "unassigned_status"), default=UnassignedStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="SET NULL")
    )

    mail: Mapped[MailMessage] = relationship(lazy="raise")


class MailSkip(Base):
    """A message a watcher could not read (malformed, too large): said once, never retried."""

    __tablename__ = "mail_skip"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(80))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("account", "folder", "uidvalidity", "uid", name="uq_mail_skip_account"),
    )


# --- issue 8: the team database (appended; imports kept here to keep merges small) ------------

from sqlalchemy import JSON, BigInteger  # noqa: E402
from sqlalchemy.dialects.postgresql import JSONB  # noqa: E402


class AuditLog(Base):
    """Who changed which customer record when, with old and new values (issue 8).

    Written only by PostgreSQL triggers (migration 0005, ``crm_audit()``), readable by admins;
    on SQLite the table exists but stays empty (one user owns the file).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))  # the login (session_user)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int | None] = mapped_column(BigInteger)
    operation: Mapped[str] = mapped_column(String(8))  # insert, update, delete
    old_values: Mapped[dict[str, Any] | None] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql")
    )
    new_values: Mapped[dict[str, Any] | None] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql")
    )
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_table_row", "table_name", "row_id", "occurred_at"),
    )


# "What changed since?" for the SQLite change poller (data/changes.py): without these it read
# every row of the watched tables (4.7 s over 10,000,000 history rows) after every write
for _watched in (Contact, Organization, Interaction, Ticket):
    Index(f"ix_{_watched.__tablename__}_updated_at", _watched.updated_at)

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


class Queue(Stamped, Base):
    __tablename__ = "queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(320))


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

    queue: Mapped[Queue | None] = relationship(lazy="raise")
    assignee: Mapped[User | None] = relationship(lazy="raise")
    contact: Mapped[Contact | None] = relationship(lazy="raise")
    organization: Mapped[Organization | None] = relationship(lazy="raise")


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

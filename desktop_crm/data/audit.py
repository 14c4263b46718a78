"""Reading the audit log the database writes itself (triggers of migration 0005).

Only admins may read it (the server refuses everybody else: PermissionDenied); nobody, admins
included, may change or delete its rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ValidationError
from .models import AuditLog

_AGO = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``30m``, ``2h``, ``7d``, ``1w`` ago, or an ISO date/time (UTC when no zone is given)."""
    now = now or datetime.now(UTC)
    if match := _AGO.match(value):
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(
            f"{value!r} is not a time: write e.g. 2h, 7d or 2026-11-22T08:00", field="since"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor: str
    table: str
    row_id: int | None
    operation: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "table": self.table,
            "row_id": self.row_id,
            "operation": self.operation,
            "old": self.old,
            "new": self.new,
        }

    def describe(self) -> str:
        when = self.occurred_at.strftime("%Y-%m-%d %H:%M:%S")
        head = f"{when}  {self.actor:<16} {self.operation:<6} {self.table} #{self.row_id}"
        if self.operation != "update":
            return head
        changes = ", ".join(
            f"{key}: {(self.old or {}).get(key)!r} → {value!r}"
            for key, value in (self.new or {}).items()
            if key != "version"
        )
        return f"{head}  {changes}" if changes else head


def audit_entries(
    session: Session,
    *,
    table: str | None = None,
    row_id: int | None = None,
    since: datetime | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit entries, newest first."""
    query = select(AuditLog)
    if table:
        query = query.where(AuditLog.table_name == table)
    if row_id is not None:
        query = query.where(AuditLog.row_id == row_id)
    if since is not None:
        query = query.where(AuditLog.occurred_at >= since)
    if actor:
        query = query.where(AuditLog.actor == actor)
    query = query.order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc()).limit(limit)
    return [
        AuditEntry(
            id=row.id,
            occurred_at=row.occurred_at,
            actor=row.actor,
            table=row.table_name,
            row_id=row.row_id,
            operation=row.operation,
            old=row.old_values,
            new=row.new_values,
        )
        for row in session.scalars(query)
    ]

"""Errors the data layer raises, each with a message a user can act on."""

from __future__ import annotations

from typing import Any


class DataError(Exception):
    """Base of every data-layer error; ``str(exc)`` is shown to the user as it is."""


class DatabaseUnavailable(DataError):
    """The database cannot be reached or opened."""


class SchemaError(DataError):
    """The database's schema is not the one this version of the program knows."""


class NotFound(DataError):
    pass


class ValidationError(DataError):
    """Input that cannot be stored; ``field`` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(DataError):
    """Someone else saved the record since it was loaded: nothing was overwritten.

    ``current`` holds the record as it is now in the database (a plain dict), ``attempted`` the
    changes that were not saved, so the UI can show both side by side.
    """

    def __init__(
        self,
        what: str,
        record_id: int,
        expected_version: int,
        current: dict[str, Any] | None = None,
        attempted: dict[str, Any] | None = None,
    ) -> None:
        actual = current.get("version") if current else None
        detail = f" (now version {actual})" if actual is not None else ""
        super().__init__(
            f"{what} {record_id} was changed by someone else since you opened it "
            f"(you edited version {expected_version}{detail}); nothing was overwritten."
        )
        self.record_id = record_id
        self.expected_version = expected_version
        self.current = current or {}
        self.attempted = attempted or {}


class PermissionDenied(DataError):
    """The database server refused what the user's role may not do (issue 8, data/team.py).

    The message names the role and the action ("Your role (agent) may not delete contacts.");
    ``role`` is the connected user's :class:`~desktop_crm.data.models.Role` when it is known.
    """

    def __init__(self, message: str, role: Any = None) -> None:
        super().__init__(message)
        self.role = role

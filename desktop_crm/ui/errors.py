"""Database errors in words for the status bar and dialogs; the traceback goes to the log only."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from desktop_crm.data.errors import DataError, NotFound


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:300]


def _server_unreachable(exc: DBAPIError) -> bool:
    """A PostgreSQL connection that failed or broke (not SQLite's "database is locked")."""
    return isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("psycopg")


def describe_error(exc: BaseException) -> str:
    """One line a user can read, in the database's own words; the traceback goes to the log."""
    if isinstance(exc, NotFound):
        return QCoreApplication.translate(
            "Errors", "The record no longer exists; it may have been deleted by someone else."
        )
    if isinstance(exc, DataError):
        return _first_line(str(exc))  # the data layer words its errors for users
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        detail = _first_line(str(exc.orig))
        if exc.connection_invalidated or _server_unreachable(exc):
            return QCoreApplication.translate(
                "Errors", "The connection to the database was lost: {detail}"
            ).format(detail=detail)
    elif isinstance(exc, SQLAlchemyError):
        detail = _first_line(str(exc))
    else:
        return QCoreApplication.translate("Errors", "Unexpected error: {detail}").format(
            detail=_first_line(f"{type(exc).__name__}: {exc}")
        )
    return QCoreApplication.translate("Errors", "Database error: {detail}").format(detail=detail)

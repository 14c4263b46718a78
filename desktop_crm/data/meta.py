"""Small facts about a database itself, kept in ``app_meta`` (e.g. "demo data was declined").

They belong to the database, not to the settings file: declining demo data for one empty
database says nothing about the next one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AppMeta

DEMO_DECLINED = "demo_offer_declined"


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(AppMeta, key)
    return row.value if row is not None else None


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(AppMeta, key)
    if row is None:
        session.add(AppMeta(key=key, value=value))
    else:
        row.value = value
    session.flush()

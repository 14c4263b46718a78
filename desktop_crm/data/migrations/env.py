"""Alembic environment: the engine comes from desktop_crm.data.db.Database, never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from desktop_crm.data.models import Base

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:  # pragma: no cover - only `alembic` run by hand during development
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///dev.db")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    context.run_migrations()

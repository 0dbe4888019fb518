"""Alembic environment: the URL comes from wudan's settings, or from the caller's connection."""

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.types import UTCDateTime

target_metadata = SQLModel.metadata


def render_item(type_, obj, autogen_context):
    # Migrations spell out the stored type so they never import application code.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj.__class__.__module__.startswith("sqlmodel"):
        return f"sa.String(length={obj.length})" if getattr(obj, "length", None) else "sa.String()"
    return False


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = context.config.attributes.get("engine")
    if engine is None:
        from storage.engine import NO_TIMEOUTS, create_db_engine
        from infra.settings import get_settings

        engine = create_db_engine(get_settings().database_url, timeouts=NO_TIMEOUTS)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


def run_migrations_offline() -> None:
    from infra.settings import get_settings

    context.configure(
        url=get_settings().database_url,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

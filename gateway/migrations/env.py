from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import gateway.models  # noqa: F401  (registers the tables)
from gateway.config import load_settings

target_metadata = SQLModel.metadata


def _url() -> str:
    configured = context.config.attributes.get("database_url")
    return configured or load_settings().async_database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    # on_version_apply: `gateway migrate` reports the revisions it applied.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True,
                      on_version_apply=context.config.attributes.get("on_version_apply"))
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())

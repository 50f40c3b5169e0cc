"""The Alembic migrations on a fresh database of each backend: they end where the
models are (nothing left for autogenerate to find), and the latest one goes down and
up again with the rows of the tables it leaves alone kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from gateway import migrate
from gateway.config import Settings
from tests.conftest import RUN_ID
from tests.support import temporary_database


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path,
                postgres_server_url: str) -> AsyncIterator[Settings]:
    """Settings for an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}", environment="test")
        return
    async with temporary_database(postgres_server_url, f"gw_migrate_{RUN_ID}") as url:
        yield Settings(database_url=url, environment="test")


async def on(settings: Settings, work: Any) -> Any:
    engine = create_async_engine(settings.async_database_url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def settings_changes_indexes(conn: Connection) -> list[str] | None:
    inspector = inspect(conn)
    if "settings_changes" not in inspector.get_table_names():
        return None
    return [index["name"] for index in inspector.get_indexes("settings_changes")]


async def test_the_migrations_end_where_the_models_are(fresh: Settings) -> None:
    await asyncio.to_thread(migrate.upgrade, fresh)

    assert await on(fresh, differences) == []
    assert await on(fresh, settings_changes_indexes) == ["ix_settings_changes_company_created"]


async def test_settings_changes_go_down_and_up_again_keeping_other_rows(fresh: Settings) -> None:
    await asyncio.to_thread(migrate.upgrade, fresh, "0004")
    assert await on(fresh, settings_changes_indexes) is None
    await on(fresh, lambda conn: conn.execute(text(
        "INSERT INTO companies (id, name, portal_domain_verified, created_at, branding) "
        "VALUES ('acct_kept', 'Kept', false, '2026-11-30 12:00:00', NULL)")))

    assert await asyncio.to_thread(migrate.upgrade, fresh) == ["0005"]
    await on(fresh, lambda conn: conn.execute(text(
        "INSERT INTO settings_changes (id, company_id, action, actor_type, changes, created_at) "
        "VALUES ('6f1c3a52-8d8e-4c44-9b53-0c7f0e0f4a11', 'acct_kept', 'branding.update', "
        "'OPERATOR', '{}', '2026-11-30 12:00:00')")))
    await asyncio.to_thread(migrate.downgrade, fresh, "0004")
    assert await on(fresh, settings_changes_indexes) is None
    assert await asyncio.to_thread(migrate.upgrade, fresh) == ["0005"]

    assert await on(fresh, lambda conn: conn.execute(
        text("SELECT name FROM companies")).scalars().all()) == ["Kept"]
    assert await on(fresh, lambda conn: conn.execute(
        text("SELECT count(*) FROM settings_changes")).scalar()) == 0

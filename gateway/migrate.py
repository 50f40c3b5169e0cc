from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationInfo
from alembic.script import ScriptDirectory

from gateway.config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = settings.async_database_url
    return config


def upgrade(settings: Settings, revision: str = "head") -> list[str]:
    """Applies the migrations up to `revision`; returns the ids of those applied, in order."""
    applied: list[str] = []

    def record(*, step: MigrationInfo, **_: Any) -> None:
        if step.is_upgrade:
            applied.extend(step.up_revision_ids)

    config = alembic_config(settings)
    config.attributes["on_version_apply"] = record
    command.upgrade(config, revision)
    return applied


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:
        raise RuntimeError("no migration scripts")
    return head


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


def revision(settings: Settings, message: str) -> None:
    command.revision(alembic_config(settings), message=message, autogenerate=True)

"""settings changes: the merchant's audit trail of portal settings and branding

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 19:45:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import gateway.models.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('settings_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sqlmodel.sql.sqltypes.AutoString(length=69), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('actor_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('actor_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', gateway.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('settings_changes', schema=None) as batch_op:
        batch_op.create_index('ix_settings_changes_company_created',
                              ['company_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('settings_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_settings_changes_company_created')
    op.drop_table('settings_changes')

"""portal settings: per-company settings, cancellation at the period end with reasons,
audit details

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_settings', sa.JSON(), nullable=True))
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('cancellation_reason',
                                      sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('cancellation_comment',
                                      sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.create_index('ix_subscriptions_period_end_due', ['current_period_end'],
                              unique=False,
                              postgresql_where=sa.text('cancel_at_period_end'),
                              sqlite_where=sa.text('cancel_at_period_end'))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('details')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_period_end_due',
                            postgresql_where=sa.text('cancel_at_period_end'),
                            sqlite_where=sa.text('cancel_at_period_end'))
        batch_op.drop_column('cancellation_comment')
        batch_op.drop_column('cancellation_reason')
        batch_op.drop_column('cancel_at_period_end')
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_column('portal_settings')

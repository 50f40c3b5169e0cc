"""audit events by customer: the index behind auditEvents(customerId)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_company_customer_created',
                              ['company_id', 'customer_uid', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_company_customer_created')

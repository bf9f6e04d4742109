"""failed logins in the database, so that every server process counts against one limit

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_key', 'login_failures', ['key', 'at'], unique=False)
    op.create_index('ix_login_failures_at', 'login_failures', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_failures_at', table_name='login_failures')
    op.drop_index('ix_login_failures_key', table_name='login_failures')
    op.drop_table('login_failures')

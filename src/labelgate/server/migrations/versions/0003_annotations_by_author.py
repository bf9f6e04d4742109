"""annotations by author

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:30:19.364912
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

def upgrade() -> None:
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.create_index('ix_annotations_author', ['author_id', 'status', 'project_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.drop_index('ix_annotations_author')


"""consistency audits: answers to re-served tasks, kept apart from annotations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_answers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('lead_time', sa.Float(), nullable=True),
    sa.Column('guideline_version', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotations.id'], name=op.f('fk_audit_answers_annotation_id_annotations'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_audit_answers_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_audit_answers_project_id_projects'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_audit_answers_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_answers'))
    )
    with op.batch_alter_table('audit_answers', schema=None) as batch_op:
        batch_op.create_index('ix_audit_answers_author', ['author_id', 'task_id', 'status'], unique=False)
        batch_op.create_index('ix_audit_answers_project', ['project_id', 'author_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_answers_project')
        batch_op.drop_index('ix_audit_answers_author')
    op.drop_table('audit_answers')

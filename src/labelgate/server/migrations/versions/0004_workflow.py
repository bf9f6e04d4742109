"""workflow engine: config, event log, guideline version per annotation, export gates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workflows',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_workflows_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_workflows'))
    )
    op.create_table('workflow_records',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_workflow_records_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'seq', name=op.f('pk_workflow_records'))
    )
    op.create_table('workflow_annotations',
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('guideline_version', sa.Integer(), nullable=True),
    sa.Column('engine_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotations.id'],
                            name=op.f('fk_workflow_annotations_annotation_id_annotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_workflow_annotations_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('annotation_id', name=op.f('pk_workflow_annotations'))
    )
    with op.batch_alter_table('workflow_annotations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_annotations_project_id'), ['project_id'], unique=False)
    op.create_table('workflow_gates',
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['export_id'], ['exports.id'], name=op.f('fk_workflow_gates_export_id_exports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('export_id', name=op.f('pk_workflow_gates'))
    )


def downgrade() -> None:
    op.drop_table('workflow_gates')
    with op.batch_alter_table('workflow_annotations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_annotations_project_id'))
    op.drop_table('workflow_annotations')
    op.drop_table('workflow_records')
    op.drop_table('workflows')

"""decrypted responses, free text, edit log, quarantine, dataset builds

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # In place (sealed_response is a WITHOUT ROWID table on SQLite: no rebuild).
    op.add_column(
        'sealed_response',
        sa.Column('opened', sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table('response',
    sa.Column('id', S(length=32), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('cohort', S(length=32), nullable=False),
    sa.Column('channel', S(length=8), nullable=False),
    sa.Column('form_id', S(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('week', S(length=8), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('derived', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_with_rowid=False
    )
    op.create_index('ix_response_study_id', 'response', ['study_id'])
    op.create_table('free_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', S(length=32), nullable=False),
    sa.Column('variable', S(length=32), nullable=False),
    sa.Column('text', S(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_free_text_response_id', 'free_text', ['response_id'])
    op.create_table('edit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', S(length=32), nullable=False),
    sa.Column('variable', S(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('reason', S(length=200), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_edit_log_response_id', 'edit_log', ['response_id'])
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('sealed_id', S(length=32), nullable=False),
    sa.Column('cohort', S(length=32), nullable=False),
    sa.Column('form_id', S(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reason', S(length=32), nullable=False),
    sa.Column('detail', S(length=400), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['sealed_id'], ['sealed_response.id'], ),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sealed_id')
    )
    op.create_index('ix_quarantine_study_id', 'quarantine', ['study_id'])
    op.create_table('dataset_build',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('columns', sa.Integer(), nullable=False),
    sa.Column('sha256', S(length=64), nullable=False),
    sa.Column('built_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_dataset_build_study_id', 'dataset_build', ['study_id'])


def downgrade() -> None:
    for table in ('dataset_build', 'quarantine', 'edit_log', 'free_text', 'response'):
        op.drop_table(table)
    with op.batch_alter_table('sealed_response', schema=None) as batch_op:
        batch_op.drop_column('opened')

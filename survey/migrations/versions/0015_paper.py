"""paper receipt log and keyed entries

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('paper_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('receipt_no', S(length=16), nullable=False),
    sa.Column('batch', S(length=32), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('cohort', S(length=32), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('reason', S(length=16), nullable=True),
    sa.Column('state', S(length=16), nullable=False),
    sa.Column('flag', S(length=32), nullable=True),
    sa.Column('code_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('response_id', S(length=32), nullable=True),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_id', 'receipt_no')
    )
    op.create_index('ix_paper_receipt_study_id', 'paper_receipt', ['study_id'])
    op.create_index('ix_paper_receipt_code_hash', 'paper_receipt', ['code_hash'])
    op.create_table('paper_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('pass_no', sa.Integer(), nullable=False),
    sa.Column('operator', S(length=64), nullable=False),
    sa.Column('form_id', S(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('code_state', S(length=16), nullable=False),
    sa.Column('code_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('keyed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['receipt_id'], ['paper_receipt.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('receipt_id', 'pass_no')
    )
    op.create_index('ix_paper_entry_receipt_id', 'paper_entry', ['receipt_id'])


def downgrade() -> None:
    op.drop_index('ix_paper_entry_receipt_id', table_name='paper_entry')
    op.drop_table('paper_entry')
    op.drop_index('ix_paper_receipt_code_hash', table_name='paper_receipt')
    op.drop_index('ix_paper_receipt_study_id', table_name='paper_receipt')
    op.drop_table('paper_receipt')

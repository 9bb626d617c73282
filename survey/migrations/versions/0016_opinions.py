"""free-text opinion categories and codings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('opinion_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('name', S(length=64), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_id', 'name', name='uq_opinion_category_name')
    )
    op.create_index('ix_opinion_category_study_id', 'opinion_category', ['study_id'])
    op.create_table('opinion_coding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('free_text_id', sa.Integer(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('redacted', S(), nullable=True),
    sa.Column('coded_by', S(length=64), nullable=False),
    sa.Column('approved_by', S(length=64), nullable=True),
    sa.ForeignKeyConstraint(['free_text_id'], ['free_text.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('free_text_id')
    )


def downgrade() -> None:
    op.drop_table('opinion_coding')
    op.drop_index('ix_opinion_category_study_id', table_name='opinion_category')
    op.drop_table('opinion_category')

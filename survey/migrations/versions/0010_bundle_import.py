"""bundle imports on the office side

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bundle_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('collector_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('previous', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('imported_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_id', 'collector_key', 'sequence', name='uq_bundle_import_seq')
    )
    with op.batch_alter_table('bundle_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bundle_import_study_id'), ['study_id'], unique=False)
    # Added in place, no table rebuild (sealed_response is a WITHOUT ROWID table on SQLite,
    # which accepts a new nullable column with a REFERENCES clause).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE sealed_response ADD COLUMN import_id INTEGER REFERENCES bundle_import (id)'
        )
    else:
        op.add_column('sealed_response', sa.Column(
            'import_id', sa.Integer(), sa.ForeignKey('bundle_import.id'), nullable=True
        ))
    op.create_index('ix_sealed_response_import_id', 'sealed_response', ['import_id'])


def downgrade() -> None:
    op.drop_index('ix_sealed_response_import_id', 'sealed_response')
    with op.batch_alter_table('sealed_response', schema=None) as batch_op:
        batch_op.drop_column('import_id')
    with op.batch_alter_table('bundle_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bundle_import_study_id'))
    op.drop_table('bundle_import')

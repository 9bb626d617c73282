"""the channel a code was used on; bundle format and consumed codes per import

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place: access_code is a WITHOUT ROWID table on SQLite (no rebuild).
    op.add_column(
        'access_code', sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
    )
    op.add_column(
        'bundle_import', sa.Column('format', sa.Integer(), nullable=False, server_default='1')
    )
    op.add_column(
        'bundle_import', sa.Column('consumed', sa.Integer(), nullable=False, server_default='0')
    )


def downgrade() -> None:
    with op.batch_alter_table('bundle_import', schema=None) as batch_op:
        batch_op.drop_column('consumed')
        batch_op.drop_column('format')
    with op.batch_alter_table('access_code', schema=None) as batch_op:
        batch_op.drop_column('channel')

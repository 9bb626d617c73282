"""the draw records guardian households per type (members in earlier frames), aggregated

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:00:00.000000

A nullable JSON column added in place (no table rebuild: ``draw`` is referenced by
``frame_count`` and ``roster_unit``, see 0008). Draws stored before this revision keep NULL:
their household types were not recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('draw', sa.Column('household_types', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('draw', 'household_types')

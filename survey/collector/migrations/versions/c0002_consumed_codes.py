"""which bundle reported a code's consumption

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0002"
down_revision: str | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place (collector_code is a WITHOUT ROWID table on SQLite: no rebuild).
    op.add_column("collector_code", sa.Column("bundle", sa.Integer(), nullable=True))
    op.create_index("ix_collector_code_bundle", "collector_code", ["bundle"])


def downgrade() -> None:
    op.drop_index("ix_collector_code_bundle", "collector_code")
    with op.batch_alter_table("collector_code") as batch:
        batch.drop_column("bundle")

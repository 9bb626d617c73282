"""the collector's own tables

Revision ID: c0001
Revises:
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("collector",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collector_study",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "collector_code",
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("study", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cohort", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["study"], ["collector_study.name"]),
        sa.PrimaryKeyConstraint("hash"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_collector_code_study", "collector_code", ["study"])
    op.create_table(
        "collector_response",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("study", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cohort", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("form_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("bundle", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["study"], ["collector_study.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sealed_hash"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_collector_response_study", "collector_response", ["study"])
    op.create_index("ix_collector_response_bundle", "collector_response", ["bundle"])
    op.create_table(
        "collector_bundle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("previous", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["study"], ["collector_study.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study", "sequence", name="uq_collector_bundle_sequence"),
    )
    op.create_index("ix_collector_bundle_study", "collector_bundle", ["study"])
    op.create_table(
        "collector_signer",
        sa.Column("study", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["study"], ["collector_study.name"]),
        sa.PrimaryKeyConstraint("study"),
    )


def downgrade() -> None:
    for table in (
        "collector_signer",
        "collector_bundle",
        "collector_response",
        "collector_code",
        "collector_study",
    ):
        op.drop_table(table)

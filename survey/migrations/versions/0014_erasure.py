"""erasure requests and their signatures; an erased commitment keeps only its SHA-256

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00

Erasure (survey.erasure) deletes the sealed draw seed with the roster key: the commitment's
``seed_sealed`` becomes NULL while its ``seed_sha256`` (the published commitment) stays.
Nothing references ``seed_commitment``: SQLite may rebuild it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('seed_commitment', schema=None) as batch_op:
        batch_op.alter_column('seed_sealed', existing_type=sa.LargeBinary(), nullable=True)
    op.create_table('erasure_request',
    sa.Column('id', S(length=32), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('scope', S(length=32), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('inventory', sa.JSON(), nullable=False),
    sa.Column('inventory_sha256', S(length=64), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('executed_by', sa.Integer(), nullable=True),
    sa.Column('executed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('certificate', sa.LargeBinary(), nullable=True),
    sa.Column('confirmed_certificate', sa.LargeBinary(), nullable=True),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['staff_user.id'], ),
    sa.ForeignKeyConstraint(['executed_by'], ['staff_user.id'], ),
    sa.ForeignKeyConstraint(['confirmed_by'], ['staff_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_erasure_request_study_id', 'erasure_request', ['study_id'])
    op.create_table('erasure_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', S(length=32), nullable=False),
    sa.Column('role', S(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('inventory_sha256', S(length=64), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['erasure_request.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], ),
    sa.ForeignKeyConstraint(['key_id'], ['staff_key.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'role', name='uq_erasure_signature_role')
    )
    op.create_index('ix_erasure_signature_request_id', 'erasure_signature', ['request_id'])


def downgrade() -> None:
    erased = op.get_bind().execute(
        sa.text("SELECT count(*) FROM seed_commitment WHERE seed_sealed IS NULL")
    ).scalar()
    if erased:
        # An erased seed cannot come back: the older schema has no way to say "erased".
        raise RuntimeError("erased seed commitments exist: cannot downgrade below 0014")
    op.drop_index('ix_erasure_signature_request_id', table_name='erasure_signature')
    op.drop_table('erasure_signature')
    op.drop_index('ix_erasure_request_study_id', table_name='erasure_request')
    op.drop_table('erasure_request')
    with op.batch_alter_table('seed_commitment', schema=None) as batch_op:
        batch_op.alter_column('seed_sealed', existing_type=sa.LargeBinary(), nullable=False)

"""who created and reset each account, when and how each signing key was confirmed;
server-side pre-login tokens

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-12 10:02:41.118305
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reset_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_staff_user_created_by', 'staff_user', ['created_by'], ['id'])
        batch_op.create_foreign_key('fk_staff_user_reset_by', 'staff_user', ['reset_by'], ['id'])
    # password_set_by named whoever chose the password last (creation or reset): it now goes
    # to both columns, since either may be true and both are refused as confirmers.
    op.execute(
        "UPDATE staff_user SET created_by = password_set_by, reset_by = password_set_by"
    )
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('password_set_by')
        batch_op.drop_column('reset_pending')

    with op.batch_alter_table('staff_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('bootstrap', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('staff_key', schema=None) as batch_op:
        batch_op.alter_column('bootstrap', server_default=None)
    # Keys confirmed without a manager (the old automatic confirmation at a new account's first
    # own password change) are no longer confirmed: each now waits for a qualifying manager,
    # and the installation's first manager for the key ceremony (survey users confirm-key
    # --bootstrap).
    op.execute("UPDATE staff_key SET confirmed = false WHERE confirmed_by IS NULL")

    op.create_table('staff_login_token',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_login_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_login_token_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_login_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_login_token_expires_at'))

    op.drop_table('staff_login_token')
    with op.batch_alter_table('staff_key', schema=None) as batch_op:
        batch_op.drop_column('bootstrap')
        batch_op.drop_column('confirmed_at')

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_set_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reset_pending', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key('fk_staff_user_password_set_by', 'staff_user', ['password_set_by'], ['id'])
    op.execute("UPDATE staff_user SET password_set_by = COALESCE(reset_by, created_by)")
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.alter_column('reset_pending', server_default=None)
        batch_op.drop_constraint('fk_staff_user_reset_by', type_='foreignkey')
        batch_op.drop_constraint('fk_staff_user_created_by', type_='foreignkey')
        batch_op.drop_column('reset_by')
        batch_op.drop_column('created_by')

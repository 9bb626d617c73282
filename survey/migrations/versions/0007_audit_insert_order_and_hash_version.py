"""audit log: an insert must be the next entry of the chain; each entry names its hash rule

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
REFUSED = "audit log is append-only: a new entry must follow the head"


def upgrade() -> None:
    # Entries already written were hashed by rule 1 and keep it, so chains anchored before
    # this migration still verify; new entries use the rule survey.audit.append names.
    op.add_column(
        'audit_entry',
        sa.Column('hash_version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    )
    _insert_order_trigger()


# 0006 refuses UPDATE and DELETE, but an INSERT can still replace an entry: SQLite's REPLACE
# (INSERT OR REPLACE) resolves a seq or hash conflict by deleting the old row without firing
# DELETE triggers (only with recursive_triggers, a per-connection pragma that binds no other
# client). So an insert is accepted only as the next entry: seq one past the head, prev the
# head's hash (GENESIS on an empty log), a hash not already in the log. ON CONFLICT DO UPDATE
# is an UPDATE of the old row and meets 0006's UPDATE trigger as well. The app serialises
# appends (SQLite's write lock, PostgreSQL's advisory lock), so the head it reads is the head
# the trigger sees.
def _insert_order_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_entry_insert_order() RETURNS trigger AS $$
            DECLARE
                head_seq integer;
                head_hash text;
            BEGIN
                -- The table is named through the trigger, schema-qualified: an unqualified
                -- name would resolve to a temporary table of that name the inserting role
                -- created first (pg_temp is searched before the schema).
                EXECUTE format(
                    'SELECT seq, hash FROM %I.%I ORDER BY seq DESC LIMIT 1',
                    TG_TABLE_SCHEMA, TG_TABLE_NAME
                ) INTO head_seq, head_hash;
                IF NEW.seq IS DISTINCT FROM coalesce(head_seq, 0) + 1
                   OR NEW.prev IS DISTINCT FROM coalesce(head_hash, '{GENESIS}') THEN
                    RAISE EXCEPTION '{REFUSED}';
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_entry_insert_order BEFORE INSERT ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_insert_order()"
        )
    else:
        # seq and hash are the table's only unique columns, so the only rows REPLACE could
        # delete; both are checked before SQLite resolves the conflict.
        op.execute(
            f"""
            CREATE TRIGGER audit_entry_insert_order BEFORE INSERT ON audit_entry
            WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_entry)
              OR NEW.prev IS NOT coalesce(
                  (SELECT hash FROM audit_entry ORDER BY seq DESC LIMIT 1), '{GENESIS}')
              OR EXISTS (SELECT 1 FROM audit_entry WHERE hash = NEW.hash)
            BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END
            """
        )


def downgrade() -> None:
    # Without the column every entry would read as rule 1: entries hashed by a later rule
    # would then verify as altered forever. Refuse rather than break the chain.
    later = op.get_bind().execute(
        sa.text("SELECT count(*) FROM audit_entry WHERE hash_version <> 1")
    ).scalar()
    if later:
        raise RuntimeError(
            f"{later} audit entries use a hash rule newer than 1; downgrading would break the chain"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_insert_order ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_insert_order()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_insert_order")
    # Not in batch mode: SQLite drops the column in place (3.35+), so the table and 0006's
    # append-only triggers on it are kept (a batch copy would lose the triggers).
    op.drop_column('audit_entry', 'hash_version')

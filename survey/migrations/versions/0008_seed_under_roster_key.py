"""the draw seed sealed under the study's roster key, never in clear

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00.000000

With the register (which the city always holds) the seed rebuilds exactly who was sampled,
so a seed in clear made deleting the roster key pointless. Existing seeds are sealed in
place under each study's roster key (``SURVEY_KEY_DIR/<study>/roster.key``); the key folder
comes from the settings survey.db hands over, else from the environment.

``draw`` is referenced by ``frame_count`` and ``roster_unit``: SQLite cannot rebuild it
(what a NOT NULL change needs) while foreign keys are enforced, so its new columns stay
nullable and ``seed_hex`` is dropped with SQLite's own ``ALTER TABLE DROP COLUMN``. With
``secure_delete`` on, SQLite overwrites the freed bytes. PostgreSQL keeps dead row versions
until the table is rewritten: run ``VACUUM FULL draw, seed_commitment`` after upgrading an
existing database (README); backups taken before the upgrade still hold the seed in clear.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen as of this revision, so later code cannot change what this migration does: the
# roster key's file name, the secretbox block of a sealed seed and of a roster unit.
ROSTER_KEY_FILE = "roster.key"
SEED_PAD = 64
ROSTER_PAD = 1024


def upgrade() -> None:
    op.add_column('draw', sa.Column('seed_sealed', sa.LargeBinary(), nullable=True))
    op.add_column(
        'draw', sa.Column('seed_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    )
    op.add_column('seed_commitment', sa.Column('seed_sealed', sa.LargeBinary(), nullable=True))
    _seal_existing_seeds()
    op.drop_column('draw', 'seed_hex')
    # Nothing references seed_commitment: SQLite may rebuild it.
    with op.batch_alter_table('seed_commitment', schema=None) as batch_op:
        batch_op.alter_column('seed_sealed', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('seed_hex')


def downgrade() -> None:
    op.add_column(
        'draw', sa.Column('seed_hex', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    )
    op.add_column(
        'seed_commitment',
        sa.Column('seed_hex', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    _open_sealed_seeds()
    op.drop_column('draw', 'seed_sha256')
    op.drop_column('draw', 'seed_sealed')
    with op.batch_alter_table('seed_commitment', schema=None) as batch_op:
        batch_op.alter_column(
            'seed_hex', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )
        batch_op.drop_column('seed_sealed')


def _settings() -> Any:
    settings = op.get_context().config.attributes.get("settings")
    if settings is None:
        from survey.settings import load_settings

        settings = load_settings()
    return settings


def _rows(table: str, column: str) -> list[Any]:
    return list(
        op.get_bind().execute(
            sa.text(
                f"SELECT t.id, t.{column}, study.name FROM {table} t "
                "JOIN study ON study.id = t.study_id ORDER BY t.id"
            )
        )
    )


def _draw_key(settings: Any, study: str, draw_id: int) -> bytes:
    """The roster key the draw's roster is sealed under; refuse a missing or wrong one."""
    # Imported here, not at the top: every migration module is loaded whenever Alembic reads
    # the history, and decryption code has no business in other processes' imports.
    from survey.crypto import KeyMissingError, read_key_file
    from survey.decrypt import open_secret
    from survey.errors import DataError

    path = settings.study_key_dir(study) / ROSTER_KEY_FILE
    try:
        key = read_key_file(path)
    except KeyMissingError as exc:
        raise DataError(
            f"調査 {study} の名簿鍵がありません（SURVEY_KEY_DIR を確認してください）。"
            "抽出のシードを暗号化できないため、更新を中止しました。",
            f"The roster key of study {study!r} is missing (check SURVEY_KEY_DIR): the draw's "
            "seed cannot be sealed under it, so the upgrade was stopped.",
        ) from exc
    unit = op.get_bind().execute(
        sa.text("SELECT sealed FROM roster_unit WHERE draw_id = :id LIMIT 1"), {"id": draw_id}
    ).scalar()
    if unit is not None:
        open_secret(key, unit, block=ROSTER_PAD)  # DecryptionError: not this roster's key
    return key


def _seal_existing_seeds() -> None:
    draws, commitments = _rows('draw', 'seed_hex'), _rows('seed_commitment', 'seed_hex')
    if not draws and not commitments:
        return
    import hashlib

    from survey.crypto import load_or_create_key, seal_secret

    settings = _settings()
    bind = op.get_bind()
    for draw_id, seed_hex, study in draws:
        seed = bytes.fromhex(seed_hex)
        bind.execute(
            sa.text("UPDATE draw SET seed_sealed = :sealed, seed_sha256 = :digest WHERE id = :id"),
            {
                "sealed": seal_secret(_draw_key(settings, study, draw_id), seed, block=SEED_PAD),
                "digest": hashlib.sha256(seed).hexdigest(),
                "id": draw_id,
            },
        )
    for commitment_id, seed_hex, study in commitments:
        # A study committed but not yet drawn may have no roster key: it gets one now, the
        # one its roster will be sealed under.
        key = load_or_create_key(settings.study_key_dir(study) / ROSTER_KEY_FILE)
        bind.execute(
            sa.text("UPDATE seed_commitment SET seed_sealed = :sealed WHERE id = :id"),
            {"sealed": seal_secret(key, bytes.fromhex(seed_hex), block=SEED_PAD), "id": commitment_id},
        )


def _open_sealed_seeds() -> None:
    draws, commitments = _rows('draw', 'seed_sealed'), _rows('seed_commitment', 'seed_sealed')
    if not draws and not commitments:
        return
    from survey.crypto import read_key_file
    from survey.decrypt import open_secret

    settings = _settings()
    bind = op.get_bind()
    for table, rows in (('draw', draws), ('seed_commitment', commitments)):
        for row_id, sealed, study in rows:
            # A missing seed or key (erasure) stops the downgrade: the seed is gone for good.
            if sealed is None:
                from survey.errors import DataError

                raise DataError(
                    f"調査 {study} の抽出のシードは消去されています。",
                    f"The draw seed of study {study!r} has been erased.",
                )
            key = read_key_file(settings.study_key_dir(study) / ROSTER_KEY_FILE)
            seed = open_secret(key, sealed, block=SEED_PAD)
            bind.execute(
                sa.text(f"UPDATE {table} SET seed_hex = :seed WHERE id = :id"),
                {"seed": seed.hex(), "id": row_id},
            )

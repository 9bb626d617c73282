"""Migration 0008: a database made at 0006, with draw seeds in clear, is sealed in place."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, column, insert, inspect, table, text
from sqlmodel import select

from survey.db import Database, alembic_config, make_engine, transaction
from survey.errors import DataError
from survey.models import Draw, SeedCommitment, Study
from survey.register.reader import read_register
from survey.roster import RosterRecord, roster_key_path, store_roster
from survey.sampling.draw import ALGORITHM, draw
from survey.sampling.seed import SeedErasedError, open_seed, seed_document
from survey.sampling.service import parse_allocation, verify_draw
from survey.settings import Settings, load_settings
from survey.study import create_study, effective_settings, frame_rules

D = date(2026, 4, 1)
SEED = bytes.fromhex("7c" * 32)
PENDING = bytes.fromhex("3d" * 32)  # an unused commitment of a study not drawn yet
OLD_COMMITMENT_COLUMNS = ("study_id", "seed_hex", "seed_sha256", "created_on", "used")


def _database_at_0006(settings: Settings, register: Path) -> Engine:
    """What an installation had before 0008: a drawn study whose seed (and commitment) are
    stored in clear, and a second study with only a commitment and no roster key yet."""
    engine = make_engine(settings)
    command.upgrade(alembic_config(engine, settings=settings), "0006")
    alloc = parse_allocation("general=5,junior_high=3")
    with transaction(engine) as session:
        study = create_study(session, "old", [("as_of", D.isoformat())])
        pending = create_study(session, "pending", [("as_of", D.isoformat())])
        recorded = effective_settings(study) | {"as_of": D.isoformat()}
        reg = read_register(register, recorded["districts"])
        result = draw(reg.persons, frame_rules(recorded, D), alloc, recorded["draw_order"], SEED)
        values = {
            "study_id": study.id,
            "seed_hex": SEED.hex(),
            "committed": True,
            "register_sha256": reg.sha256,
            "register_rows": len(reg.persons),
            "as_of": D,
            "allocation": json.dumps(alloc),
            "settings": json.dumps(recorded),
            "code_version": "0.0.0",
            "algorithm": ALGORITHM,
            "selection_sha256": result.selection_sha256,
            "frame": json.dumps(result.frame),
            "removed": json.dumps(result.removed),
            "sample": json.dumps(result.sample),
            "no_frame": result.no_frame,
            "drawn_on": D,
        }
        # The 0006 tables as they were (the models have moved on).
        old_draw = table("draw", *(column(k) for k in [*values, "id"]))
        draw_id = (
            session.connection()
            .execute(insert(old_draw).values(values).returning(old_draw.c.id))
            .scalar_one()
        )
        full = reg.residents([u.person.line for u in result.units])
        records = [
            RosterRecord.from_resident(u.cohort, u.unit_id, full[u.person.line], u.checkup)
            for u in result.units
        ]
        store_roster(session, settings, "old", draw_id, records)
        old_commitment = table("seed_commitment", *(column(k) for k in OLD_COMMITMENT_COLUMNS))
        for study_id, seed, used in ((study.id, SEED, True), (pending.id, PENDING, False)):
            session.connection().execute(
                insert(old_commitment).values(
                    study_id=study_id,
                    seed_hex=seed.hex(),
                    seed_sha256=hashlib.sha256(seed).hexdigest(),
                    created_on=D,
                    used=used,
                )
            )
    return engine


def _raw_database(settings: Settings) -> bytes:
    base = settings.data_dir / "survey.sqlite3"
    return b"".join(p.read_bytes() for p in (base, Path(f"{base}-wal")) if p.exists())


def _check_upgraded(settings: Settings, register: Path) -> None:
    database = Database(settings, migrate=True)  # to head, as `survey db upgrade` does
    try:
        with database.session() as session:
            study = session.exec(select(Study).where(Study.name == "old")).one()
            row = session.exec(select(Draw)).one()
            assert row.seed_sha256 == hashlib.sha256(SEED).hexdigest()
            assert open_seed(settings, "old", row.seed_sealed, row.seed_sha256) == SEED
            commitments = {c.study_id: c for c in session.exec(select(SeedCommitment)).all()}
            assert len(commitments) == 2
            for c in commitments.values():
                name = session.get(Study, c.study_id).name  # type: ignore[union-attr]
                seed = open_seed(settings, name, c.seed_sealed, c.seed_sha256)
                assert seed == (SEED if c.used else PENDING)
            # The re-run still verifies: the migration kept the very seed.
            assert verify_draw(session, settings, study, register).verified
            assert json.loads(seed_document(settings, study, row))["seed"] == SEED.hex()
        columns = {
            table: {c["name"] for c in inspect(database.engine).get_columns(table)}
            for table in ("draw", "seed_commitment")
        }
        assert all("seed_hex" not in names for names in columns.values())
    finally:
        database.dispose()
    # The study that had only a commitment got its roster key, owner-only.
    assert roster_key_path(settings, "pending").stat().st_mode & 0o077 == 0


@pytest.mark.sqlite_only  # the SQLite file itself (test_0006_postgresql_... covers PostgreSQL)
def test_0006_database_with_clear_seeds_is_sealed_in_place(
    settings: Settings, synth_register: Path
) -> None:
    _database_at_0006(settings, synth_register).dispose()
    before = _raw_database(settings)
    assert SEED.hex().encode() in before and PENDING.hex().encode() in before
    _check_upgraded(settings, synth_register)
    after = _raw_database(settings)
    for seed in (SEED, PENDING):
        assert seed.hex().encode() not in after and seed not in after
    # Erasure afterwards: the sealed seed goes with the roster key.
    roster_key_path(settings, "old").unlink()
    database = Database(settings, migrate=True)
    try:
        with database.session() as session, pytest.raises(SeedErasedError):
            verify_draw(session, settings, session.exec(select(Study)).first(), synth_register)  # type: ignore[arg-type]
    finally:
        database.dispose()


@pytest.mark.empty_database
def test_upgrade_stops_when_a_drawn_studys_roster_key_is_missing(
    settings: Settings, synth_register: Path
) -> None:
    engine = _database_at_0006(settings, synth_register)
    roster_key_path(settings, "old").unlink()
    with pytest.raises(DataError, match="roster key"):
        command.upgrade(alembic_config(engine, settings=settings), "head")
    # Nothing changed: still at 0006 with the clear column (the transaction rolled back).
    assert "seed_hex" in {c["name"] for c in inspect(engine).get_columns("draw")}
    engine.dispose()


@pytest.mark.empty_database
def test_downgrade_opens_the_seeds_again(settings: Settings, synth_register: Path) -> None:
    _database_at_0006(settings, synth_register).dispose()
    Database(settings, migrate=True).dispose()
    engine = make_engine(settings)
    try:
        command.downgrade(alembic_config(engine, settings=settings), "0006")
        with engine.connect() as conn:
            hexes = {r[0] for r in conn.execute(text("SELECT seed_hex FROM seed_commitment"))}
            drawn = conn.execute(text("SELECT seed_hex FROM draw")).scalar_one()
        assert hexes == {SEED.hex(), PENDING.hex()} and drawn == SEED.hex()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_0006_postgresql_database_is_sealed_in_place(
    pg_bare_env: dict[str, str], synth_register: Path
) -> None:
    settings = load_settings()
    _database_at_0006(settings, synth_register).dispose()
    _check_upgraded(settings, synth_register)

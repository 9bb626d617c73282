"""The draw as a service: stored results, reproducibility, --verify, commit-then-reveal."""

import hashlib
import random
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from survey.db import Database
from survey.errors import DataError, UsageError
from survey.models import Draw, FrameCount, RosterUnit, SeedCommitment, Study
from survey.roster import load_roster
from survey.sampling.service import (
    commit_seed,
    draw_study,
    parse_allocation,
    parse_seed,
    verify_draw,
)
from survey.settings import Settings
from survey.study import create_study, update_settings
from tests.conftest import SMALL_ALLOCATION

D = date(2026, 4, 1)
SEED = bytes.fromhex("ab" * 32)


def _draw(
    db: Database,
    settings: Settings,
    register: Path,
    seed: bytes | None = SEED,
    name: str = "s1",
    committed: bool = False,
) -> dict:
    with db.session() as session:
        study = create_study(session, name, [("as_of", D.isoformat())])
        if committed:
            commit_seed(session, settings, study)
        report = draw_study(
            session,
            settings,
            study,
            register,
            D,
            parse_allocation(SMALL_ALLOCATION),
            seed=None if committed else seed,
            committed=committed,
        )
        return report.as_json()


def test_draw_records_what_it_used(db: Database, settings: Settings, synth_register: Path) -> None:
    result = _draw(db, settings, synth_register)
    assert result["sample"] == parse_allocation(SMALL_ALLOCATION)
    assert result["seed"] is None  # never shown: with the register it rebuilds the sample
    assert result["seed_sha256"] == hashlib.sha256(SEED).hexdigest()
    assert result["register_sha256"] == hashlib.sha256(synth_register.read_bytes()).hexdigest()
    with db.session() as session:
        draw = session.exec(select(Draw)).one()
        assert draw.settings["draw_order"][0] == "general"
        assert draw.settings["as_of"] == "2026-04-01"
        assert draw.algorithm.startswith("stratified-srswor")
        cells = session.exec(select(FrameCount).where(FrameCount.draw_id == draw.id)).all()
        assert sum(c.units for c in cells) == sum(draw.frame.values())
        assert sum(c.removed for c in cells) == sum(draw.removed.values())
        units = session.exec(select(RosterUnit)).all()
        assert len(units) == sum(draw.sample.values())


def test_same_seed_same_sample_even_on_a_reordered_register(
    db: Database, settings: Settings, synth_register: Path, tmp_path: Path
) -> None:
    lines = synth_register.read_bytes().split(b"\r\n")
    header, body = lines[0], [line for line in lines[1:] if line]
    random.Random(1).shuffle(body)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_bytes(b"\r\n".join([header, *body]) + b"\r\n")
    a = _draw(db, settings, synth_register, name="a")
    b = _draw(db, settings, shuffled, name="b")
    assert a["selection_sha256"] == b["selection_sha256"]
    assert a["register_sha256"] != b["register_sha256"]
    c = _draw(db, settings, synth_register, seed=bytes(32), name="c")
    assert c["selection_sha256"] != a["selection_sha256"]


def test_verify_reruns_with_recorded_settings(
    db: Database, settings: Settings, synth_register: Path
) -> None:
    _draw(db, settings, synth_register)
    with db.session() as session:
        study = session.exec(select(Draw)).one()
        s = session.get(Study, study.study_id)
        assert s is not None
        # Changing settings after the draw must not change how it verifies.
        update_settings(
            session,
            s,
            [
                ("general_min_age", 20),
                (
                    "draw_order",
                    [
                        "infant_guardian",
                        "elementary_guardian",
                        "general",
                        "junior_high",
                        "high_school",
                    ],
                ),
            ],
        )
        result = verify_draw(session, settings, s, synth_register)
    assert result.verified and result.register_matches


def resorted(register: Path, out: Path) -> Path:
    """The same residents, rows in another order: another file, the same draw."""
    lines = register.read_bytes().split(b"\r\n")
    header, body = lines[0], [line for line in lines[1:] if line]
    random.Random(3).shuffle(body)
    out.write_bytes(b"\r\n".join([header, *body]) + b"\r\n")
    return out


def test_verify_judges_a_resorted_register_by_the_draw_not_the_file_hash(
    db: Database, settings: Settings, synth_register: Path, tmp_path: Path
) -> None:
    _draw(db, settings, synth_register)
    shuffled = resorted(synth_register, tmp_path / "resorted.csv")
    with db.session() as session:
        s = session.exec(select(Study)).one()
        result = verify_draw(session, settings, s, shuffled)
    assert result.verified and result.differences == []
    assert not result.register_matches  # reported apart
    assert result.as_json()["verified"] is True


def test_verify_detects_a_different_register(
    db: Database, settings: Settings, synth_register: Path, tmp_path: Path
) -> None:
    _draw(db, settings, synth_register)
    lines = synth_register.read_bytes().split(b"\r\n")
    altered = tmp_path / "altered.csv"
    altered.write_bytes(b"\r\n".join([lines[0], *lines[2:]]))  # one resident fewer
    with db.session() as session:
        s = session.exec(select(Study)).one()
        result = verify_draw(session, settings, s, altered)
    assert not result.verified and not result.register_matches
    assert result.differences == ["frame"]  # one resident fewer in the general frame


def test_a_study_is_drawn_once(db: Database, settings: Settings, synth_register: Path) -> None:
    _draw(db, settings, synth_register)
    with pytest.raises(DataError), db.session() as session:
        s = session.exec(select(Study)).one()
        draw_study(session, settings, s, synth_register, D, parse_allocation(SMALL_ALLOCATION))


def test_commit_then_reveal(db: Database, settings: Settings, synth_register: Path) -> None:
    with db.session() as session:
        study = create_study(session, "c", [("as_of", D.isoformat())])
        digest = commit_seed(session, settings, study)
    with db.session() as session:
        study = session.exec(select(Study)).one()
        report = draw_study(
            session,
            settings,
            study,
            synth_register,
            D,
            parse_allocation(SMALL_ALLOCATION),
            committed=True,
        ).as_json()
    assert report["seed"] is None
    assert report["seed_sha256"] == digest
    assert report["committed"] is True
    with db.session() as session:
        assert session.exec(select(SeedCommitment)).one().used


def test_committed_draw_needs_a_commitment(
    db: Database, settings: Settings, synth_register: Path
) -> None:
    with pytest.raises(DataError, match="commit"), db.session() as session:
        study = create_study(session, "c", [("as_of", D.isoformat())])
        draw_study(
            session, settings, study, synth_register, D, parse_allocation(None), committed=True
        )


def test_roster_decrypts_to_the_drawn_units(
    db: Database, settings: Settings, synth_register: Path
) -> None:
    _draw(db, settings, synth_register)
    with db.session() as session:
        draw = session.exec(select(Draw)).one()
        assert draw.id is not None
        records = load_roster(session, settings, "s1", draw.id)
    assert len(records) == 130
    guardians = [r for r in records if r.is_guardian]
    assert len(guardians) == 40
    assert all(r.addressee.endswith("様 保護者様") for r in guardians)
    assert all(r.addressee.endswith(" 様") for r in records if not r.is_guardian)
    assert all(len(r.postal_code) == 7 and r.address.startswith("埼玉県志木市") for r in records)


def test_checkup_frame_records_checkup_and_month(
    db: Database, settings: Settings, synth_register: Path
) -> None:
    with db.session() as session:
        study = create_study(
            session,
            "k",
            [
                ("as_of", D.isoformat()),
                ("infant_frame", "checkup"),
                ("fieldwork_start", "2026-06-01"),
                ("fieldwork_end", "2026-07-31"),
            ],
        )
        draw_study(
            session,
            settings,
            study,
            synth_register,
            D,
            parse_allocation("infant_guardian=5"),
            seed=SEED,
        )
        draw = session.exec(select(Draw)).one()
        assert draw.id is not None
        records = load_roster(session, settings, "k", draw.id)
    assert {r.checkup for r in records} <= {"4か月児健診", "18か月児健診", "36か月児健診"}
    assert all(r.checkup_month in ("2026-06", "2026-07") for r in records)
    assert len(records) == 5


def test_checkup_frame_needs_fieldwork_dates(
    db: Database, settings: Settings, synth_register: Path
) -> None:
    with pytest.raises(UsageError, match="fieldwork"), db.session() as session:
        study = create_study(session, "k", [("as_of", D.isoformat()), ("infant_frame", "checkup")])
        draw_study(
            session, settings, study, synth_register, D, parse_allocation("infant_guardian=5")
        )


@pytest.mark.parametrize("text", ["ab", "zz" * 32, "ab" * 31, "ab" * 33])
def test_seed_must_be_256_bits(text: str) -> None:
    with pytest.raises(UsageError):
        parse_seed(text)


def test_allocation_parsing() -> None:
    assert parse_allocation("general=10")["infant_guardian"] == 0
    assert sum(parse_allocation(None).values()) == 3250
    for bad in ("general", "nobody=3", "general=-1", "general=x"):
        with pytest.raises(UsageError):
            parse_allocation(bad)

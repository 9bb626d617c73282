"""Privacy invariant 1: register rows of residents not drawn are never stored, and the drawn
roster is encrypted at rest with a key kept outside the database and the data folder."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from survey.crypto import DecryptionError, KeyMissingError, create_key_file
from survey.db import Database
from survey.errors import UsageError
from survey.models import Draw, RosterUnit, Study
from survey.register.reader import read_register
from survey.roster import load_roster, roster_key_path
from survey.sampling.cohorts import FrameRules
from survey.sampling.draw import draw
from survey.sampling.service import commit_seed, draw_study, parse_allocation
from survey.settings import Settings, load_settings
from survey.study import create_study, frame_rules
from tests.conftest import Row

D = date(2026, 4, 1)
ALLOCATION = "infant_guardian=5,elementary_guardian=5,junior_high=5,high_school=5,general=20"


def canary_register(register_file) -> Path:  # type: ignore[no-untyped-def]
    """Households whose every personal column carries a unique canary string."""
    rows: list[Row] = []
    births = [
        date(1970, 5, 5),
        date(1972, 6, 6),
        date(2023, 5, 1),
        date(2017, 5, 1),
        date(2012, 5, 1),
        date(2009, 5, 1),
    ]
    for h in range(60):
        for m, birth in enumerate(births):
            tag = f"{h:03d}{m}"
            rows.append(
                Row(
                    resident_id=f"RIDCANARY{tag}",
                    household_id=f"HIDCANARY{h:03d}",
                    birth_date=birth.isoformat(),
                    sex="男" if m % 2 == 0 else "女",
                    name=f"金糸雀{tag}　太郎",
                    name_kana=f"カナリア{tag}",
                    # Half the addresses have no block number at all: no part of them may end up
                    # in the stored district of the aggregate counts.
                    address=f"埼玉県志木市本町{h % 6 + 1}丁目{tag}番CANARYADDR"
                    if h % 2
                    else "埼玉県志木市本町カナリア荘CANARYADDR",
                    building=f"カナリア荘{tag}号室",
                )
            )
    return register_file(rows)


def database_bytes(settings: Settings) -> bytes:
    base = settings.data_dir / "survey.sqlite3"
    return b"".join(p.read_bytes() for p in (base, Path(f"{base}-wal")) if p.exists())


@pytest.mark.sqlite_only  # the SQLite file itself
def test_database_holds_no_register_value_in_clear(
    db: Database, settings: Settings, register_file
) -> None:
    path = canary_register(register_file)
    with db.session() as session:
        study = create_study(session, "p", [("as_of", D.isoformat())])
        draw_study(session, settings, study, path, D, parse_allocation(ALLOCATION))
    raw = database_bytes(settings)
    assert raw, "database file not found"
    # (The district, 本町, is expected: the aggregate frame counts are kept by district.)
    for marker in ("RIDCANARY", "HIDCANARY", "金糸雀", "カナリア", "CANARYADDR", "志木市"):
        assert marker.encode() not in raw, marker
    # The only dates in the database are the reference date and the day of the draw: no
    # birth date of any resident (all of them are distinct from those two).
    dates = set(re.findall(rb"\d{4}-\d{2}-\d{2}", raw))
    assert dates <= {D.isoformat().encode(), date.today().isoformat().encode()}


def test_only_drawn_units_are_stored(db: Database, settings: Settings, register_file) -> None:
    path = canary_register(register_file)
    alloc = parse_allocation(ALLOCATION)
    with db.session() as session:
        study = create_study(session, "p", [("as_of", D.isoformat())])
        draw_study(session, settings, study, path, D, alloc, seed=bytes(32))
        stored = session.exec(select(RosterUnit)).all()
        draw_row = session.exec(select(Draw)).one()
        assert draw_row.id is not None
        records = load_roster(session, settings, "p", draw_row.id)
    assert len(stored) == sum(alloc.values())
    expected = draw(
        read_register(path, draw_row.settings["districts"]).persons,
        FrameRules(as_of=D),
        alloc,
        draw_row.settings["draw_order"],
        bytes(32),
    )
    assert sorted(r.resident_id for r in records) == sorted(
        u.person.resident_id for u in expected.units
    )


def _candidate_seeds(database: Path) -> set[bytes]:
    """Every value in every column of a database copy that could be a 256-bit seed."""
    found: set[bytes] = set()
    with sqlite3.connect(database) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            # Table names come from the copy's own schema, not from input.
            for row in con.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                for value in row:
                    if isinstance(value, bytes) and len(value) == 32:
                        found.add(value)
                    elif isinstance(value, str):
                        for text in re.findall(r"[0-9a-fA-F]{64}", value):
                            found.add(bytes.fromhex(text))
    return found


@pytest.mark.sqlite_only  # the SQLite file itself
def test_a_copy_of_the_database_and_the_register_do_not_rebuild_the_sample(
    db: Database, settings: Settings, register_file, tmp_path: Path
) -> None:
    """The attack: the city always holds the register; whoever also gets a copy of the
    database (a backup, a stolen disk) must not learn who was sampled, or deleting the roster
    key would erase nothing. The seed therefore lives only under the roster key."""
    path = canary_register(register_file)
    with db.session() as session:
        study = create_study(session, "p", [("as_of", D.isoformat())])
        commit_seed(session, settings, study)  # a commitment holds a seed as well
    with db.session() as session:
        study = session.exec(select(Study)).one()
        draw_study(session, settings, study, path, D, parse_allocation(ALLOCATION), committed=True)
    db.dispose()  # the copy is taken of the files at rest
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("survey.sqlite3", "survey.sqlite3-wal"):
        if (settings.data_dir / name).exists():
            shutil.copy(settings.data_dir / name, copy / name)
    with sqlite3.connect(copy / "survey.sqlite3") as con:
        as_of, allocation, recorded, selection = con.execute(
            "SELECT as_of, allocation, settings, selection_sha256 FROM draw"
        ).fetchone()
    values, alloc, d = json.loads(recorded), json.loads(allocation), date.fromisoformat(as_of)
    persons = read_register(path, values["districts"]).persons
    candidates = _candidate_seeds(copy / "survey.sqlite3")
    assert candidates  # the hashes in clear are tried too, so the search is not empty
    rebuilt = [
        seed
        for seed in candidates
        if draw(persons, frame_rules(values, d), alloc, values["draw_order"], seed).selection_sha256
        == selection
    ]
    assert rebuilt == [], "the database alone (with the register) rebuilds the sample"


def test_roster_is_unreadable_without_its_key(
    db: Database, settings: Settings, register_file
) -> None:
    path = canary_register(register_file)
    with db.session() as session:
        study = create_study(session, "p", [("as_of", D.isoformat())])
        draw_study(session, settings, study, path, D, parse_allocation(ALLOCATION))
        draw_id = session.exec(select(Draw)).one().id
        assert draw_id is not None
        key_path = roster_key_path(settings, "p")
        assert key_path.stat().st_mode & 0o077 == 0  # owner-only
        assert settings.data_dir not in key_path.parents
        key_path.unlink()  # crypto-erasure
        with pytest.raises(KeyMissingError):
            load_roster(session, settings, "p", draw_id)
        create_key_file(key_path)  # a different key
        with pytest.raises(DecryptionError):
            load_roster(session, settings, "p", draw_id)


def test_roster_ciphertexts_do_not_reveal_name_lengths(
    db: Database, settings: Settings, register_file
) -> None:
    short = Row("1", "H1", "1980-01-01", name="林　一")
    long = Row(
        "2",
        "H2",
        "1980-01-01",
        name="勅使河原　" + "寿限無" * 5,
        name_kana="テシガワラ" * 5,
        address="埼玉県志木市本町" + "一" * 40,
        building="ライオンズマンション" * 4,
    )
    path = register_file([short, long])
    with db.session() as session:
        study = create_study(session, "p", [("as_of", D.isoformat())])
        draw_study(session, settings, study, path, D, parse_allocation("general=2"))
        sizes = {len(u.sealed) for u in session.exec(select(RosterUnit)).all()}
    assert len(sizes) == 1


def test_key_folder_must_be_outside_the_data_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        load_settings({"SURVEY_DATA_DIR": str(tmp_path), "SURVEY_KEY_DIR": str(tmp_path / "keys")})
    with pytest.raises(UsageError):
        load_settings({"SURVEY_DATA_DIR": str(tmp_path), "SURVEY_KEY_DIR": str(tmp_path)})
    ok = load_settings(
        {"SURVEY_DATA_DIR": str(tmp_path / "var"), "SURVEY_KEY_DIR": str(tmp_path / "keys")}
    )
    assert ok.key_dir == (tmp_path / "keys").resolve()

"""Tracked files: a kind outside the list is refused, also under ``python -O``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from survey.db import Database
from survey.files import KINDS, track
from survey.models import TrackedFile
from survey.study import create_study

SCRIPT = """
import sys
from pathlib import Path
from survey.db import Database
from survey.files import track
from survey.settings import load_settings
from survey.study import create_study

assert False, "asserts are stripped: this line must not stop the script"
db = Database(load_settings())
with db.session() as session:
    study = create_study(session, "s", [("as_of", "2026-04-01")])
    path = Path(sys.argv[1])
    path.write_text("x")
    try:
        track(session, study, "not_a_kind", path)
    except ValueError as exc:
        print("refused:", exc)
    else:
        print("tracked")
"""


def test_an_unknown_kind_is_refused(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("x")
    with db.session() as session:
        study = create_study(session, "s", [("as_of", "2026-04-01")])
        with pytest.raises(ValueError, match="not_a_kind"):
            track(session, study, "not_a_kind", path)
        assert session.exec(select(TrackedFile)).all() == []
        assert track(session, study, "draw_seed", path).kind == "draw_seed"
    assert "draw_seed" in KINDS


def test_the_check_survives_python_O(env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-O", "-c", SCRIPT, str(tmp_path / "f.txt")],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused:"), result.stdout

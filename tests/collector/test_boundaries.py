"""The trust boundary as a test: the public collector's real entry point loads nothing of the
office side. A fresh interpreter runs the ``survey-collector`` console script, and builds the
app the way its server workers do; the test reads what got loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FORBIDDEN = [
    "survey.decrypt",  # opening the roster, the study private key, sealed answers
    "survey.roster",
    "survey.register",
    "survey.sampling",
    "mailing",
    "survey.analysis",
    "survey.accounts",
    "survey.web.office",
    # The office's tables and services: the collector has tables of its own.
    "survey.models",
    "survey.audit",
    "survey.study",
    "survey.keys",
    "survey.access_codes",
    "survey.files",
    "survey.fieldwork",
    "survey.ingest",
    "survey.cli.common",
    "survey.simulate",
]
SCRIPT = Path(sys.executable).parent / "survey-collector"
DUMP = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: print('MODULES=' + json.dumps(sorted(sys.modules)), "
    "file=sys.stderr))\n"
)


def forbidden(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]


def loaded(code: str, env: dict[str, str] | None = None) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", DUMP + code],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    line = next(x for x in out.stderr.splitlines() if x.startswith("MODULES="))
    modules: list[str] = json.loads(line.removeprefix("MODULES="))
    return modules


def collector_env(tmp_path: Path) -> dict[str, str]:
    return {
        "SURVEY_DATA_DIR": str(tmp_path / "var"),
        "SURVEY_KEY_DIR": str(tmp_path / "keys"),
        "SURVEY_DATABASE_URL": "",
        "SURVEY_STUDY": "",
    }


def test_the_console_script_loads_nothing_of_the_office(tmp_path: Path) -> None:
    assert SCRIPT.exists(), "make install puts survey-collector beside python"
    env = collector_env(tmp_path)
    for argv in (["--help"], ["db", "upgrade"], ["bundle", "export", "--help"]):
        code = (
            "import runpy, sys\n"
            f"sys.argv = [{str(SCRIPT)!r}, *{argv!r}]\n"
            f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
        )
        modules = loaded(code, env)
        assert "survey.collector.cli" in modules  # the entry point ran
        assert forbidden(modules) == [], argv


def test_building_the_served_app_loads_nothing_of_the_office(tmp_path: Path) -> None:
    env = collector_env(tmp_path)
    subprocess.run([str(SCRIPT), "db", "upgrade"], env={**os.environ, **env}, check=True)
    code = (
        "from survey.web.serve import collector_factory\n"
        "app = collector_factory()\n"
        "assert app.collector is not None and app.office is None\n"
    )
    modules = loaded(code, env)
    assert "survey.web.collector.app" in modules and "survey.collector.intake" in modules
    assert forbidden(modules) == []


def test_the_check_would_catch_a_forbidden_import() -> None:
    modules = loaded("import survey.roster")
    assert "survey.decrypt" in forbidden(modules)  # roster needs decryption
    office = loaded("from survey.web.serve import both_factory")
    assert forbidden(office) == []  # importing the module is not building the office app

"""Shared fixtures: isolated data and key folders, a database, register files, the CLI."""

from __future__ import annotations

import base64
import csv
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from survey.cli.main import cli
from survey.collector.cli import cli as collector_cli
from survey.collector.intake import Intake
from survey.db import BOTH, Database, make_engine, upgrade
from survey.register.reader import COLUMNS
from survey.settings import Settings, load_settings
from tests.helpers import STUDY_PUBLIC_KEY
from tests.pgcluster import cluster, new_database, pg_binaries

HEADERS_JA = [ja for ja, _ in COLUMNS.values()]


def require_program(name: str, found: bool) -> None:
    """Skip when an outside program is missing, but fail under CI (it must be installed)."""
    if found:
        return
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{name} is required under CI but is not installed")
    pytest.skip(f"{name} not installed")


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first (stable otherwise): with pytest-xdist's work stealing the short
    ones then fill both workers to the end, instead of one worker finishing a six-minute test
    alone while the other is idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that touches the database (through ``env``) runs on SQLite and on the
    throwaway PostgreSQL cluster; ``@pytest.mark.sqlite_only`` keeps a test that inspects the
    SQLite file itself (or its pragmas) to SQLite."""
    if "database_backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("database_backend", ["sqlite"] if only else BACKENDS, indirect=True)


@pytest.fixture
def database_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def folders_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Isolated data and key folders; the database is SQLite in the data folder."""
    values = {
        "SURVEY_DATA_DIR": str(tmp_path / "var"),
        "SURVEY_KEY_DIR": str(tmp_path / "keys"),
    }
    for key in ("SURVEY_DATABASE_URL", "SURVEY_STUDY", "SURVEY_TRUSTED_PROXIES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def env(
    folders_env: dict[str, str],
    database_backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Isolated folders and a database: SQLite, or a fresh migrated PostgreSQL database
    (``@pytest.mark.empty_database``: one without tables, to build an old schema in)."""
    if database_backend == "postgresql":
        empty = request.node.get_closest_marker("empty_database") is not None
        template = None if empty else str(request.getfixturevalue("pg_template"))
        url = new_pg_database(request.getfixturevalue("postgres_server"), template)
        monkeypatch.setenv("SURVEY_DATABASE_URL", url)
        folders_env["SURVEY_DATABASE_URL"] = url
    return folders_env


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@dataclass
class Row:
    """One register row; defaults make a valid adult."""

    resident_id: str
    household_id: str
    birth_date: str
    sex: str = "男"
    name: str = "志木　太郎"
    name_kana: str = "シキ　タロウ"
    relation: str = "世帯主"
    postal_code: str = "353-0004"
    address: str = "埼玉県志木市本町1丁目1番1号"
    building: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def cells(self) -> list[str]:
        return [
            self.resident_id,
            self.household_id,
            self.name,
            self.name_kana,
            self.birth_date,
            self.sex,
            self.relation,
            self.postal_code,
            self.address,
            self.building,
        ]


def write_rows(
    path: Path,
    rows: Sequence[Row | Sequence[str]],
    encoding: str = "utf-8",
    headers: Sequence[str] = HEADERS_JA,
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow(row.cells() if isinstance(row, Row) else row)
    return path


@pytest.fixture
def register_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: ``register_file(rows, encoding="utf-8", name="register.csv")``."""
    counter = iter(range(1_000_000))

    def make(
        rows: Sequence[Row | Sequence[str]],
        encoding: str = "utf-8",
        name: str | None = None,
        headers: Sequence[str] = HEADERS_JA,
    ) -> Path:
        return write_rows(
            tmp_path / (name or f"register-{next(counter)}.csv"), rows, encoding, headers
        )

    return make


@pytest.fixture
def synth_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic city (6,000 people), written once per test session."""
    return _synth(tmp_path_factory, 6000, "cp932")


_SYNTH_CACHE: dict[tuple[int, str], Path] = {}


def _synth(factory: pytest.TempPathFactory, people: int, encoding: str) -> Path:
    from survey.register.synth import write_register

    key = (people, encoding)
    if key not in _SYNTH_CACHE:
        path = factory.mktemp("synth") / f"register-{people}-{encoding}.csv"
        write_register(path, people=people, seed=7, encoding=encoding)
        _SYNTH_CACHE[key] = path
    return _SYNTH_CACHE[key]


@pytest.fixture
def run(env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run the ``survey`` CLI in-process; returns click's Result (stdout and stderr apart)."""

    def invoke(
        *args: str, extra_env: Mapping[str, str] | None = None, input: str | None = None
    ) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli, list(args), env={**env, **(extra_env or {})}, input=input, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def run_collector(env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run the ``survey-collector`` CLI in-process; returns click's Result."""

    def invoke(*args: str, extra_env: Mapping[str, str] | None = None) -> Result:
        return CliRunner().invoke(
            collector_cli, list(args), env={**env, **(extra_env or {})}, catch_exceptions=False
        )

    return invoke


PUBLIC_URL = "https://survey.city.example.jp"
SMALL_ALLOCATION = (
    "infant_guardian=20,elementary_guardian=20,junior_high=20,high_school=20,general=50"
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session; yields its base URL (no database)."""
    bindir = pg_binaries()
    require_program("PostgreSQL server (initdb, pg_ctl)", bindir is not None)
    assert bindir is not None
    with cluster(bindir) as url:
        yield url


def new_pg_database(postgres_server: str, template: str | None = None) -> str:
    return new_database(postgres_server, template)


@pytest.fixture(scope="session")
def pg_template(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once per session (as its owner would, `survey db upgrade`), copied
    for each test: CREATE DATABASE ... TEMPLATE is far quicker than migrating each time."""
    name = new_pg_database(postgres_server).rsplit("/", 1)[1]
    folder = tmp_path_factory.mktemp("pg-template")
    settings = load_settings(
        {
            "SURVEY_DATA_DIR": str(folder / "var"),
            "SURVEY_KEY_DIR": str(folder / "keys"),
            "SURVEY_DATABASE_URL": f"{postgres_server}/{name}",
        }
    )
    engine = make_engine(settings)
    for schema in BOTH:
        upgrade(engine, schema, settings)
    engine.dispose()
    return name


@pytest.fixture
def pg_bare_env(
    postgres_server: str, folders_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Isolated folders and a fresh, empty PostgreSQL database (no tables yet)."""
    url = new_pg_database(postgres_server)
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    folders_env["SURVEY_DATABASE_URL"] = url
    return folders_env


@pytest.fixture
def pg_env(pg_bare_env: dict[str, str]) -> dict[str, str]:
    """``env`` pointing at a fresh PostgreSQL database, upgraded as its owner would
    (``survey db upgrade``: commands and servers on PostgreSQL never migrate by themselves)."""
    engine = make_engine(load_settings(pg_bare_env))
    for schema in BOTH:
        upgrade(engine, schema)
    engine.dispose()
    return pg_bare_env


@pytest.fixture
def drawn(run, synth_register: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A study drawn from the small synthetic city, with the test study public key installed."""
    monkeypatch.setenv("SURVEY_PUBLIC_URL", PUBLIC_URL)
    result = run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        SMALL_ALLOCATION,
        "--seed",
        "cd" * 32,
    )
    assert result.exit_code == 0, result.stderr
    public = base64.b64encode(STUDY_PUBLIC_KEY).decode()
    assert run("keys", "set-public", public).exit_code == 0
    return run


@dataclass
class Issued:
    """Codes by cohort (plaintext, as the print CSV has them), the database and settings."""

    codes: dict[str, list[str]]
    db: Database
    settings: Settings
    study: str = "default"


@pytest.fixture
def issued(drawn, tmp_path: Path) -> Iterator[Issued]:  # type: ignore[no-untyped-def]
    """Codes issued, and the collector installed in the same database (one-process mode)."""
    out = tmp_path / "codes.csv"
    result = drawn("codes", "--out", str(tmp_path / "slips.pdf"), "--csv", str(out))
    assert result.exit_code == 0, result.stderr
    result = drawn("collector", "install")
    assert result.exit_code == 0, result.stderr
    codes: dict[str, list[str]] = {}
    with out.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            codes.setdefault(row["cohort"], []).append(row["code"])
    settings = load_settings()
    db = Database(settings)
    yield Issued(codes, db, settings)
    db.dispose()


@pytest.fixture
def intake(issued: Issued) -> Intake:
    return Intake(issued.db.engine, issued.settings, issued.study)

"""``survey-collector``: the public collector's own front door.

Its import closure is the collector and the shared core only (tests/collector/
test_boundaries.py runs it): ``serve``, ``import FILE``, ``bundle export``, ``db upgrade``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlmodel import select

import survey
from survey.cli.base import SurveyGroup, emit_json, json_option
from survey.collector.export import compact_storage, export_bundle, pending_count
from survey.collector.install import import_provision, read_provision
from survey.collector.models import CollectorStudy
from survey.db import Database, make_engine, upgrade
from survey.errors import UsageError
from survey.settings import Settings, load_settings

SCHEMA = ("collector",)
out_file = click.Path(dir_okay=False, path_type=Path)
in_file = click.Path(dir_okay=False, exists=True, path_type=Path)


def _database(settings: Settings) -> Database:
    return Database(settings, SCHEMA)


@click.group(cls=SurveyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(survey.__version__, prog_name="survey-collector")
def cli() -> None:
    """公開側の回収サーバー. The public collector (web form and intake).

    \b
    設定 (environment):
      SURVEY_DATA_DIR, SURVEY_KEY_DIR, SURVEY_DATABASE_URL  as for `survey`
      SURVEY_STUDY            serve this study (default: the one installed with codes)
      SURVEY_TRUSTED_PROXIES  reverse proxies whose X-Forwarded-For is believed
      SURVEY_UNKNOWN_CODE_LIMIT, SURVEY_OPENAPI, SURVEY_BUSY_TIMEOUT_MS
    """


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="待ち受けるアドレス. Host.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="ワーカー数（既定: CPUコア数）. Worker processes (default: one per core).",
)
def serve(host: str, port: int, workers: int | None) -> None:
    """回答画面と受付APIを起動します. Serve the public form and the intake API.

    Keeps no access log and stores nothing about a client. Refuses to start unless the
    collector's tables are current (`survey-collector db upgrade`).
    """
    from survey.web.serve import run

    settings = load_settings()
    count = workers or os.cpu_count() or 1
    click.echo(
        f"http://{host}:{port}/ （{count} workers; Ctrl+C で停止 / Ctrl+C to stop）", err=True
    )
    run(settings, "collector", host, port, count)
    click.echo("停止しました。 / Stopped.", err=True)


@cli.command("import")
@click.argument("file", type=in_file)
@json_option
def import_(file: Path, as_json: bool) -> None:
    """事務所の回収サーバー用ファイルを取り込みます. Install (or update) a study from FILE.

    Prints the collector's bundle-signing public key, to be trusted on the office with
    `survey bundle trust KEY`.
    """
    doc = read_provision(file.read_bytes())
    database = _database(load_settings())
    with database.session() as session:
        result = import_provision(session, database.settings, doc)
    database.dispose()
    if as_json:
        emit_json(result.as_json())
        return
    state = "設定しました / installed" if result.created else "更新しました / updated"
    click.echo(
        f"調査 {result.study}: {state}（新しいコード {result.codes_added:,} 件、"
        f"使用済みに更新 {result.codes_marked_used:,} 件）"
    )
    click.echo("束の署名鍵（事務所で survey bundle trust に渡してください）:")
    click.echo(f"  {result.signing_public_key}")
    click.echo(f"  指紋 fingerprint: {result.signing_fingerprint}")


@cli.group("bundle")
def bundle() -> None:
    """回答の束（回収サーバー → 事務所）. Export bundles of sealed answers."""


def resolve_installed(database: Database, name: str | None) -> str:
    """The named study, else SURVEY_STUDY, else the only one installed."""
    name = name or database.settings.study
    with database.session(write=False) as session:
        names = list(session.exec(select(CollectorStudy.name).order_by(CollectorStudy.name)))
    if name is not None:
        if name not in names:
            raise UsageError(
                f"調査 {name} はこの回収サーバーにありません。",
                f"Study {name!r} is not installed here.",
            )
        return name
    if len(names) != 1:
        raise UsageError(
            "調査を --study で指定してください（" + (", ".join(names) or "未設定") + "）。",
            "Choose the study with --study (installed: " + (", ".join(names) or "none") + ").",
        )
    return names[0]


@bundle.command("export")
@click.option("--out", type=out_file, required=True, help="束のファイル. Output file.")
@click.option("--again", type=click.IntRange(1), default=None, metavar="N", help="束 N を作り直す.")
@click.option("--study", "study_name", metavar="NAME", default=None, help="調査名. Study.")
@json_option
def bundle_export(out: Path, again: int | None, study_name: str | None, as_json: bool) -> None:
    """まだ書き出していない回答を署名付きの束にします.

    Write the sealed answers not yet exported as a signed bundle. `--again N` writes
    bundle N once more, byte for byte (a lost file). The database is compacted afterwards.
    """
    database = _database(load_settings())
    study = resolve_installed(database, study_name)
    with database.session() as session:
        result = export_bundle(session, database.settings, study, out.resolve(), again)
        left = pending_count(session, study)
    if result is not None and again is None:
        compact_storage(database.engine)  # the file no longer shows the order answers came in
    database.dispose()
    if result is None:
        if as_json:
            emit_json({"study": study, "records": 0, "file": None, "pending": left})
        else:
            click.echo("新しい回答はありません（ファイルは作りません）。 No new answers.")
        return
    if as_json:
        emit_json({**result.as_json(), "pending": left})
        return
    click.echo(f"束 {result.sequence}: 回答 {result.records:,} 件 → {result.path}")
    click.echo(f"SHA-256 {result.sha256}  (前 previous {result.previous[:16]}…)")
    click.echo(f"署名鍵の指紋 signer: {result.signer}")


@cli.group("db")
def db() -> None:
    """データベース. The collector's database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """回収サーバーの表を最新にします（DBの所有者として）. Migrate the collector's tables.

    Run as the database owner before starting (or after updating) the servers: they never
    migrate the schema themselves.
    """
    settings = load_settings()
    engine = make_engine(settings)
    upgrade(engine, "collector", settings)
    engine.dispose()
    click.echo("回収サーバーの表は最新です。 The collector's tables are current.")


def main() -> None:
    cli.main(prog_name="survey-collector")

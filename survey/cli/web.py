"""``survey serve``, ``survey db``, ``survey collector``, ``survey bundle``: the web side.

A separate collector host uses its own command, ``survey-collector`` (survey.collector.cli);
the collector-side commands kept here (``collector import``, ``bundle export``) run the very
same code, for one-process installations that hold both sides in one database.
"""

from __future__ import annotations

import base64
from pathlib import Path

import click

from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, pass_app, study_option
from survey.cli.links import print_links
from survey.collector import cli as collector_cli
from survey.db import BOTH, make_engine, upgrade
from survey.errors import DataError
from survey.ingest.bundle_import import ImportReport, import_bundle
from survey.ingest.provision import (
    export_provision,
    install_local,
    trust_collector,
    write_provision,
)
from survey.study import resolve_study

out_file = click.Path(dir_okay=False, path_type=Path)
in_file = click.Path(dir_okay=False, exists=True, path_type=Path)


@click.command("serve")
@click.option(
    "--app",
    "which",
    type=click.Choice(["both", "collector", "office"]),
    default="both",
    show_default=True,
    help="起動する画面. both: 回収（公開）と事務所 (/office) を同じポートで.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="待ち受けるアドレス. Host.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@pass_app
def serve(app: AppContext, which: str, host: str, port: int, workers: int) -> None:
    """Web 画面を起動します. Serve the public collector and/or the office app.

    The collector keeps no access log and stores nothing about a client. A separate
    collector host runs `survey-collector serve`. Refuses to start unless the schema is
    current (`survey db upgrade`).
    """
    from survey.web.serve import run

    def ready() -> None:
        print_links(host, port, which)
        click.echo("（Ctrl+C で停止 / Ctrl+C to stop）", err=True)

    run(app.settings, which, host, port, workers, ready)  # type: ignore[arg-type]
    click.echo("停止しました。 / Stopped.", err=True)


@click.group("db")
def db_group() -> None:
    """データベース. The database."""


@db_group.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """表を最新にします（DBの所有者として）. Migrate the office's and collector's tables.

    Run as the database owner before starting (or after updating) the servers, which never
    migrate the schema themselves. The office's database holds the collector's tables too
    (empty unless the collector runs in the same process: `survey collector install`).
    """
    engine = make_engine(app.settings)
    for schema in BOTH:
        upgrade(engine, schema, app.settings)
    engine.dispose()
    click.echo("表は最新です。 The tables are current.")


@click.group("collector")
def collector_group() -> None:
    """回収サーバーの準備. Provision the collector (separate host or this database)."""


@collector_group.command("export")
@click.option("--out", type=out_file, required=True, help="回収サーバー用ファイル. Output file.")
@click.option(
    "--update",
    is_flag=True,
    help="設定済みの回収サーバー向け（鍵なし）. For an installed collector: no key.",
)
@study_option
@json_option
@pass_app
def collector_export(
    app: AppContext, out: Path, update: bool, study_name: str | None, as_json: bool
) -> None:
    """回収サーバーに必要なものだけを書き出します（事務所側）. Write what a collector needs.

    The full file holds the code-hash key: carry it like the study key, never by email.
    `--update` leaves the key out: it carries new codes, codes used on paper and changed
    settings to a collector installed already. Install either with `survey-collector import`.
    """
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        doc = export_provision(session, app.settings, study, update)
        write_provision(out.resolve(), doc)
        used = sum(1 for c in doc["codes"] if c["used"])
        app.audit(
            session,
            "file.collector_export",
            {"study": study.name, "file": str(out.resolve()), "codes": len(doc["codes"]),
             "update": update},
        )  # fmt: skip
    figures = {
        "study": study.name,
        "codes": len(doc["codes"]),
        "used": used,
        "update": update,
        "file": str(out.resolve()),
    }
    if as_json:
        emit_json(figures)
    else:
        click.echo(f"{study.name}: コード {figures['codes']:,} 件（使用済み {used:,}）→ {out}")
        if not update:
            click.echo("（コード用の鍵を含みます。調査鍵と同じように運んでください）", err=True)


@collector_group.command("install")
@study_option
@json_option
@pass_app
def collector_install(app: AppContext, study_name: str | None, as_json: bool) -> None:
    """この DB の回収用の表に調査を設定します（1プロセス構成）. Install the study here.

    For `survey serve --app both` (demo, small sites): the collector's tables in this
    database get what a collector file would carry, and its signing key is trusted. Later
    changes (new codes, public settings) are carried over automatically.
    """
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        result = install_local(session, app.settings, study)
        app.audit(session, "collector.install", {"study": study.name, **result.as_json()})
    if as_json:
        emit_json(result.as_json())
    else:
        click.echo(
            f"調査 {result.study}: この DB の回収サーバーに設定しました（コード "
            f"{result.codes_added:,} 件）。 Installed for the collector in this database."
        )


@collector_group.command("import")
@click.argument("file", type=in_file)
@json_option
@click.pass_context
def collector_import(ctx: click.Context, file: Path, as_json: bool) -> None:
    """回収サーバーで調査を設定します（survey-collector import と同じ）. Install FILE here."""
    ctx.invoke(collector_cli.import_, file=file, as_json=as_json)


@click.group("bundle")
def bundle_group() -> None:
    """回答の束（回収サーバー → 事務所）. Export bundles of sealed answers."""


@bundle_group.command("export")
@click.option("--out", type=out_file, required=True, help="束のファイル. Output file.")
@click.option("--again", type=click.IntRange(1), default=None, metavar="N", help="束 N を作り直す.")
@study_option
@json_option
@click.pass_context
def bundle_export(
    ctx: click.Context, out: Path, again: int | None, study_name: str | None, as_json: bool
) -> None:
    """回収サーバーの回答を束にします（survey-collector bundle export と同じ）."""
    ctx.invoke(
        collector_cli.bundle_export, out=out, again=again, study_name=study_name, as_json=as_json
    )


@bundle_group.command("trust")
@click.argument("key")
@study_option
@json_option
@pass_app
def bundle_trust(app: AppContext, key: str, study_name: str | None, as_json: bool) -> None:
    """回収サーバーの署名鍵 KEY を信頼します（事務所側）. Trust a collector's signing key."""
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        row = trust_collector(session, study, key)
        app.audit(session, "bundle.trust", {"study": study.name, "fingerprint": row.fingerprint})
    data = {
        "study": study.name,
        "public_key": base64.b64encode(row.public_key).decode(),
        "fingerprint": row.fingerprint,
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(f"調査 {study.name}: 信頼する回収サーバーの鍵 {row.fingerprint}")


@bundle_group.command("import")
@click.argument("files", type=in_file, nargs=-1, required=True)
@study_option
@json_option
@pass_app
def bundle_import(
    app: AppContext, files: tuple[Path, ...], study_name: str | None, as_json: bool
) -> None:
    """回答の束を取り込みます（事務所側）. Import bundles of sealed answers, in order.

    Each file is checked (trusted signer, signature, the chain) and imported in its own
    transaction; the first refused file stops the run (nothing of it is stored).
    """
    app.actor()
    reports: list[ImportReport] = []
    for path in files:
        data = path.read_bytes()
        with app.db.session() as session:
            study = resolve_study(session, study_name or app.settings.study)
            try:
                report = import_bundle(session, study, data)
            except DataError as exc:
                raise DataError(f"{path.name}: {exc.ja}", f"{path.name}: {exc.en}") from exc
            if not report.already:
                app.audit(session, "bundle.import", {**report.as_json(), "file": path.name})
        reports.append(report)
        if not as_json:
            if report.already:
                click.echo(
                    f"{path.name}: 束 {report.sequence} は取り込み済みです（変更なし）。"
                    f" Already imported; nothing changed."
                )
            else:
                click.echo(
                    f"{path.name}: 束 {report.sequence}（{report.collector}）"
                    f" 回答 {report.records:,} 件、新規 {report.added:,} 件"
                )
    if as_json:
        emit_json([r.as_json() for r in reports])

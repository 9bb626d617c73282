"""``survey serve``, ``survey collector``, ``survey bundle``: the web side and its files."""

from __future__ import annotations

import base64
from pathlib import Path

import click

from survey.cli.common import AppContext, emit_json, json_option, pass_app, study_option
from survey.ingest.bundles import compact_storage, export_bundle, pending_count
from survey.ingest.provision import (
    export_provision,
    import_provision,
    read_provision,
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
@pass_app
def serve(app: AppContext, which: str, host: str, port: int) -> None:
    """Web 画面を起動します. Serve the public collector and/or the office app.

    The collector keeps no access log and stores nothing about a client.
    """
    from survey.web.serve import run

    click.echo(f"http://{host}:{port}/ （Ctrl+C で停止 / Ctrl+C to stop）", err=True)
    run(app.settings, app.db.engine, which, host, port)  # type: ignore[arg-type]
    click.echo("停止しました。 / Stopped.", err=True)


@click.group("collector")
def collector_group() -> None:
    """別サーバーの回収システムの準備. Provision a separate collector."""


@collector_group.command("export")
@click.option("--out", type=out_file, required=True, help="回収サーバー用ファイル. Output file.")
@study_option
@json_option
@pass_app
def collector_export(app: AppContext, out: Path, study_name: str | None, as_json: bool) -> None:
    """回収サーバーに必要なものだけを書き出します（事務所側）. Write what a collector needs.

    The file holds the code-hash key: carry it like the study key, never by email.
    """
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        doc = export_provision(session, app.settings, study)
        write_provision(out.resolve(), doc)
        app.audit(
            session,
            "file.collector_export",
            {"study": study.name, "file": str(out.resolve()), "codes": len(doc["codes"])},
        )
    figures = {"study": study.name, "codes": len(doc["codes"]), "file": str(out.resolve())}
    if as_json:
        emit_json(figures)
    else:
        click.echo(f"{study.name}: コード {figures['codes']:,} 件 → {out}")
        click.echo("（コード用の鍵を含みます。調査鍵と同じように運んでください）", err=True)


@collector_group.command("import")
@click.argument("file", type=in_file)
@json_option
@pass_app
def collector_import(app: AppContext, file: Path, as_json: bool) -> None:
    """回収サーバーに調査を設定し、束の署名鍵を作ります. Install FILE on this collector.

    Prints the collector's bundle-signing public key, to be trusted on the office with
    `survey bundle trust KEY`.
    """
    doc = read_provision(file.read_bytes())
    app.actor()
    with app.db.session() as session:
        result = import_provision(session, app.settings, doc)
        app.audit(session, "collector.import", result.as_json())
    if as_json:
        emit_json(result.as_json())
        return
    state = "設定しました / installed" if result.created else "更新しました / updated"
    click.echo(f"調査 {result.study}: {state}（新しいコード {result.codes_added:,} 件）")
    click.echo("束の署名鍵（事務所で survey bundle trust に渡してください）:")
    click.echo(f"  {result.signing_public_key}")
    click.echo(f"  指紋 fingerprint: {result.signing_fingerprint}")


@click.group("bundle")
def bundle_group() -> None:
    """回答の束（回収サーバー → 事務所）. Export bundles of sealed answers."""


@bundle_group.command("export")
@click.option("--out", type=out_file, required=True, help="束のファイル. Output file.")
@click.option("--again", type=click.IntRange(1), default=None, metavar="N", help="束 N を作り直す.")
@study_option
@json_option
@pass_app
def bundle_export(
    app: AppContext, out: Path, again: int | None, study_name: str | None, as_json: bool
) -> None:
    """まだ書き出していない回答を署名付きの束にします（回収サーバー側）.

    Write the sealed answers not yet exported as a signed bundle (collector side).
    `--again N` writes bundle N once more, byte for byte (a lost file).
    """
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        result = export_bundle(session, app.settings, study, out.resolve(), again)
        left = pending_count(session, study)
        if result is not None:
            app.audit(session, "file.bundle_export", result.as_json())
    if result is not None:
        compact_storage(app.db.engine)  # the file no longer shows the order answers came in
    if result is None:
        if as_json:
            emit_json({"study": study.name, "records": 0, "file": None})
        else:
            click.echo("新しい回答はありません（ファイルは作りません）。 No new answers.")
        return
    if as_json:
        emit_json({**result.as_json(), "pending": left})
        return
    click.echo(f"束 {result.sequence}: 回答 {result.records:,} 件 → {result.path}")
    click.echo(f"SHA-256 {result.sha256}  (前 previous {result.previous[:16]}…)")
    click.echo(f"署名鍵の指紋 signer: {result.signer}")


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

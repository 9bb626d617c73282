"""``survey responses`` (decryption, quarantine) and ``survey dataset`` (build, export)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session

from survey import spreadsheet
from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, StepProgress, chosen_study, pass_app, study_option
from survey.decrypt import unwrap_private_key
from survey.ingest import dataset
from survey.ingest.decryption import DecryptReport, decrypt_responses, quarantine_list
from survey.study import resolve_study

_study_name = chosen_study


@click.group("responses")
def responses_group() -> None:
    """回答の復号と保留. Decrypt the web answers the office holds."""


@responses_group.command("decrypt")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="調査の秘密鍵ファイル（この処理の間だけ使います）. The study key file.",
)
@study_option
@json_option
@pass_app
def decrypt(app: AppContext, key_file: Path, study_name: str | None, as_json: bool) -> None:
    """Web の回答を復号して回答データにします. Open the sealed web answers into responses.

    パスフレーズは SURVEY_KEY_PASSPHRASE から、なければ入力（表示しません）。The private
    key is held in memory for this run only and never written. Answers that cannot be
    accepted are kept in the quarantine with their reason (`survey responses quarantine`).
    """
    name = _study_name(app, study_name)
    passphrase = app.settings.key_passphrase or click.prompt(
        "パスフレーズ / passphrase", hide_input=True, err=True
    )
    click.echo("鍵を開いています（数秒かかります）… / opening the key…", err=True)
    key = unwrap_private_key(key_file.read_bytes(), passphrase)

    def record(session: Session, report: DecryptReport) -> None:
        app.audit(session, "responses.decrypt", report.as_json())

    bar = StepProgress()
    try:
        report = decrypt_responses(
            app.db.engine, name, key, lambda done, total: bar("復号 decrypt", done, total), record
        )
    finally:
        bar.close()
    del key
    data = report.as_json()
    if as_json:
        emit_json(data)
        return
    click.echo(f"調査 {name}: 受理 accepted {data['accepted_total']:,} 件")
    for cohort, n in sorted(data["accepted"].items()):
        click.echo(f"  {cohort}: {n:,}")
    if data["quarantined_total"]:
        click.echo(f"保留 quarantined {data['quarantined_total']:,} 件: {data['quarantined']}")
    if data["edits"]:
        click.echo(f"無効 (-8) にした回答 edits: {data['edits']:,}（編集記録に残しました）")


@responses_group.command("quarantine")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@study_option
@json_option
@pass_app
def quarantine(
    app: AppContext, csv_path: Path | None, study_name: str | None, as_json: bool
) -> None:
    """受理できなかった回答の一覧（理由付き）. List the quarantined answers and why."""
    name = _study_name(app, study_name)
    with app.db.session(write=False) as session:
        rows = quarantine_list(session, resolve_study(session, name))
    if csv_path is not None:
        if csv_path.exists():
            raise click.UsageError(f"{csv_path} already exists")
        with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = spreadsheet.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["reason"])
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("保留中の回答はありません。 Nothing is quarantined.")
    for r in rows:
        detail = f" ({r['detail']})" if r["detail"] else ""
        click.echo(
            f"{r['sealed_id']}  {r['cohort']:<20} {r['reason_ja']} / {r['reason_en']}{detail}"
        )


@click.group("dataset")
def dataset_group() -> None:
    """回答データセット（Web と紙を1つに）. The dataset, one row per accepted response."""


@dataset_group.command("build")
@study_option
@json_option
@pass_app
def build(app: AppContext, study_name: str | None, as_json: bool) -> None:
    """データセットを組み立てて記録します. Build the dataset and record its digest."""
    name = _study_name(app, study_name)

    def record(session: Session, report: dataset.DatasetReport) -> None:
        app.audit(session, "dataset.build", report.as_json())

    report = dataset.build(app.db.engine, name, record)
    if as_json:
        emit_json(report.as_json())
        return
    click.echo(f"調査 {name}: {report.rows:,} 行 × {report.columns} 列（SHA-256 {report.sha256}）")
    for cohort, channels in report.counts.items():
        click.echo(f"  {cohort}: " + ", ".join(f"{c} {n:,}" for c, n in channels.items()))


@dataset_group.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--weights",
    is_flag=True,
    help="重み weight と層の母集団 fpc の列を加えます. Add the design weight and fpc columns.",
)
@study_option
@json_option
@pass_app
def export(
    app: AppContext, out: Path, weights: bool, study_name: str | None, as_json: bool
) -> None:
    """最後に作成したデータセットを書き出します（.csv か .parquet）. Export the last build.

    CSV: UTF-8 with BOM, one header row. Free text is never exported: only whether each
    free-text item was answered. --weights adds ``weight`` (the design weight w_h) and
    ``fpc`` (N'_h, the cohort's population) for weighting in R, SPSS or pandas.
    """
    name = _study_name(app, study_name)

    def record(session: Session, report: dataset.DatasetReport) -> None:
        app.audit(session, "file.dataset", {**report.as_json(), "file": str(out.resolve())})

    report = dataset.export(app.db.engine, name, out, record, weights=weights)
    if as_json:
        emit_json({**report.as_json(), "file": str(out.resolve())})
    else:
        click.echo(f"{out}: {report.rows:,} 行 × {report.columns} 列")

"""``survey report --out FILE.pdf [--assets DIR] [--study NAME] [--json]``: the published survey
report; with ``--assets``, its tables as XLSX and its charts as PNG in a folder."""

from __future__ import annotations

from pathlib import Path

import click

from survey.analysis.report.build import build, gather
from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, StepProgress, pass_app, study_option
from survey.study import resolve_study


@click.command("report")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--assets",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="表（XLSX）とグラフ（PNG）も書くフォルダ / also write the tables and charts here",
)
@study_option
@json_option
@pass_app
def report(
    app: AppContext, out: Path, assets: Path | None, study_name: str | None, as_json: bool
) -> None:
    """調査報告書（PDF）を作ります. Write the published report: the design, the results
    (suppressed for publication, as `survey analyze`), the questionnaires and the simple
    tabulation; with --assets, the same tables (XLSX) and charts (PNG) in a folder."""
    app.actor()
    with app.db.session(write=False) as session:
        study = resolve_study(session, study_name or app.settings.study)
        ctx = gather(session, study, app.settings.public_url or "")
    progress = StepProgress()
    try:
        summary = build(ctx, out, progress, assets)
    finally:
        progress.close()
    with app.db.session() as session:
        app.audit(session, "file.report", summary)
    if as_json:
        emit_json(summary)
        return
    click.echo(
        f"調査 {summary['study']}: 報告書 {summary['report_pages']} ページ + 付録（調査票）"
        f" {summary['appendix_pages']} ページ"
    )
    click.echo(f"→ {out}")
    if assets is not None:
        click.echo(f"→ {assets}/（表 XLSX・グラフ PNG {len(summary['assets'])} ファイル）")

"""``survey report --out FILE.pdf [--study NAME] [--json]``: the published survey report."""

from __future__ import annotations

from pathlib import Path

import click

from survey.analysis.report.build import build, gather
from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, StepProgress, pass_app, study_option
from survey.study import resolve_study


@click.command("report")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@study_option
@json_option
@pass_app
def report(app: AppContext, out: Path, study_name: str | None, as_json: bool) -> None:
    """調査報告書（PDF）を作ります. Write the published report: the design, the results
    (suppressed for publication, as `survey analyze`) and the questionnaires."""
    app.actor()
    with app.db.session(write=False) as session:
        study = resolve_study(session, study_name or app.settings.study)
        ctx = gather(session, study, app.settings.public_url or "")
    progress = StepProgress()
    try:
        summary = build(ctx, out, progress)
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

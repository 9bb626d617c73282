"""``survey analyze --out DIR [--json]``: tables, disclosure control and exports."""

from __future__ import annotations

from pathlib import Path

import click

from survey.analysis import inputs as analysis_inputs
from survey.analysis.run import analyze as run_analyze
from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, StepProgress, pass_app, study_option
from survey.study import resolve_study

# The files of `survey analyze` that hold respondents' rows (the tables are aggregates).
ROW_FILES = ("dataset.sav", "microdata.csv", "microdata.sav")


@click.command("analyze")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@study_option
@json_option
@pass_app
def analyze(app: AppContext, out: Path, study_name: str | None, as_json: bool) -> None:
    """集計表（CSV・XLSX）、秘匿処理、SPSS・コードブックを書き出します. Write every table
    (suppressed for publication), the SPSS file and the codebook into DIR."""
    app.actor()
    with app.db.session(write=False) as session:
        study = resolve_study(session, study_name or app.settings.study)
        data = analysis_inputs.load(session, study)
    progress = StepProgress()
    try:
        summary = run_analyze(data, out, progress)
    finally:
        progress.close()
    with app.db.session() as session:
        # Only the files holding respondents' rows are named: an erasure of the answers lists
        # them as copies out of its reach (the tables are aggregates, published or not).
        detail = {k: v for k, v in summary.items() if k != "files"}
        detail["files"] = [f for f in summary["files"] if Path(f).name in ROW_FILES]
        app.audit(session, "file.analysis", detail)
    if as_json:
        emit_json(summary)
        return
    click.echo(
        f"調査 {summary['study']}: {summary['tables']} 表、秘匿 {summary['suppressed_primary']}"
        f"（一次）+ {summary['suppressed_complementary']}（補完）、監査の指摘"
        f" {summary['audit_violations']} 件"
    )
    for path in summary["files"]:
        if "/tables/" not in path and "/charts/" not in path:
            click.echo(f"  {path}")
    click.echo(f"  {out / 'tables'}/ （CSV {summary['tables'] + 2} 件）")
    click.echo(f"  {out / 'charts'}/ （PNG・PDF {summary['charts']} 件）")

"""``survey paper forms``: the printed questionnaire of a cohort."""

from __future__ import annotations

from pathlib import Path

import click

from mailing.questionnaires import print_paper_forms
from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, pass_app, study_option
from survey.cli.mailing import _recorder, _study_name
from survey.cohorts import COHORTS


@click.command("forms")
@click.option("--cohort", type=click.Choice(COHORTS), required=True, help="対象. The cohort.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="調査票 PDF."
)
@click.option(
    "--with-codes",
    is_flag=True,
    default=False,
    help="対象者ごとに1冊、その人のアクセスコード入りで印刷（コードを発行します）."
    " One booklet per sampled unit, each with its own code (issues the cohort's codes).",
)
@study_option
@json_option
@pass_app
def forms_command(
    app: AppContext,
    cohort: str,
    out: Path,
    with_codes: bool,
    study_name: str | None,
    as_json: bool,
) -> None:
    """紙の調査票（A4 冊子）を作ります. Print the questionnaire booklet of a cohort.

    --with-codes なしでは印刷業者向けの白紙の原稿（コード欄は空欄、コードはコード票で配布）。
    箱の位置の JSON（FILE.boxes.json）を PDF の隣に書きます。
    """
    name = _study_name(app, study_name)
    result = print_paper_forms(
        app.db.engine,
        app.settings,
        name,
        cohort,
        out,
        with_codes,
        _recorder(app, name, "file.paper_forms"),
    )
    for line in result.warnings:
        click.echo(line, err=True)
    if as_json:
        emit_json(result.as_json())
        return
    extra = result.extra
    for c, n in result.counts.items():
        click.echo(f"{c}: {n:,} 冊 × {extra['pages_per_booklet']} ページ")
    pdf, boxes = result.files
    if with_codes:
        click.echo(f"→ {pdf}（コード入り: 消去の対象として記録しました / tracked for erasure）")
    else:
        click.echo(f"→ {pdf}（白紙の原稿 / blank master）")
    click.echo(f"→ {boxes}（記入欄の位置 / box map）")

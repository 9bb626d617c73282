"""``survey paper``: the printed questionnaire, the receipt log, keying and vendor batches."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlmodel import Session

from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, chosen_study, pass_app, study_option
from survey.cohorts import COHORTS
from survey.errors import UsageError
from survey.ingest import receipts, vendor
from survey.study import resolve_study


@click.group("paper")
def paper_group() -> None:
    """紙の調査票. Paper questionnaires: print, receipt log, keying, vendor import."""


@paper_group.command("receive")
@click.option("--cohort", type=click.Choice(COHORTS), required=True)
@click.option("--batch", required=True, help="受付のバッチ名（例 6月3日便）. Batch name.")
@click.option("--count", type=click.IntRange(1, receipts.MAX_PER_ENTRY), default=1)
@click.option("--blank", is_flag=True, help="白票（未記入で返送）. Blank returns.")
@click.option(
    "--undeliverable",
    "reason",
    type=click.Choice(receipts.REASONS),
    default=None,
    help="不達・対象外とその理由. Undeliverable or ineligible, with its reason.",
)
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="受付日 (today)")
@study_option
@json_option
@pass_app
def receive(
    app: AppContext, cohort: str, batch: str, count: int, blank: bool, reason: str | None,
    day: object, study_name: str | None, as_json: bool,
) -> None:  # fmt: skip
    """返送された封筒を受付します（受付番号を発行）. Log returned envelopes."""
    if blank and reason:
        raise UsageError(
            "--blank と --undeliverable は同時に使えません。", "Blank or undeliverable."
        )
    status = receipts.UNDELIVERABLE if reason else receipts.BLANK if blank else receipts.RETURNED
    name = chosen_study(app, study_name)
    received = day.date() if hasattr(day, "date") else date.today()

    def record(session: Session, logged: receipts.Logged) -> None:
        detail = {"cohort": cohort, "status": status, "reason": reason, "count": count}
        app.audit(session, "paper.receive", {**detail, "receipts": logged.span})

    logged = receipts.log(
        app.db.engine, name, cohort, batch, received, count, status, reason, record
    )
    if as_json:
        emit_json({"cohort": cohort, "status": status, "receipts": logged.numbers})
    else:
        label = receipts.STATUS_LABELS[status] + (f"（{reason}）" if reason else "")
        click.echo(f"{cohort} {label} {count} 通: 受付番号 {logged.span}")


@paper_group.command("status")
@study_option
@json_option
@pass_app
def status(app: AppContext, study_name: str | None, as_json: bool) -> None:
    """受付と入力の状況（対象ごと）. Receipts and keying per cohort."""
    name = chosen_study(app, study_name)
    with app.db.session(write=False) as session:
        summary = receipts.summary(session, resolve_study(session, name))
    if as_json:
        emit_json(summary)
        return
    click.echo("対象 cohort: 受付 received / 白票 blank / 不達 undeliverable / 入力済 keyed"
               " / 重複 duplicate / 未入力 waiting")  # fmt: skip
    for cohort in COHORTS:
        c = summary.get(cohort)
        if c:
            click.echo(
                f"  {cohort}: {c['received']} / {c['blank']} / {c['undeliverable']} / "
                f"{c['keyed']} / {c['duplicate']} / {c['waiting']}"
            )


@paper_group.command("template")
@click.option("--form", "form_name", required=True, help="general（調査の版）か general.v1")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@study_option
@pass_app
def template(app: AppContext, form_name: str, out: Path, study_name: str | None) -> None:
    """業者入力用の空の様式（CSV）とコード表. The vendor's empty sheet and its codes."""
    name = chosen_study(app, study_name)
    if out.exists():
        raise UsageError(f"{out.name} はすでにあります。", f"{out.name} exists; not overwritten.")
    with app.db.session(write=False) as session:
        form = vendor.resolve_form(session, resolve_study(session, name), form_name)
    codes = vendor.template(form, out)
    click.echo(f"→ {out}（{form.id} v{form.version}）\n→ {codes}", err=True)


@paper_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--form", "form_name", required=True, help="general（調査の版）か general.v1")
@study_option
@json_option
@pass_app
def import_(
    app: AppContext, file: Path, form_name: str, study_name: str | None, as_json: bool
) -> None:
    """業者が入力したバッチを取り込みます（誤りが1つでもあれば何も取り込みません）.

    Import a vendor-keyed batch: all rows or none. UTF-8 (BOM or not) or CP932.
    """
    name = chosen_study(app, study_name)

    def record(session: Session, report: vendor.ImportReport) -> None:
        app.audit(session, "paper.import", {"file": file.name, **report.as_json()})

    report = vendor.import_batch(app.db.engine, app.settings, name, file, form_name, record)
    if as_json:
        emit_json(report.as_json())
        return
    click.echo(
        f"{file.name}: {report.rows} 行、受理 {report.accepted}、重複 {report.duplicates}、"
        f"要確認 {report.flagged}、取込済み {report.unchanged}、新しい受付 {report.created}"
    )


from survey.cli.paper_forms import forms_command  # noqa: E402  (the group's commands join it)

paper_group.add_command(forms_command)

"""The ``survey`` command."""

from __future__ import annotations

import click

import survey
from survey.cli.analyze import analyze
from survey.cli.base import HELP_ONLY, SurveyGroup
from survey.cli.common import AppContext
from survey.cli.demo import demo
from survey.cli.erasure import erasure_group
from survey.cli.forms import forms_group
from survey.cli.mailing import codes, keys_group, labels, postcards
from survey.cli.paper import paper_group
from survey.cli.report import report
from survey.cli.responses import dataset_group, responses_group
from survey.cli.sample import register_group, roster_group, sample_group
from survey.cli.staff import audit_group, users_group
from survey.cli.study import study_group
from survey.cli.web import bundle_group, collector_group, db_group, serve


@click.group(cls=SurveyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(survey.__version__, prog_name="survey")
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    default=None,
    help="操作する職員（パスワードは入力か SURVEY_PASSWORD）. Staff user for the audit log.",
)
@click.pass_context
def cli(ctx: click.Context, user_name: str | None) -> None:
    """匿名市民意識調査の管理ツール. Anonymous citizen survey platform.

    \b
    設定 (environment):
      SURVEY_DATA_DIR      データフォルダ (default ./var)
      SURVEY_KEY_DIR       鍵フォルダ、データフォルダの外 (default ./keys)
      SURVEY_DATABASE_URL  sqlite:///... (default) or postgresql+psycopg://...
      SURVEY_STUDY         既定の調査名
      SURVEY_PUBLIC_URL    調査のWebアドレス（コード票・QR）
      SURVEY_KEY_PASSPHRASE  調査鍵のパスフレーズ（keys generate）
      SURVEY_PASSWORD      --user の職員のパスワード
      SURVEY_OWNER_DATABASE_URL  PostgreSQL の表の所有者（消去の VACUUM FULL）

    操作は監査ログに記録されます（--user の職員、なければOSのユーザー名）.
    """
    app = ctx.ensure_object(AppContext)
    app.user_name = user_name
    ctx.call_on_close(app.close)
    if user_name is not None and not (ctx.meta.get(HELP_ONLY) or ctx.resilient_parsing):
        # Checked before every command, reading ones included: those never asked for the
        # actor, so a wrong password used to pass unnoticed.
        app.actor()


for command in (
    study_group,
    register_group,
    sample_group,
    roster_group,
    keys_group,
    codes,
    forms_group,
    labels,
    postcards,
    paper_group,
    users_group,
    audit_group,
    db_group,
    serve,
    collector_group,
    bundle_group,
    responses_group,
    dataset_group,
    erasure_group,
    analyze,
    report,
    demo,
):
    cli.add_command(command)


def main() -> None:
    cli.main(prog_name="survey")

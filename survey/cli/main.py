"""The ``survey`` command."""

from __future__ import annotations

import importlib

import click

import survey
from survey.cli.base import HELP_ONLY, SurveyGroup
from survey.cli.common import AppContext

# Command name -> (module, attribute), in the order --help lists them. A command's module
# is imported when the command is run (or listed): `survey sample` on a large register
# does not wait for the print, analysis and web modules to load.
COMMANDS = {
    "study": ("survey.cli.study", "study_group"),
    "register": ("survey.cli.sample", "register_group"),
    "sample": ("survey.cli.sample", "sample_group"),
    "roster": ("survey.cli.sample", "roster_group"),
    "keys": ("survey.cli.mailing", "keys_group"),
    "codes": ("survey.cli.mailing", "codes"),
    "forms": ("survey.cli.forms", "forms_group"),
    "labels": ("survey.cli.mailing", "labels"),
    "postcards": ("survey.cli.mailing", "postcards"),
    "paper": ("survey.cli.paper", "paper_group"),
    "users": ("survey.cli.staff", "users_group"),
    "audit": ("survey.cli.staff", "audit_group"),
    "db": ("survey.cli.web", "db_group"),
    "serve": ("survey.cli.web", "serve"),
    "collector": ("survey.cli.web", "collector_group"),
    "bundle": ("survey.cli.web", "bundle_group"),
    "responses": ("survey.cli.responses", "responses_group"),
    "dataset": ("survey.cli.responses", "dataset_group"),
    "erasure": ("survey.cli.erasure", "erasure_group"),
    "analyze": ("survey.cli.analyze", "analyze"),
    "report": ("survey.cli.report", "report"),
    "demo": ("survey.cli.demo", "demo"),
}


class LazySurveyGroup(SurveyGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, attribute = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command) and command.name == cmd_name
            self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazySurveyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli.main(prog_name="survey")

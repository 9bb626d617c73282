"""Command-line plumbing both front doors share (``survey`` and ``survey-collector``):
bilingual errors with exit codes, JSON output. Imports nothing of either side.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from survey.cli import messages
from survey.errors import SurveyError
from survey.settings import load_settings

HELP_ONLY = "survey.help_only"


class SurveyGroup(click.Group):
    """Root group: runs click in non-standalone mode and maps every failure to an exit code.

    Exit 1: bad data (a register with bad rows, a study already drawn).
    Exit 2: bad usage (unknown option, malformed setting).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Seen here, before the subcommand's own parsing: a command that only prints its help
        # needs no --user password (and touches no database).
        ctx.meta[HELP_ONLY] = any(a in ctx.help_option_names for a in args)
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        extra.pop("standalone_mode", None)
        # Files written (print files, exports, the database, keys) are for their owner only.
        os.umask(0o077)
        try:
            rv = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.ClickException as exc:  # usage errors (exit 2) included
            messages.show(exc)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("中断しました。 / Aborted.", err=True)
            sys.exit(1)
        except SurveyError as exc:
            report_error(exc)
            sys.exit(exc.exit_code)
        except Exception as exc:
            # An unexpected failure: its message may quote data (a database error quoting a
            # row, say), so only its type is shown; SURVEY_DEBUG=1 re-raises for a developer.
            if _debug():
                raise
            click.echo(
                f"内部エラー（{type(exc).__name__}）のため処理を中止しました。"
                f" / Internal error ({type(exc).__name__}); the command was aborted.",
                err=True,
            )
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _debug() -> bool:
    try:
        return load_settings().debug
    except SurveyError:
        return False


def report_error(exc: SurveyError) -> None:
    for detail in getattr(exc, "errors", ()):
        click.echo(str(detail), err=True)
    click.echo(f"エラー: {exc.ja}", err=True)
    click.echo(f"Error: {exc.en}", err=True)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="結果を JSON で標準出力へ. Print figures as JSON."
)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))

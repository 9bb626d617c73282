"""Click's own messages (a missing file, an unknown command or option, a bad option value)
in Japanese and English, like every other error of both front doors.

Click says them in English only; the Japanese line is built here from what the exception
carries (the option, the value, the kind of check), the English line is click's own. Imports
nothing of either side (survey-collector uses it too).
"""

from __future__ import annotations

import re

import click

_NO_COMMAND = re.compile(r"No such command '(.+)'")
_PATH = re.compile(r"(File|Directory|Path) '(.+)' (does not exist|is a directory|is a file)")
_REQUIRES = re.compile(r"Option '(.+)' requires (an argument|\d+ arguments)")
_EXTRA = re.compile(r"Got unexpected extra arguments? \((.+)\)")
_RANGE = re.compile(r"(.+) is not in the range (.+)\.$")
_NOT_ONE_OF = re.compile(r"'(.*)' is not (one of )?(.+)\.$")


class BadValue(click.BadParameter):
    """A bad option value our own parameter types explain in both languages."""

    def __init__(
        self,
        ja: str,
        en: str,
        ctx: click.Context | None = None,
        param: click.Parameter | None = None,
    ) -> None:
        super().__init__(en, ctx, param)
        self.ja = ja


def _hint(exc: click.BadParameter) -> str:
    """The option or argument a bad value was given to: --port, FILE."""
    if exc.param is not None:
        hint = exc.param.get_error_hint(exc.ctx) if exc.ctx is not None else exc.param.name
    else:
        hint = exc.param_hint if isinstance(exc.param_hint, str) else ""
    return str(hint or "").replace("'", "")


def _bad_value(exc: click.BadParameter) -> str:
    hint = _hint(exc)
    message = exc.message
    found = _PATH.search(message)
    if found:
        kind, name, what = found.groups()
        noun = {"File": "ファイル", "Directory": "フォルダ", "Path": "ファイル"}[kind]
        if what == "does not exist":
            return f"{noun} {name} が見つかりません（{hint}）。"
        if what == "is a directory":
            return f"{name} はフォルダです。ファイルを指定してください（{hint}）。"
        return f"{name} はファイルです。フォルダを指定してください（{hint}）。"
    if isinstance(exc, BadValue):
        return f"{hint}: {exc.ja}"
    param_type = exc.param.type if exc.param is not None else None
    if isinstance(param_type, click.IntRange | click.FloatRange):
        low = "" if param_type.min is None else f"{param_type.min}"
        high = "" if param_type.max is None else f"{param_type.max}"
        found = _RANGE.search(message)
        if found:
            return f"{hint} の値 {found.group(1)} は範囲外です（{low}〜{high}）。"
        kind = "整数" if isinstance(param_type, click.IntRange) else "数"
        return f"{hint} には{low}〜{high}の{kind}を指定してください。"
    if isinstance(param_type, click.Choice):
        choices = "、".join(str(c) for c in param_type.choices)
        found = _NOT_ONE_OF.search(message)
        value = f"（{found.group(1)}）" if found else ""
        return f"{hint} は {choices} のいずれかです{value}。"
    if param_type is click.INT:
        return f"{hint} には整数を指定してください。"
    if param_type is click.FLOAT:
        return f"{hint} には数を指定してください。"
    if isinstance(exc, click.MissingParameter):
        return f"{hint} を指定してください。"
    return f"{hint} の値が正しくありません。"


def japanese(exc: click.ClickException) -> str:
    """The Japanese line for one of click's errors."""
    if isinstance(exc, click.NoSuchOption):
        maybe = f" {'、'.join(exc.possibilities)} のことですか。" if exc.possibilities else ""
        return f"{exc.option_name} というオプションはありません。{maybe}"
    if isinstance(exc, click.BadParameter):
        return _bad_value(exc)
    if isinstance(exc, click.FileError):
        return f"ファイル {exc.ui_filename} を開けません。"
    message = exc.format_message()
    found = _NO_COMMAND.search(message)
    if found:
        return f"{found.group(1)} というコマンドはありません。"
    found = _REQUIRES.search(message)
    if found:
        return f"{found.group(1)} には値が必要です。"
    found = _EXTRA.search(message)
    if found:
        return f"余分な引数があります（{found.group(1)}）。"
    if isinstance(exc, click.UsageError):
        return "使い方が正しくありません。"
    return "処理できませんでした。"


def show(exc: click.ClickException) -> None:
    """Print one of click's errors as every error is printed: Japanese, then English."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        click.echo(ctx.get_usage(), err=True)
    click.echo(f"エラー: {japanese(exc)}", err=True)
    click.echo(f"Error: {exc.format_message()}", err=True)
    if isinstance(exc, click.UsageError):
        path = ctx.command_path if ctx is not None else "survey"
        click.echo(
            f"使い方は {path} --help で表示します。 / Try '{path} --help' for help.", err=True
        )

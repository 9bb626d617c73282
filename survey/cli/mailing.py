"""``survey keys``, ``survey codes``, ``survey labels``, ``survey postcards``."""

from __future__ import annotations

import base64
from pathlib import Path

import click
from sqlmodel import Session

from mailing.labels import HEADERS
from mailing.layouts import DEFAULT_LAYOUT, LAYOUTS, get_layout
from mailing.service import PrintReport, Recorder, print_codes, print_labels, print_postcards
from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, pass_app, study_option
from survey.cohorts import COHORTS
from survey.crypto import fingerprint, parse_public_key
from survey.decrypt import unwrap_private_key
from survey.errors import DataError, UsageError
from survey.keys import generate_key_file, install_public_key, require_study_key, write_key_file
from survey.study import list_studies, resolve_study

out_file = click.Path(dir_okay=False, path_type=Path)
margin_top = click.option(
    "--margin-top", type=float, default=None, metavar="MM", help="上余白 (mm)."
)
margin_left = click.option(
    "--margin-left", type=float, default=None, metavar="MM", help="左余白 (mm)."
)


def _study_name(app: AppContext, given: str | None) -> str:
    app.actor()  # before any transaction: it may log in
    with app.db.session(write=False) as session:
        return resolve_study(session, given or app.settings.study).name


def _recorder(app: AppContext, study: str, action: str) -> Recorder:
    """The export's audit entry, written in the transaction that records its files."""

    def record(session: Session, result: PrintReport) -> None:
        app.audit(session, action, result.audit_object(study))

    return record


def report(result: PrintReport, as_json: bool) -> None:
    for line in result.warnings:
        click.echo(line, err=True)
    if as_json:
        emit_json(result.as_json())
        return
    for cohort, n in result.counts.items():
        click.echo(f"{cohort}: {n:,}")
    for path in result.files:
        click.echo(
            f"→ {path}（個人情報・コードを含むファイルとして記録しました / tracked for erasure）"
        )


@click.group("keys")
def keys_group() -> None:
    """調査鍵（回答の暗号化に使う鍵）. The study key pair."""


@keys_group.command("generate")
@click.option("--out", type=out_file, required=True, help="秘密鍵ファイル（パスフレーズで保護）.")
@study_option
@pass_app
def generate(app: AppContext, out: Path, study_name: str | None) -> None:
    """鍵ペアを作り、秘密鍵を FILE に、公開鍵を調査に登録します. Generate the study key pair.

    パスフレーズは SURVEY_KEY_PASSPHRASE から、なければ生成して一度だけ表示します。
    """
    passphrase = app.settings.key_passphrase
    app.actor()
    with app.db.session() as session:
        if not list_studies(session) and not (study_name or app.settings.study):
            # A machine with no study (the key ceremony): write the file, install nothing.
            public, generated = write_key_file(app.settings, out, passphrase, "study")
            installed = False
        else:
            study = resolve_study(session, study_name or app.settings.study)
            key, generated = generate_key_file(session, app.settings, study, out, passphrase)
            public, installed = key.public_key, True
        app.audit(
            session,
            "key.generate",
            {
                "fingerprint": fingerprint(public),
                "file": str(out.resolve()),
                "installed": installed,
            },
        )
    click.echo(f"秘密鍵を書き出しました / private key written: {out}")
    click.echo(f"公開鍵 / public key: {base64.b64encode(public).decode()}")
    click.echo(f"公開鍵の指紋 / fingerprint: {fingerprint(public)}")
    if not installed:
        click.echo(
            "調査がないため公開鍵は登録していません。"
            "事務所で survey keys set-public に渡してください。"
            " / No study here: install the public key with `survey keys set-public`."
        )
    if generated:
        click.echo(
            "パスフレーズ（この一度しか表示しません。紙に書いて金庫へ） / passphrase, shown once:"
        )
        click.echo(f"    {generated}")


@keys_group.command("verify")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="秘密鍵ファイル. The wrapped private key file.",
)
@study_option
@pass_app
def verify(app: AppContext, key_file: Path, study_name: str | None) -> None:
    """秘密鍵ファイルとパスフレーズで開けるか確かめます. Check a key file opens and matches.

    パスフレーズは SURVEY_KEY_PASSPHRASE から、なければ入力を求めます（表示しません）。
    """
    passphrase = app.settings.key_passphrase or click.prompt(
        "パスフレーズ / passphrase", hide_input=True, err=True
    )
    private = unwrap_private_key(key_file.read_bytes(), passphrase)
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        installed = require_study_key(session, study)
        app.audit(
            session,
            "key.use",
            {"study": study.name, "purpose": "verify", "fingerprint": installed.fingerprint},
        )
    if bytes(private.public_key) != installed.public_key:
        raise DataError(
            f"この鍵は調査 {study.name} の鍵ではありません（指紋 {installed.fingerprint}）。",
            f"This key file is not study {study.name!r}'s key ({installed.fingerprint}).",
        )
    click.echo(
        f"鍵ファイルを開けました。指紋が一致します / key opens and matches: {installed.fingerprint}"
    )


@keys_group.command("set-public")
@click.argument("public_key")
@study_option
@pass_app
def set_public(app: AppContext, public_key: str, study_name: str | None) -> None:
    """別の端末で作った公開鍵（base64）を登録します. Install a public key made elsewhere."""
    raw = parse_public_key(public_key)
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        key = install_public_key(session, study, raw)
        app.audit(session, "key.install", {"study": study.name, "fingerprint": key.fingerprint})
    click.echo(f"公開鍵を登録しました / installed. fingerprint: {key.fingerprint}")


@keys_group.command("show")
@study_option
@json_option
@pass_app
def show(app: AppContext, study_name: str | None, as_json: bool) -> None:
    """公開鍵と指紋を表示します. Show the public key and its fingerprint."""
    with app.db.session(write=False) as session:
        study = resolve_study(session, study_name or app.settings.study)
        key = require_study_key(session, study)
        data = {
            "study": study.name,
            "public_key": base64.b64encode(key.public_key).decode(),
            "fingerprint": key.fingerprint,
        }
    if as_json:
        emit_json(data)
    else:
        click.echo(f"公開鍵 public key: {data['public_key']}")
        click.echo(f"指紋 fingerprint:  {data['fingerprint']}")


@click.command("codes")
@click.option("--out", type=out_file, required=True, help="コード票 PDF.")
@click.option(
    "--csv", "csv_path", type=out_file, default=None, help="可変印刷用 CSV（対象・コード）."
)
@click.option(
    "--spares",
    default="2%",
    show_default=True,
    help="対象ごとの予備（数または %）. Spares per cohort.",
)
@click.option(
    "--additional", type=int, default=None, metavar="N", help="発行済みの後に予備 N 件を追加発行."
)
@study_option
@json_option
@pass_app
def codes(
    app: AppContext,
    out: Path,
    csv_path: Path | None,
    spares: str,
    additional: int | None,
    study_name: str | None,
    as_json: bool,
) -> None:
    """アクセスコードを発行しコード票 PDF を作ります. Issue access codes and print the slips."""
    name = _study_name(app, study_name)
    result = print_codes(
        app.db.engine,
        app.settings,
        name,
        out,
        csv_path,
        spares,
        additional,
        _recorder(app, name, "file.code_slips"),
    )
    report(result, as_json)


@click.command("labels")
@click.option("--out", type=out_file, default=None, help="宛名ラベル PDF.")
@click.option("--csv", "csv_path", type=out_file, default=None, help="印刷業者向け CSV.")
@click.option(
    "--encoding", type=click.Choice(["cp932", "utf-8-sig"]), default="cp932", show_default=True
)
@click.option(
    "--headers",
    type=click.Choice(HEADERS),
    default="ja",
    show_default=True,
    help="CSV の列: ja（区分, 連番, 郵便番号, 住所, 方書, 宛名）か en（従来の英語の列）.",
)
@click.option(
    "--layout", type=click.Choice(sorted(LAYOUTS)), default=DEFAULT_LAYOUT, show_default=True
)
@click.option(
    "--cohort", type=click.Choice(COHORTS), default=None, help="この対象だけ. Only this cohort."
)
@margin_top
@margin_left
@study_option
@json_option
@pass_app
def labels(
    app: AppContext,
    out: Path | None,
    csv_path: Path | None,
    encoding: str,
    headers: str,
    layout: str,
    cohort: str | None,
    margin_top: float | None,
    margin_left: float | None,
    study_name: str | None,
    as_json: bool,
) -> None:
    """宛名ラベル（A4）と業者向け CSV を作ります. Address label sheets and the vendor CSV."""
    if out is None and csv_path is None:
        raise UsageError("--out か --csv を指定してください。", "Give --out and/or --csv.")
    sheet = get_layout(layout, margin_top, margin_left)
    name = _study_name(app, study_name)
    result = print_labels(
        app.db.engine,
        app.settings,
        name,
        out,
        sheet,
        cohort,
        csv_path,
        encoding,
        _recorder(app, name, "file.labels"),
        headers,
    )
    report(result, as_json)


@click.command("postcards")
@click.option("--out", type=out_file, required=True, help="はがき PDF.")
@click.option(
    "--layout", type=click.Choice(["hagaki", *sorted(LAYOUTS)]), default="hagaki", show_default=True
)
@margin_top
@margin_left
@study_option
@json_option
@pass_app
def postcards(
    app: AppContext,
    out: Path,
    layout: str,
    margin_top: float | None,
    margin_left: float | None,
    study_name: str | None,
    as_json: bool,
) -> None:
    """お礼・督促はがき（全員宛）. Thank-you/reminder postcards for every sampled unit."""
    sheet = None if layout == "hagaki" else get_layout(layout, margin_top, margin_left)
    name = _study_name(app, study_name)
    result = print_postcards(
        app.db.engine, app.settings, name, out, sheet, _recorder(app, name, "file.postcards")
    )
    report(result, as_json)

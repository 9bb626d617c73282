"""``survey erasure``: request, sign, execute, confirm and verify an erasure (survey.erasure).

Every step but ``verify`` needs ``--user``: the signatures are made with that person's own
key, opened by the password checked at the start. ``verify`` opens no database and reads no
data folder: it checks a certificate file (and, optionally, the staff keys file) alone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, pass_app, study_option
from survey.erasure.labels import CHECKLIST, SCOPES
from survey.erasure.verify import load_trusted_keys, verify_certificate

out_file = click.Path(dir_okay=False, path_type=Path)


def _user(app: AppContext) -> str:
    if app.user_name is None:
        raise click.UsageError("--user NAME が必要です / --user NAME is required")
    app.actor()
    return app.user_name


def _fresh(*paths: Path | None) -> None:
    from survey.files import fresh_outputs

    fresh_outputs(*paths)


def _write(out: Path, data: bytes) -> None:
    from survey.crypto import write_new

    write_new(out, data)  # exactly the canonical bytes: no newline added


def _pdf(data: bytes, pdf: Path | None) -> None:
    if pdf is not None:
        from survey.erasure.pdf import write_certificate_pdf

        write_certificate_pdf(pdf, data)
        click.echo(f"PDF → {pdf}", err=True)


@click.group("erasure")
def erasure_group() -> None:
    """個人情報等の消去（担当者と責任者の2人で）. Two-person erasure with a certificate."""


@erasure_group.command("request")
@click.option(
    "--scope", type=click.Choice(list(SCOPES)), default="personal", show_default=True,
    help="消去の範囲. What to erase.",
)  # fmt: skip
@click.option(
    "--vendor-confirmation",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="印刷業者の廃棄証明（署名入りのファイル、ハッシュを一覧に入れます）.",
)
@study_option
@json_option
@pass_app
def request(
    app: AppContext,
    scope: str,
    vendor_confirmation: Path | None,
    study_name: str | None,
    as_json: bool,
) -> None:
    """消去を依頼し、対象の一覧を作ります（担当者）. Request an erasure; prints its id."""
    from survey import accounts, audit
    from survey.erasure import present, requests
    from survey.study import resolve_study

    name = _user(app)
    vendor = None
    if vendor_confirmation is not None:
        data = vendor_confirmation.read_bytes()
        vendor = {
            "name": vendor_confirmation.name[:100],
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        user = accounts.require_user(session, name)
        row = requests.create(
            session, app.settings, study, scope, user, app.actor(), audit.now_utc(), vendor
        )
    if as_json:
        emit_json(
            {
                "request": row.id,
                "inventory_sha256": row.inventory_sha256,
                "inventory": row.inventory,
            }
        )
        return
    for line in present.inventory_lines(row.inventory):
        click.echo(line)
    click.echo(f"一覧の SHA-256: {row.inventory_sha256}")
    click.echo(f"依頼番号 request id: {row.id}")


@erasure_group.command("sign")
@click.argument("request_id")
@click.option("--yes", is_flag=True, help="確認を求めずに署名. Sign without asking.")
@pass_app
def sign(app: AppContext, request_id: str, yes: bool) -> None:
    """一覧を確かめて署名します（担当者、次に責任者）. Review the inventory and sign it."""
    from survey import accounts, audit
    from survey.erasure import present, requests

    name = _user(app)
    with app.db.session(write=False) as session:
        row = requests.get_request(session, request_id)
    for line in present.inventory_lines(row.inventory):
        click.echo(line)
    click.echo(f"一覧の SHA-256: {row.inventory_sha256}")
    if not yes and not click.confirm(
        "この一覧のとおり消去することに署名しますか / sign?", err=True
    ):
        raise click.Abort()
    with app.db.session() as session:
        row = requests.get_request(session, request_id)
        user = accounts.require_user(session, name)
        signature = requests.sign_request(
            session, app.settings, row, user, app.password(), app.actor(), audit.now_utc()
        )
    role = "担当者" if signature.role == "officer" else "責任者"
    click.echo(f"{role} {name} が署名しました / signed as {signature.role}")


@erasure_group.command("execute")
@click.argument("request_id")
@click.option("--out", type=out_file, required=True, help="証明書（JSON）. The certificate.")
@click.option("--pdf", type=out_file, default=None, help="証明書の PDF も書き出す.")
@click.option(
    "--checked",
    "checked",
    type=click.Choice(list(CHECKLIST)),
    multiple=True,
    help="物理的な廃棄を済ませた項目（複数可）. Physical items destroyed.",
)
@pass_app
def execute(
    app: AppContext, request_id: str, out: Path, pdf: Path | None, checked: tuple[str, ...]
) -> None:
    """署名済みの消去を実施し、実施者として証明書に署名します（担当者）. Execute the erasure."""
    from survey.erasure import execution

    name = _user(app)
    _fresh(out, pdf)
    data = execution.execute(
        app.db.engine,
        app.settings,
        request_id,
        name,
        app.password(),
        app.actor(),
        list(checked),
        progress=lambda line: click.echo(line, err=True),
    )
    _write(out, data)
    _pdf(data, pdf)
    click.echo(f"証明書 certificate → {out}（責任者の確認待ち / awaiting the manager）")


@erasure_group.command("confirm")
@click.argument("request_id")
@click.option(
    "--out", type=out_file, required=True, help="確認済みの証明書（JSON、新しいファイル）."
)
@click.option("--pdf", type=out_file, default=None, help="証明書の PDF も書き出す.")
@pass_app
def confirm(app: AppContext, request_id: str, out: Path, pdf: Path | None) -> None:
    """消去を確かめ、確認者として署名します（責任者）. Confirm the erasure as verified-by."""
    from survey.erasure import execution

    name = _user(app)
    _fresh(out, pdf)
    data = execution.confirm(
        app.db.engine, app.settings, request_id, name, app.password(), app.actor()
    )
    _write(out, data)
    _pdf(data, pdf)
    click.echo(f"確認済みの証明書 confirmed certificate → {out}")


@erasure_group.command("verify")
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trusted-keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="職員の鍵の一覧（survey users keys --export）. Staff keys to authenticate signers.",
)
@json_option
def verify(certificate: Path, trusted_keys: Path | None, as_json: bool) -> None:
    """証明書を検証します（データベース不要）. Verify a certificate offline."""
    trusted = load_trusted_keys(trusted_keys.read_bytes()) if trusted_keys else None
    report = verify_certificate(certificate.read_bytes(), trusted)
    if as_json:
        emit_json(report.as_json())
        return
    for line in report.lines():
        click.echo(line)

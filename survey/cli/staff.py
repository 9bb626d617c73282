"""``survey users`` (staff accounts) and ``survey audit`` (the tamper-evident log)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from survey import accounts, audit, staff_keys
from survey.cli.base import emit_json, json_option
from survey.cli.common import AppContext, pass_app
from survey.errors import DataError, UsageError
from survey.files import fresh_outputs

ROLE_CHOICE = click.Choice(list(accounts.ROLES))


def _new_password(app: AppContext, name: str) -> str:
    if app.settings.password and app.user_name is None:
        return app.settings.password
    return str(
        click.prompt(
            f"{name} の新しいパスワード / new password",
            hide_input=True,
            confirmation_prompt=True,
            err=True,
        )
    )


@click.group("users")
def users_group() -> None:
    """職員アカウント. Staff accounts (officer, manager, analyst, admin)."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", "roles", type=ROLE_CHOICE, multiple=True, required=True)
@pass_app
def add(app: AppContext, name: str, roles: tuple[str, ...]) -> None:
    """職員 NAME を追加します（パスワードは入力か SURVEY_PASSWORD）. Add a staff user.

    Each user gets an Ed25519 signing key wrapped under their password. The admin role cannot
    be combined with officer or manager (the roles that sign an erasure).
    """
    accounts.check_name(name)
    accounts.check_roles(list(roles))
    password = _new_password(app, name)
    actor = app.actor()
    with app.db.session() as session:
        by = accounts.get_user(session, app.user_name) if app.user_name else None
        # The new user chooses their own password at the first login (a fresh key then).
        user = accounts.add_user(session, name, list(roles), password, by=by)
        key = staff_keys.active_key(session, user)
        audit.append(session, actor, "user.add", {"user": name, "roles": user.roles})
    click.echo(f"{name}: {', '.join(user.roles)}（署名鍵の指紋 key {key.fingerprint}）")


@users_group.command("list")
@json_option
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """職員の一覧. List staff users."""
    with app.db.session(write=False) as session:
        rows: list[dict[str, Any]] = [
            {
                "name": u.name,
                "roles": u.roles,
                "disabled": u.disabled,
                "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                "key": staff_keys.active_key(session, u).fingerprint,
                "key_confirmed": staff_keys.active_key(session, u).confirmed,
            }
            for u in accounts.list_users(session)
        ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        state = "無効 disabled" if r["disabled"] else "有効 active"
        confirmed = "" if r["key_confirmed"] else "（鍵は責任者の確認待ち / key unconfirmed）"
        click.echo(f"{r['name']:<16} {','.join(r['roles']):<28} {state} {r['key']}{confirmed}")


def _set_disabled(app: AppContext, name: str, disabled: bool) -> None:
    actor = app.actor()
    with app.db.session() as session:
        user = accounts.require_user(session, name)
        accounts.set_disabled(session, user, disabled)
        audit.append(session, actor, "user.disable" if disabled else "user.enable", {"user": name})
    click.echo(f"{name}: {'無効にしました / disabled' if disabled else '有効にしました / enabled'}")


@users_group.command("disable")
@click.argument("name")
@pass_app
def disable(app: AppContext, name: str) -> None:
    """職員 NAME を無効にします. Disable a user (no more logins)."""
    _set_disabled(app, name, True)


@users_group.command("enable")
@click.argument("name")
@pass_app
def enable(app: AppContext, name: str) -> None:
    """職員 NAME を有効に戻します. Enable a user again."""
    _set_disabled(app, name, False)


@users_group.command("roles")
@click.argument("name")
@click.option("--role", "roles", type=ROLE_CHOICE, multiple=True, required=True)
@pass_app
def roles(app: AppContext, name: str, roles: tuple[str, ...]) -> None:
    """職員 NAME の役割を置き換えます. Replace a user's roles."""
    actor = app.actor()
    with app.db.session() as session:
        user = accounts.require_user(session, name)
        accounts.set_roles(session, user, list(roles))
        audit.append(session, actor, "user.roles", {"user": name, "roles": user.roles})
    click.echo(f"{name}: {', '.join(user.roles)}")


@users_group.command("passwd")
@click.argument("name")
@click.option("--reset", is_flag=True, help="管理者による再設定（署名鍵は作り直し）. Admin reset.")
@pass_app
def passwd(app: AppContext, name: str, reset: bool) -> None:
    """パスワードを変更します. Change a password (or, with --reset, reset it as an admin).

    A change by the user keeps their signing key (re-wrapped). A reset cannot open the old
    key: the user gets a new one at their next own change, which may not sign an erasure until
    a manager other than the resetter (and the account's creator) confirms it.
    """
    actor = app.actor()
    if reset:
        new = _new_password(app, name)
        with app.db.session() as session:
            user = accounts.require_user(session, name)
            by = accounts.get_user(session, app.user_name) if app.user_name else None
            key = accounts.reset_password(session, user, new, by)
            audit.append(session, actor, "user.reset", {"user": name, "new_key": key.fingerprint})
        click.echo(f"{name}: 再設定しました。新しい署名鍵 {key.fingerprint}（責任者の確認待ち）")
        return
    old = str(click.prompt("現在のパスワード / current password", hide_input=True, err=True))
    new = _new_password(app, name)
    with app.db.session() as session:
        try:  # checked like a login, so wrong guesses count towards the lockout
            user = accounts.authenticate(session, name, old, audit.now_utc())
        except accounts.AccountError:
            audit.append(session, actor, "reauth.failed", {"for": "user.password"})
            session.commit()
            raise
        key = accounts.change_password(session, user, old, new)
        accounts.end_sessions(session, user)  # every office session of the user ends
        audit.append(session, actor, "user.password", {"user": name, "key": key.fingerprint})
    click.echo(f"{name}: パスワードを変更しました / password changed（署名鍵 {key.fingerprint}）")


@users_group.command("confirm-key")
@click.argument("name")
@click.argument("fingerprint")
@click.option(
    "--bootstrap",
    is_flag=True,
    help="鍵の確認式: 最初の責任者が自分の鍵を（立会人のもとで）確認. The key ceremony.",
)
@pass_app
def confirm_key(app: AppContext, name: str, fingerprint: str, bootstrap: bool) -> None:
    """責任者が職員 NAME の署名鍵を確認します（--user の責任者として）.

    A manager (given with --user) confirms NAME's signing key by its FINGERPRINT, read out by
    NAME in person. The manager's own key must be confirmed, and they may be neither NAME nor
    whoever created NAME's account or last reset its password.

    --bootstrap: the installation's key ceremony, once, while no confirmed manager exists: the
    first manager confirms their own key (`survey --user NAME users confirm-key NAME FP
    --bootstrap`) with a witness present; both sign the key sheet (deploy/README.md).
    """
    if app.user_name is None:
        raise click.UsageError("--user MANAGER が必要です / --user MANAGER is required")
    if bootstrap and app.user_name != name:
        raise UsageError(
            "鍵の確認式では、最初の責任者本人が --user で自分の鍵を確認します。",
            "At the key ceremony the first manager confirms their own key: --user NAME.",
        )
    actor = app.actor()
    with app.db.session() as session:
        user = accounts.require_user(session, name)
        key = staff_keys.active_key(session, user)
        if key.fingerprint != fingerprint.strip().upper():
            raise DataError(
                "指紋が一致しません。本人と直接確かめてください。",
                "The fingerprint does not match; compare it with the user in person.",
            )
        detail = {"user": name, "key": key.fingerprint}
        if bootstrap:
            staff_keys.bootstrap_key(session, user, app.password(), audit.now_utc())
            audit.append(session, actor, "user.key_bootstrap", detail)
        else:
            manager = accounts.require_user(session, app.user_name)
            staff_keys.confirm_key(session, key, manager, audit.now_utc())
            audit.append(session, actor, "user.key_confirm", detail)
    click.echo(f"{name}: 署名鍵を確認しました / key confirmed ({key.fingerprint})")


@users_group.command("keys")
@click.option(
    "--export",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="公開鍵と確認の記録（JSON）. Public keys, and who confirmed each and when.",
)
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="鍵確認書（A4 PDF、1人1ページ）. The key sheet to sign, for the review board.",
)
@pass_app
def keys(app: AppContext, out: Path | None, sheet: Path | None) -> None:
    """職員の公開鍵を書き出し、鍵確認書を作ります. Export staff keys; print the key sheet.

    --export writes every staff public key ever made, marking which were confirmed, by whom
    and when (to verify certificates offline). --sheet prints, per person, name, roles and
    fingerprint with room to sign and stamp: the review board keeps the signed sheets.
    """
    from survey.key_sheet import entries, write_key_sheet

    if out is None and sheet is None:
        raise click.UsageError("--export FILE か --sheet OUT.pdf を指定してください")
    fresh_outputs(out, sheet)
    actor = app.actor()
    with app.db.session() as session:
        if out is not None:
            data = staff_keys.key_records(session)
            out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            audit.append(session, actor, "file.staff_keys", {"file": str(out.resolve())})
            click.echo(f"{len(data)} 件 → {out}")
        if sheet is not None:
            people = entries(session)
            if not people:
                raise DataError("鍵確認書に載せる職員がいません。", "No staff member to list.")
            write_key_sheet(sheet, people, audit.now_utc().date())
            detail = {"file": str(sheet.resolve()), "keys": [p.fingerprint for p in people]}
            audit.append(session, actor, "file.staff_key_sheet", detail)
            click.echo(f"鍵確認書 key sheet: {len(people)} 人 → {sheet}")


@click.group("audit")
def audit_group() -> None:
    """監査ログ. The tamper-evident audit log."""


@audit_group.command("verify")
@click.option("--expect-head", default=None, metavar="SEQ:HASH", help="記録しておいた先頭.")
@json_option
@pass_app
def verify(app: AppContext, expect_head: str | None, as_json: bool) -> None:
    """鎖を検証し、最初の不正な項目を示します. Check the chain; name the first bad entry.

    With --expect-head (a head anchored earlier, e.g. on an erasure certificate) a cut tail
    is detected too. Exit 1 if the chain is broken.
    """
    anchor = audit.parse_anchor(expect_head) if expect_head else None
    with app.db.session(write=False) as session:
        report = audit.verify(session, anchor)
    data = {
        "ok": report.ok,
        "entries": report.entries,
        "head": report.head,
        "first_bad": report.first_bad,
        "reason": report.reason,
    }
    if as_json:
        emit_json(data)
    elif report.ok:
        click.echo(f"監査ログは正常です / chain intact: {report.entries:,} 件, head {report.head}")
    if not report.ok:
        raise DataError(
            f"監査ログの {report.first_bad} 番目に問題があります（{report.reason}）。",
            f"The audit log is broken at entry {report.first_bad}: {report.reason}.",
        )


@audit_group.command("head")
@pass_app
def head(app: AppContext) -> None:
    """先頭（SEQ:HASH）を表示します。別の場所に記録してください. Print the head to anchor."""
    with app.db.session(write=False) as session:
        click.echo(audit.head_anchor(session))

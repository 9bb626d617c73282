"""``survey study``: create studies and change or show their settings."""

from __future__ import annotations

import json
from datetime import date

import click

from survey.cli.base import emit_json, json_option
from survey.cli.common import DATE, AppContext, pass_app, study_option
from survey.ingest.provision import refresh_local
from survey.study import (
    SETTINGS,
    create_study,
    effective_settings,
    list_studies,
    parse_assignment,
    resolve_study,
    update_settings,
)


@click.group("study")
def study_group() -> None:
    """調査の作成・設定. Create studies and manage their settings."""


@study_group.command("create")
@click.argument("name")
@click.option("--as-of", type=DATE, required=True, help="基準日 D. Reference date of the draw.")
@click.option("--fieldwork-start", type=DATE, default=None, help="調査開始日. Fieldwork start.")
@click.option("--fieldwork-end", type=DATE, default=None, help="調査終了日. Fieldwork end.")
@pass_app
def create(
    app: AppContext,
    name: str,
    as_of: date,
    fieldwork_start: date | None,
    fieldwork_end: date | None,
) -> None:
    """新しい調査 NAME を作成します. Create study NAME (ASCII slug, at most 32 characters)."""
    values = [("as_of", as_of.isoformat())]
    if fieldwork_start:
        values.append(("fieldwork_start", fieldwork_start.isoformat()))
    if fieldwork_end:
        values.append(("fieldwork_end", fieldwork_end.isoformat()))
    app.actor()
    with app.db.session() as session:
        study = create_study(session, name, values)
        app.audit(session, "study.create", {"study": name, "settings": dict(values)})
        click.echo(
            f"調査 {study.name} を作成しました（基準日 {as_of}）。 Created study {study.name}."
        )


@study_group.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@study_option
@pass_app
def set_(app: AppContext, assignments: tuple[str, ...], study_name: str | None) -> None:
    """設定を変更します. Change settings, e.g. general_min_age=20.

    \b
    Keys: see `survey study show` (the README's study settings table). A collector
    installed in this database (`survey collector install`) gets the public ones at once;
    a separate collector with the next `survey collector export`.
    """
    parsed = [parse_assignment(a) for a in assignments]
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        update_settings(session, study, parsed)
        refresh_local(session, app.settings, study)
        app.audit(session, "study.set", {"study": study.name, "settings": dict(parsed)})
        for key, value in parsed:
            click.echo(f"{study.name}: {key} = {json.dumps(value, ensure_ascii=False)}")


@study_group.command("show")
@study_option
@json_option
@pass_app
def show(app: AppContext, study_name: str | None, as_json: bool) -> None:
    """設定を表示します（* は既定値）. Show settings (* marks defaults)."""
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        values = effective_settings(study)
        if as_json:
            emit_json({"study": study.name, "settings": values})
            return
        click.echo(f"調査 study: {study.name}")
        for key, value in values.items():
            mark = " " if key in study.settings else "*"
            click.echo(
                f"{mark} {key} = {json.dumps(value, ensure_ascii=False)}    # {SETTINGS[key].help}"
            )


@study_group.command("list")
@json_option
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """調査の一覧. List studies."""
    with app.db.session() as session:
        studies = list_studies(session)
        if as_json:
            emit_json([{"study": s.name, "as_of": s.settings.get("as_of")} for s in studies])
            return
        for s in studies:
            click.echo(f"{s.name}\t{s.settings.get('as_of', '')}")

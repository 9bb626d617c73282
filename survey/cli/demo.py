"""``survey demo``: the whole flow so far on a synthetic city, for a first look."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click
from sqlmodel import select

from mailing.layouts import get_layout
from mailing.service import print_codes, print_labels, print_postcards
from survey.cli.common import AppContext, StepProgress, pass_app, progress_bar
from survey.cli.sample import print_summary
from survey.keys import generate_key_file
from survey.models import Study
from survey.register.synth import DEFAULT_AS_OF, DEFAULT_PEOPLE, write_register
from survey.sampling.service import DrawReport, draw_study, get_draw, parse_allocation
from survey.study import create_study

DEMO_STUDY = "demo"
DEMO_PUBLIC_URL = "http://127.0.0.1:8000"


def _mailing(app: AppContext) -> list[tuple[str, Path]]:
    """Study key, code slips, labels and postcards for the demo study."""
    settings = app.settings
    if settings.public_url is None:
        settings = replace(settings, public_url=DEMO_PUBLIC_URL)
    out = settings.data_dir / "demo"
    key_file = settings.key_dir / "demo-study-key.json"
    passphrase = os.environ.get("SURVEY_KEY_PASSPHRASE") or None
    with app.db.session() as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).one()
        key, generated = generate_key_file(session, settings, study, key_file, passphrase)
        print_codes(session, settings, study, out / "code-slips.pdf", out / "codes.csv")
        labels = print_labels(
            session,
            settings,
            study,
            out / "labels.pdf",
            get_layout("a4-12"),
            vendor_csv=out / "labels-vendor.csv",
        )
        print_postcards(session, settings, study, out / "postcards.pdf", None)
    for line in labels.warnings:
        click.echo(line, err=True)
    click.echo(f"調査鍵の指紋 / study key fingerprint: {key.fingerprint}")
    if generated:
        click.echo(f"調査鍵のパスフレーズ（一度だけ表示） / passphrase, shown once: {generated}")
    click.echo("（デモでは秘密鍵を鍵フォルダに置きます。本番では事務所の外・オフラインで保管）")
    return [
        ("調査鍵（秘密鍵） study private key", key_file),
        ("コード票 code slips", out / "code-slips.pdf"),
        ("宛名ラベル labels", out / "labels.pdf"),
        ("業者向けCSV vendor CSV", out / "labels-vendor.csv"),
        ("お礼・督促はがき postcards", out / "postcards.pdf"),
    ]


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="サーバーを起動しない. Start nothing long-running.")
@click.option("--people", type=click.IntRange(1000), default=DEFAULT_PEOPLE, show_default=True)
@pass_app
def demo(app: AppContext, no_serve: bool, people: int) -> None:
    """架空の市で調査を作成し、抽出・コード票・宛名ラベル・はがきまで行います.

    Create a demo study on a synthetic city: draw 3,250 units, make the study key, print code
    slips, label sheets, the vendor CSV and postcards into the data folder.
    """
    settings = app.settings
    register_path = settings.data_dir / "demo-register.csv"
    with app.db.session() as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).first()
        if study is not None:
            click.echo(
                "デモ調査はすでにあります（結果を表示します）。 Demo study exists; showing it.",
                err=True,
            )
            print_summary(DrawReport(study.name, get_draw(session, study)).as_json())
            return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with progress_bar("架空の住民基本台帳 synthetic register", people) as set_position:
        write_register(
            register_path,
            people,
            seed=1,
            encoding="cp932",
            as_of=DEFAULT_AS_OF,
            progress=set_position,
        )
        set_position(people)
    progress = StepProgress()
    with app.db.session() as session:
        study = create_study(
            session,
            DEMO_STUDY,
            [
                ("as_of", DEFAULT_AS_OF.isoformat()),
                ("fieldwork_start", "2026-06-01"),
                ("fieldwork_end", "2026-07-31"),
            ],
        )
        report = draw_study(
            session,
            settings,
            study,
            register_path,
            DEFAULT_AS_OF,
            parse_allocation(None),
            progress=progress,
        )
        data = report.as_json()
    progress.close()
    print_summary(data)
    files = _mailing(app)
    click.echo(f"データ data: {settings.data_dir}   鍵 keys: {settings.key_dir}")
    for what, path in files:
        click.echo(f"{what}: {path}")
    if not no_serve:
        # The web front doors (collector, office) arrive with their issues; until then
        # the demo has nothing long-running to start.
        click.echo("Web 画面はまだありません（survey serve は今後の版で）。 No web apps yet.")

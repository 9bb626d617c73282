"""``survey demo``: the whole flow so far on a synthetic city, for a first look."""

from __future__ import annotations

import click
from sqlmodel import select

from survey.cli.common import AppContext, StepProgress, pass_app, progress_bar
from survey.cli.sample import print_summary
from survey.models import Study
from survey.register.synth import DEFAULT_AS_OF, DEFAULT_PEOPLE, write_register
from survey.sampling.service import DrawReport, draw_study, get_draw, parse_allocation
from survey.study import create_study

DEMO_STUDY = "demo"


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="サーバーを起動しない. Start nothing long-running.")
@click.option("--people", type=click.IntRange(1000), default=DEFAULT_PEOPLE, show_default=True)
@pass_app
def demo(app: AppContext, no_serve: bool, people: int) -> None:
    """架空の市で調査を作成し 3,250 件を抽出します. Create a demo study and draw its sample."""
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
    click.echo(f"データ data: {settings.data_dir}   鍵 keys: {settings.key_dir}")
    if not no_serve:
        # The web front doors (collector, office) arrive with their issues; until then
        # the demo has nothing long-running to start.
        click.echo("Web 画面はまだありません（survey serve は今後の版で）。 No web apps yet.")

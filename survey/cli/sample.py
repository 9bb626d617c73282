"""``survey sample``, ``survey register`` and ``survey roster``: the draw and what it touches."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlmodel import Session

from survey.cli.base import emit_json, json_option
from survey.cli.common import (
    DATE,
    AppContext,
    StepProgress,
    pad,
    pass_app,
    progress_bar,
    study_option,
)
from survey.cohorts import COHORT_LABELS
from survey.crypto import write_new
from survey.errors import DataError, UsageError
from survey.files import fresh_outputs, kept_if_committed, removed_on_failure, track
from survey.models import Study
from survey.register.synth import DATE_STYLES, DEFAULT_AS_OF, DEFAULT_PEOPLE, write_register
from survey.roster import load_roster, write_csv
from survey.sampling.seed import seed_document
from survey.sampling.service import (
    DrawReport,
    commit_seed,
    get_draw,
    parse_allocation,
    parse_seed,
    plan_draw,
    store_draw,
    verify_draw,
)
from survey.study import DEFAULT_STUDY, list_studies, require_as_of, resolve_study

register_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _study_to_draw(session: Session, name: str | None, as_of: date | None) -> Study:
    """The study to draw for; when none exists yet, the one the draw will create (unsaved)."""
    if name is None and not list_studies(session):
        values = {"as_of": as_of.isoformat()} if as_of else {}
        return Study(name=DEFAULT_STUDY, settings=values, created_on=date.today())
    return resolve_study(session, name)


def print_summary(report: dict[str, Any]) -> None:
    """The draw's figures as a table on stdout."""
    click.echo(f"調査 {report['study']}  基準日 {report['as_of']}")
    widths = (36, 9, 8, 9, 8)
    head = ("対象 cohort", "N_h", "m_h", "N'_h", "n_h")
    click.echo("".join(pad(h, w, i > 0) for i, (h, w) in enumerate(zip(head, widths, strict=True))))
    for cohort, n_frame in report["frame"].items():
        cells = (
            f"{COHORT_LABELS[cohort]} {cohort}",
            f"{n_frame:,}",
            f"{report['removed'][cohort]:,}",
            f"{report['available'][cohort]:,}",
            f"{report['sample'][cohort]:,}",
        )
        click.echo(
            "".join(pad(c, w, i > 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        )
    total = f"{sum(report['sample'].values()):,}"
    click.echo(pad("計 total", sum(widths[:4])) + pad(total, widths[4], True))
    click.echo(f"どの枠にも入らない中学生以上 (g≥7, no person frame): {report['no_frame']:,}")
    click.echo("（保護者の対象は世帯数 / guardian cohorts counted in households）")
    # Not the seed: with the register it rebuilds the sample (`survey sample seed`).
    click.echo(f"seed SHA-256: {report['seed_sha256']}")
    click.echo(f"register SHA-256: {report['register_sha256']}")


@click.group("sample", invoke_without_command=True)
@click.option(
    "--register", "register_path", type=register_file, help="住民基本台帳 CSV. Register extract."
)
@click.option("--as-of", type=DATE, default=None, help="基準日 D. Reference date.")
@click.option(
    "--allocation",
    default=None,
    metavar="C=N,...",
    help="割当 Allocation (default: infant_guardian=500, elementary_guardian=500,"
    " junior_high=500, high_school=500, general=1250).",
)
@click.option(
    "--seed", default=None, metavar="HEX", help="256ビットのシード（16進64桁）. 256-bit seed."
)
@click.option(
    "--committed", is_flag=True, help="公開済みのシードで抽出. Draw with the committed seed."
)
@click.option(
    "--verify",
    is_flag=True,
    help="記録された抽出を再実行して照合. Re-run and compare the recorded draw.",
)
@study_option
@json_option
@click.pass_context
def sample_group(
    ctx: click.Context,
    register_path: Path | None,
    as_of: date | None,
    allocation: str | None,
    seed: str | None,
    committed: bool,
    verify: bool,
    study_name: str | None,
    as_json: bool,
) -> None:
    """標本を抽出します. Draw the study's stratified sample from a register extract."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.ensure_object(AppContext)
    if register_path is None:
        raise UsageError("--register FILE を指定してください。", "Give --register FILE.")
    if verify and (as_of or allocation or seed or committed):
        # --verify re-runs the draw with the recorded values: other ones would be ignored.
        raise UsageError(
            "--verify は記録された基準日・割当・seed で検証します。"
            "--as-of, --allocation, --seed, --committed は指定できません。",
            "--verify uses the recorded reference date, allocation and seed: "
            "--as-of, --allocation, --seed and --committed cannot be given with it.",
        )
    progress = StepProgress()
    try:
        if verify:
            _verify(app, register_path, study_name, as_json, progress)
            return
        alloc = parse_allocation(allocation)
        seed_bytes = parse_seed(seed) if seed else None
        app.actor()
        given = study_name or app.settings.study
        # Read and draw holding no write lock; then store in one short transaction (which also
        # creates the study, if this draw is the first thing done: nothing stays behind a
        # draw that fails).
        with Session(app.db.engine) as session:  # read only: closing it discards any change
            study = _study_to_draw(session, given, as_of)
            d = require_as_of(study, as_of)
            plan = plan_draw(
                session,
                app.settings,
                study,
                register_path,
                d,
                alloc,
                seed=seed_bytes,
                committed=committed,
                progress=progress,
            )
        with app.db.session() as session:
            study = resolve_study(session, given, create_with_as_of=d)
            require_as_of(study, d)
            report = store_draw(session, app.settings, study, plan)
            data = report.as_json()
            app.audit(session, "register.draw", report.audit_object())
    finally:
        progress.close()
    for warning in data["warnings"]:
        click.echo(f"警告 warning: {warning}", err=True)
    if as_json:
        emit_json(data)
    else:
        print_summary(data)
        if committed:
            click.echo(
                "公開済みのシードで抽出しました（SHA-256 は上のとおり）。シードは公表せず、"
                "survey sample seed --out FILE で検証者（審査会）に渡してください。\n"
                "Drawn with the committed seed (its SHA-256 above). Do not publish the seed: "
                "hand it to the verifier with `survey sample seed --out FILE`."
            )


def _verify(
    app: AppContext,
    register_path: Path,
    study_name: str | None,
    as_json: bool,
    progress: StepProgress,
) -> None:
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        result = verify_draw(session, app.settings, study, register_path, progress)
        app.audit(
            session,
            "register.verify",
            {
                "study": study.name,
                "verified": result.verified,
                "register_matches": result.register_matches,
            },
        )
    progress.close()
    if as_json:
        emit_json(result.as_json())
    elif result.verified:
        click.echo(
            "抽出を再実行し、標本・母集団・標本数が記録と一致しました。"
            " The re-run draw matches the record (selection, frames, sample sizes)."
        )
        click.echo(f"selection SHA-256: {result.rerun['selection_sha256']}")
    if not result.register_matches:
        # On its own line: a re-sorted register is another file but the same residents,
        # and the draw does not depend on row order.
        click.echo(
            "注意: 台帳ファイルは記録と同一ではありません（SHA-256 が違います）。"
            f" Note: the register file is not byte-identical to the recorded one"
            f" (SHA-256 {result.rerun['register_sha256']},"
            f" recorded {result.recorded.draw.register_sha256}).",
            err=as_json,
        )
    if not result.verified:
        raise DataError(
            "再実行の結果が記録と一致しません: " + ", ".join(result.differences),
            "The re-run draw differs from the record: " + ", ".join(result.differences),
        )


@sample_group.command("commit")
@study_option
@click.option(
    "--as-of",
    type=DATE,
    default=None,
    help="調査がなければ作成する基準日. Reference date if no study exists.",
)
@json_option
@pass_app
def commit(app: AppContext, study_name: str | None, as_of: date | None, as_json: bool) -> None:
    """抽出前にシードを固定し SHA-256 を表示します（公表用）. Commit a seed; print its SHA-256."""
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study, create_with_as_of=as_of)
        digest = commit_seed(session, app.settings, study)
        app.audit(session, "sample.commit", {"study": study.name, "seed_sha256": digest})
        name = study.name
    if as_json:
        emit_json({"study": name, "seed_sha256": digest})
    else:
        click.echo(
            f"シードの SHA-256（抽出前に公表してください） / publish before the draw:\n{digest}"
        )


@sample_group.command("seed")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="検証者に渡すファイル. File for the verifier.",
)
@study_option
@pass_app
def seed_command(app: AppContext, out: Path, study_name: str | None) -> None:
    """抽出のシードを検証者（審査会）用のファイルに書き出します（個人情報）.

    Write the draw's seed for the verifier (the review board). With the register it names
    every sampled unit: the file is personal data, written owner-only, tracked and audited.
    """
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        draw = get_draw(session, study)
        data = seed_document(app.settings, study, draw)
        # Written before the block: write_new refuses an existing file, which must not be
        # removed as if it were this command's own.
        write_new(out, data)
        with kept_if_committed(session, [out]):
            track(session, study, "draw_seed", out)
            app.audit(
                session,
                "file.draw_seed",
                {"study": study.name, "file": str(out.resolve()), "seed_sha256": draw.seed_sha256},
            )
    click.echo(
        f"{out}: 抽出のシード（個人情報: 台帳と合わせると標本が分かります / personal data: with"
        " the register it names the sample）",
        err=True,
    )
    click.echo(f"seed SHA-256: {draw.seed_sha256}")


@sample_group.command("show")
@study_option
@json_option
@pass_app
def show(app: AppContext, study_name: str | None, as_json: bool) -> None:
    """記録された抽出の結果を表示します. Show the recorded draw."""
    with app.db.session(write=False) as session:
        study = resolve_study(session, study_name or app.settings.study)
        data = DrawReport(study.name, get_draw(session, study)).as_json()
    emit_json(data) if as_json else print_summary(data)


@click.group("register")
def register_group() -> None:
    """住民基本台帳ファイル. Register extracts."""


@register_group.command("synth")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--people", type=click.IntRange(1), default=DEFAULT_PEOPLE, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--encoding", type=click.Choice(["cp932", "utf-8"]), default="cp932", show_default=True
)
@click.option("--as-of", type=DATE, default=DEFAULT_AS_OF, show_default=True, help="年齢の基準日.")
@click.option(
    "--date-style", type=click.Choice(sorted(DATE_STYLES)), default="iso", show_default=True
)
@json_option
def synth(
    out: Path,
    people: int,
    seed: int,
    encoding: str,
    as_of: date,
    date_style: str,
    as_json: bool,
) -> None:
    """架空の住民基本台帳を書き出します. Write a synthetic, deterministic register."""
    with progress_bar("生成 synth", people) as set_position:
        households = write_register(out, people, seed, encoding, as_of, date_style, set_position)
        set_position(people)
    if as_json:
        emit_json(
            {"file": str(out), "people": people, "households": households, "encoding": encoding}
        )
    else:
        click.echo(f"{out}: {people:,} 人 / {households:,} 世帯 ({encoding})", err=True)


@click.group("roster")
def roster_group() -> None:
    """抽出名簿（暗号化保存）. The drawn roster, encrypted at rest."""


@roster_group.command("export")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@study_option
@pass_app
def export(app: AppContext, csv_path: Path, study_name: str | None) -> None:
    """名簿を復号して CSV に書き出します（取扱注意）. Decrypt the roster to CSV (personal data)."""
    app.actor()
    with app.db.session() as session:
        study = resolve_study(session, study_name or app.settings.study)
        draw = get_draw(session, study)
        assert draw.id is not None
        records = load_roster(session, app.settings, study.name, draw.id)
        outputs = fresh_outputs(csv_path)
        with removed_on_failure(outputs):
            count = write_csv(records, csv_path)
            track(session, study, "roster_csv", csv_path)
            app.audit(
                session,
                "file.roster",
                {"study": study.name, "file": str(csv_path.resolve()), "rows": count},
            )
            session.commit()
    click.echo(f"{csv_path}: {count:,} 件（個人情報を含みます / contains personal data）", err=True)

"""``survey demo``: the whole flow on a synthetic city, for a first look."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import click
from sqlmodel import Session, select

from mailing.layouts import get_layout
from mailing.service import PrintReport, Recorder, print_codes, print_labels, print_postcards
from survey import accounts, audit, staff_keys
from survey.cli.common import AppContext, StepProgress, pass_app, progress_bar
from survey.cli.links import print_links, served_base
from survey.cli.sample import print_summary
from survey.collector.export import compact_storage, export_bundle
from survey.collector.intake import Intake, IntakeError, today_in_tokyo
from survey.crypto import new_passphrase, write_new
from survey.decrypt import unwrap_private_key
from survey.files import track
from survey.ingest import dataset
from survey.ingest.bundle_import import import_bundle
from survey.ingest.decryption import DecryptReport, decrypt_responses
from survey.ingest.provision import install_local
from survey.keys import generate_key_file, require_study_key
from survey.models import Study
from survey.register.synth import DEFAULT_AS_OF, DEFAULT_PEOPLE, write_register
from survey.sampling.service import DrawReport, draw_study, get_draw, parse_allocation
from survey.simulate import PAPER_SHARE, WEB_SHARE, simulate, simulate_paper
from survey.study import create_study, effective_settings

DEMO_STUDY = "demo"
SIMULATED_DAYS = 28
# The demo city's office, plainly made up (a number nobody can dial), so the print files and
# pages show their sender and enquiry blocks as a real study's would.
DEMO_CONTACT = [
    ("organisation", "架空市（デモ）"),
    ("section", "健康づくり課"),
    ("office_address", "〒000-0000 架空県架空市中央1丁目1番1号"),
    ("office_phone", "0000-00-0000"),
    ("office_hours", "平日 8時30分〜17時15分"),
    ("postage_mark", "後納"),
    ("postage_permit", "架空郵便局"),
]


def _mailing(app: AppContext, base: str) -> tuple[list[tuple[str, Path]], str]:
    """Study key, code slips, labels and postcards for the demo study (web address ``base``
    unless SURVEY_PUBLIC_URL says otherwise); the files, and the key's passphrase (kept in
    memory: the demo decrypts its own answers at the end)."""
    settings = app.settings
    if settings.public_url is None:
        settings = replace(settings, public_url=base)
    out = settings.data_dir / "demo"
    key_file = settings.key_dir / "demo-study-key.json"
    passphrase = settings.key_passphrase
    app.actor()
    with app.db.session() as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).one()
        key, generated = generate_key_file(
            session, settings, study, key_file, passphrase, demo=True
        )
        app.audit(session, "key.generate", {"study": DEMO_STUDY, "fingerprint": key.fingerprint})
    engine = app.db.engine
    print_codes(
        engine,
        settings,
        DEMO_STUDY,
        out / "code-slips.pdf",
        out / "codes.csv",
        record=_recorder(app, "file.code_slips"),
    )
    with app.db.session() as session:
        # One process serves both sides: the collector's tables in this database get the study.
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).one()
        installed = install_local(session, settings, study)
        app.audit(session, "collector.install", {"study": DEMO_STUDY, **installed.as_json()})
    labels = print_labels(
        engine,
        settings,
        DEMO_STUDY,
        out / "labels.pdf",
        get_layout("a4-12"),
        vendor_csv=out / "labels-vendor.csv",
        record=_recorder(app, "file.labels"),
    )
    print_postcards(
        engine, settings, DEMO_STUDY, out / "postcards.pdf", None, _recorder(app, "file.postcards")
    )
    for line in labels.warnings:
        click.echo(line, err=True)
    click.echo(f"調査鍵の指紋 / study key fingerprint: {key.fingerprint}")
    if generated:
        click.echo(f"調査鍵のパスフレーズ（一度だけ表示） / passphrase, shown once: {generated}")
    click.echo("（デモでは秘密鍵を鍵フォルダに置きます。本番では事務所の外・オフラインで保管）")
    phrase = generated or passphrase
    assert phrase is not None
    files = [
        ("調査鍵（秘密鍵） study private key", key_file),
        ("コード票 code slips", out / "code-slips.pdf"),
        ("コード一覧（印刷業者向け）codes for the printer", out / "codes.csv"),
        ("宛名ラベル labels", out / "labels.pdf"),
        ("業者向けCSV vendor CSV", out / "labels-vendor.csv"),
        ("お礼・督促はがき postcards", out / "postcards.pdf"),
    ]
    return files, phrase


def _recorder(app: AppContext, action: str) -> Recorder:
    def record(session: Session, result: PrintReport) -> None:
        app.audit(session, action, result.audit_object(DEMO_STUDY))

    return record


def _try_codes(app: AppContext, base: str, how_many: int = 3) -> None:
    """A few unused codes of a web-enabled cohort, read from the demo's own code print file,
    with links to the address served (``base``)."""
    settings = app.settings
    path = settings.data_dir / "demo" / "codes.csv"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with app.db.session(write=False) as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).one()
        web = effective_settings(study)["web_cohorts"]
    intake = Intake(app.db.engine, settings, DEMO_STUDY)
    for cohort in [c for c in web if c in {r["cohort"] for r in rows}]:
        mine = [r["code"] for r in rows if r["cohort"] == cohort]
        codes = [c for c in mine[: how_many * 4] if _usable(intake, c)][:how_many]
        click.echo(f"試せるコード / codes to try ({cohort}):")
        for code in codes:
            click.echo(f"  {code}   {base}/#code={code}")


def _usable(intake: Intake, code: str) -> bool:
    """Whether the collector would open a form for ``code`` now (unused, web cohort)."""
    try:
        intake.check(code)
    except IntakeError:
        return False
    return True


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="サーバーを起動しない. Start nothing long-running.")
@click.option("--people", type=click.IntRange(1000), default=DEFAULT_PEOPLE, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="待ち受けるアドレス. Host.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@pass_app
def demo(app: AppContext, no_serve: bool, people: int, host: str, port: int) -> None:
    """架空の市で調査を作成し、抽出・コード票・宛名ラベル・はがきまで行い、Web画面を起動します.

    Create a demo study on a synthetic city: draw 3,250 units, make the study key, print code
    slips, label sheets, the vendor CSV and postcards into the data folder, create one staff
    account per role, submit a few hundred simulated web answers over four weeks through the
    real intake, print codes to try and the accounts, then serve the public form and the
    office on http://127.0.0.1:8000/ (--host, --port; unless --no-serve). The links and the
    QR code printed are for the address served.
    """
    base = served_base(host, port)
    if not _build(app, people, base):
        click.echo(
            "デモ調査はすでにあります（結果を表示します）。 Demo study exists; showing it.",
            err=True,
        )
    _try_codes(app, base)
    _print_accounts(app)
    if no_serve:
        return
    from survey.web.serve import run

    def ready() -> None:
        print_links(host, port)
        click.echo("（Ctrl+C で停止 / Ctrl+C to stop）", err=True)

    run(app.settings, "both", host, port, ready=ready)


def _build(app: AppContext, people: int, base: str) -> bool:
    """Create, draw and print the demo study; False (after a summary) if it exists already."""
    settings = app.settings
    register_path = settings.data_dir / "demo-register.csv"
    with app.db.session() as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).first()
        if study is not None:
            print_summary(DrawReport(study.name, get_draw(session, study)).as_json())
            return False
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
    today = today_in_tokyo()
    app.actor()
    with app.db.session() as session:
        study = create_study(
            session,
            DEMO_STUDY,
            [
                ("as_of", DEFAULT_AS_OF.isoformat()),
                # Fieldwork around today: four weeks of simulated answers behind, a month to go,
                # so the public form is open when the demo serves it.
                ("fieldwork_start", (today - timedelta(days=SIMULATED_DAYS)).isoformat()),
                ("fieldwork_end", (today + timedelta(days=31)).isoformat()),
                *DEMO_CONTACT,
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
        # The synthetic register names every resident of the demo city: tracked, so the
        # demo's erasure destroys it with the rest of its personal data.
        track(session, study, "register", register_path)
        app.audit(session, "study.create", {"study": DEMO_STUDY})
        app.audit(session, "register.draw", report.audit_object())
    progress.close()
    print_summary(data)
    files, passphrase = _mailing(app, base)
    click.echo(f"データ data: {settings.data_dir}   鍵 keys: {settings.key_dir}")
    for what, path in files:
        click.echo(f"{what}: {path}")
    _accounts(app)
    _fieldwork(app)
    _carry_answers(app)
    _paper(app)
    _analyse(app, passphrase)
    return True


DEMO_ROLES = ("officer", "manager", "analyst", "admin")
# Double entry needs a second officer: each paper sheet is keyed by two different people.
DEMO_USERS = (*((r, r) for r in DEMO_ROLES), ("officer2", "officer"))


def _accounts(app: AppContext) -> None:
    """One staff account per role, passwords generated and kept in var/demo/accounts.txt.

    The keys follow the real rules rather than a shortcut: the demo manager's key is confirmed
    by the key ceremony (her password opens it), and she then confirms the others' keys.
    """
    path = app.settings.data_dir / "demo" / "accounts.txt"
    passwords = {name: new_passphrase() for name, _role in DEMO_USERS}
    now = audit.now_utc()
    with app.db.session() as session:
        for name, role in DEMO_USERS:
            # The generated passwords are the demo users' own (no forced first change).
            accounts.add_user(session, name, [role], passwords[name], must_change=False)
            app.audit(session, "user.add", {"user": name, "roles": [role]})
        manager = accounts.require_user(session, "manager")
        key = staff_keys.bootstrap_key(session, manager, passwords["manager"], now)
        detail = {"user": "manager", "key": key.fingerprint}
        audit.append(session, "user:manager", "user.key_bootstrap", detail)
        for name, _role in DEMO_USERS:
            if name != "manager":
                user = accounts.require_user(session, name)
                key = staff_keys.active_key(session, user)
                staff_keys.confirm_key(session, key, manager, now)
                detail = {"user": name, "key": key.fingerprint}
                audit.append(session, "user:manager", "user.key_confirm", detail)
    write_new(path, "".join(f"{r}\t{p}\n" for r, p in passwords.items()).encode())


def _print_accounts(app: AppContext) -> None:
    path = app.settings.data_dir / "demo" / "accounts.txt"
    if path.exists():
        click.echo(f"事務局の画面のアカウント / office accounts（{path}）:")
        for line in path.read_text(encoding="utf-8").splitlines():
            role, password = line.split("\t")
            click.echo(f"  {role:<8} {password}")


def _fieldwork(app: AppContext) -> None:
    """A few hundred web answers spread over four weeks, through the real intake."""
    settings = app.settings
    with (settings.data_dir / "demo" / "codes.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes: dict[str, list[str]] = {}
    for row in reversed(rows):  # from the end: the codes shown to try stay unused
        codes.setdefault(row["cohort"], []).append(row["code"])
    with app.db.session(write=False) as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).one()
        sample = get_draw(session, study).sample
        public = require_study_key(session, study).public_key
        start = date.fromisoformat(effective_settings(study)["fieldwork_start"])

    def make_intake(clock: Callable[[], date]) -> Intake:
        return Intake(app.db.engine, settings, DEMO_STUDY, clock=clock)

    total = sum(round(sample.get(c, 0) * s) for c, s in WEB_SHARE.items())
    with progress_bar("Web回答（模擬） simulated answers", total) as set_position:
        done = simulate(
            make_intake,
            codes,
            sample,
            public,
            start,
            days=SIMULATED_DAYS,
            progress=lambda n, _t: set_position(n),
        )
    click.echo(
        "模擬のWeb回答 / simulated web answers: " + ", ".join(f"{c} {n}" for c, n in done.items())
    )


def _paper(app: AppContext) -> None:
    """Returned paper for every cohort: logged, keyed by two officers, reconciled; blank
    returns and undeliverable mail; one envelope also answered on the web (set aside)."""
    with (app.settings.data_dir / "demo" / "codes.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes: dict[str, list[str]] = {}
    for row in rows:
        codes.setdefault(row["cohort"], []).append(row["code"])
    with app.db.session(write=False) as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).one()
        sample = get_draw(session, study).sample
        start = date.fromisoformat(effective_settings(study)["fieldwork_start"])
        web = effective_settings(study)["web_cohorts"]
    # The first codes stay unused (the demo offers them to try on the web); the web answered
    # with the last ones, and the first web cohort's last code comes back on paper as well.
    sheets = {c: mine[20:] for c, mine in codes.items()}
    if web and web[0] in codes:
        sheets[web[0]] = [codes[web[0]][-1], *sheets[web[0]]]
    total = sum(round(sample.get(c, 0) * s) for c, s in PAPER_SHARE.items())
    with progress_bar("紙の回答（模擬） simulated paper", total) as set_position:
        done = simulate_paper(
            app.db.engine, app.settings, DEMO_STUDY, sheets, sample, start,
            ("officer", "officer2"), days=SIMULATED_DAYS,
            progress=lambda n, _t: set_position(n),
        )  # fmt: skip
    click.echo(
        "模擬の紙の回答 / simulated paper: "
        + ", ".join(f"{c} {n}" for c, n in done.returned.items())
        + f"（照合 reconciled {done.reconciled}、重複 duplicates {done.duplicates}、"
        f"白票 blank {done.blank}、不達 undeliverable {done.undeliverable}）"
    )


def _carry_answers(app: AppContext) -> None:
    """The collector's answers into the office, the way a split deployment carries them: a
    signed bundle exported on the collector side and imported on the office side."""
    path = app.settings.data_dir / "demo" / "bundle-0001.json"
    with app.db.session() as session:
        exported = export_bundle(session, app.settings, DEMO_STUDY, path)
    compact_storage(app.db.engine)
    if exported is None:
        return
    with app.db.session() as session:
        study = session.exec(select(Study).where(Study.name == DEMO_STUDY)).one()
        report = import_bundle(session, study, path.read_bytes())
        app.audit(session, "bundle.import", {**report.as_json(), "file": path.name})
    click.echo(
        f"回答の束 / answer bundle {exported.sequence}: {exported.records:,} 件 → {path}"
        f"（事務所へ取り込み / imported into the office: {report.added:,}）"
    )


def _analyse(app: AppContext, passphrase: str) -> None:
    """What the analyst does next: decrypt with the study key, build and export the dataset."""
    settings = app.settings
    key = unwrap_private_key((settings.key_dir / "demo-study-key.json").read_bytes(), passphrase)

    def audit_decrypt(session: Session, report: DecryptReport) -> None:
        app.audit(session, "responses.decrypt", report.as_json())

    opened = decrypt_responses(app.db.engine, DEMO_STUDY, key, record=audit_decrypt)
    del key
    built = dataset.build(
        app.db.engine,
        DEMO_STUDY,
        lambda session, report: app.audit(session, "dataset.build", report.as_json()),
    )
    out = settings.data_dir / "demo" / "dataset.csv"
    out.unlink(missing_ok=True)
    dataset.export(
        app.db.engine,
        DEMO_STUDY,
        out,
        lambda session, report: app.audit(
            session, "file.dataset", {**report.as_json(), "file": str(out)}
        ),
    )
    click.echo(
        f"復号 / decrypted: {sum(opened.opened.values()):,}（保留 quarantined "
        f"{sum(opened.quarantined.values())}）"
    )
    for cohort, channels in built.counts.items():
        line = ", ".join(f"{channel} {n:,}" for channel, n in channels.items())
        click.echo(f"  データセット / dataset {cohort}: {line}")
    click.echo(f"データセット / dataset: {out}（{built.rows:,} 行 rows）")

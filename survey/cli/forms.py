"""``survey forms``: check, export and codebook of the questionnaire definitions."""

from __future__ import annotations

from pathlib import Path

import click

from survey.cli.base import emit_json
from survey.cli.common import AppContext, pass_app
from survey.forms.codebook import codebook, write_xlsx
from survey.forms.loader import FormError, load_forms
from survey.forms.versions import check_districts, check_frozen


@click.group("forms")
def forms_group() -> None:
    """調査票の定義. Questionnaire definitions."""


@forms_group.command("check")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="定義フォルダ（既定は同梱の定義）. Definitions folder.",
)
@pass_app
def check(app: AppContext, directory: Path | None) -> None:
    """すべての定義を検証します. Validate every definition (and frozen versions)."""
    forms = load_forms(directory)
    with app.db.session(write=False) as session:
        problems = check_frozen(session, forms) + check_districts(session, forms)
    if problems:
        raise FormError(problems)
    for (form_id, version), form in sorted(forms.items()):
        click.echo(
            f"OK {form_id} v{version} ({form.cohort}): {len(form.variables())} 変数 variables, "
            f"{len(form.derived)} 派生 derived, padded_size {form.padded_size}"
        )


@forms_group.command("export")
@click.option("--json", "as_json", is_flag=True, required=True, help="JSON で出力. Print as JSON.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None)
def export(as_json: bool, directory: Path | None) -> None:
    """コードブックを JSON で出力します. Print the codebook as JSON."""
    emit_json(codebook(load_forms(directory)))


@forms_group.command("codebook")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None)
def codebook_xlsx(out: Path, directory: Path | None) -> None:
    """分析者向けのコードブック（xlsx）. Write the codebook for analysts (.xlsx)."""
    write_xlsx(load_forms(directory), out)
    click.echo(f"→ {out}", err=True)

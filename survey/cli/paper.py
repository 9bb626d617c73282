"""``survey paper``: the printed questionnaire, the receipt log, keying and vendor batches."""

from __future__ import annotations

import click


@click.group("paper")
def paper_group() -> None:
    """紙の調査票. Paper questionnaires: print, receipt log, keying, vendor import."""


from survey.cli.paper_forms import forms_command  # noqa: E402  (the group's commands join it)

paper_group.add_command(forms_command)

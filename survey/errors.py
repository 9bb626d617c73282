"""Errors every front door can show to a person, in Japanese and English.

The CLI maps :class:`DataError` to exit code 1 and :class:`UsageError` to exit code 2.
Messages must never contain personal data (names, addresses, resident ids).
"""

from __future__ import annotations


class SurveyError(Exception):
    """Base class: a failure with a bilingual message meant for the user."""

    exit_code = 1

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en

    def __str__(self) -> str:
        return f"{self.ja}\n{self.en}"

    def __reduce__(self) -> tuple[type[SurveyError], tuple[str, str]]:
        # Both messages survive a pickle (an error raised in survey.analysis.offload's child).
        return type(self), (self.ja, self.en)


class DataError(SurveyError):
    """The input data (a file, the database state) is wrong: exit code 1."""

    exit_code = 1


class UsageError(SurveyError):
    """The command was called wrongly (options, settings): exit code 2."""

    exit_code = 2

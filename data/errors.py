"""The project's small exception family: errors are data with a title a user can read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where, what, examples, and how to fix it."""

    file: str
    title: str
    message: str
    fix: str
    column: str | None = None
    examples: tuple[str, ...] = ()
    severity: str = "error"  # "error" stops loading; "warning" is reported and rows are rejected/kept

    def text(self) -> str:
        where = f"{self.file}" + (f", column '{self.column}'" if self.column else "")
        ex = f" Examples: {'; '.join(self.examples)}." if self.examples else ""
        return f"{self.title} ({where}): {self.message}{ex} Fix: {self.fix}"


class RIError(Exception):
    """Base error: a short title and a sentence saying what to do."""

    def __init__(self, title: str, message: str, problems: tuple[Problem, ...] | list[Problem] = ()):
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message
        self.problems = tuple(problems)


class InputError(RIError):
    """The uploaded files cannot be used as they are (every problem is listed)."""


class StoreError(RIError):
    """The database could not answer a query."""


class AnalysisError(RIError):
    """An analysis cannot be computed on this data (e.g. too little of it)."""

"""What an import did: counts, and every problem with its line number, in words for users."""

from __future__ import annotations

from dataclasses import dataclass

RAW_LIMIT = 200
#: At most this many problems are kept one by one; the rest are only counted, so a broken
#: million-row file cannot fill the memory with problem entries.
MAX_PROBLEMS = 5000


def shorten(text: str, limit: int = RAW_LIMIT) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


@dataclass
class ImportProblem:
    """One thing that did not go as the file said, at ``line`` (1 = the first line)."""

    line: int
    reason: str
    raw: str  # the offending text, shortened

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.reason}" + (f" ({self.raw!r})" if self.raw else "")


@dataclass
class ImportReport:
    file: str
    format: str
    created: int
    updated: int
    unchanged: int
    skipped: int
    problems: list[ImportProblem]
    cancelled: bool = False
    encoding: str = ""
    organizations_created: int = 0
    problems_not_listed: int = 0  # problems beyond MAX_PROBLEMS, counted only

    def add_problem(self, line: int, reason: str, raw: str = "") -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.problems_not_listed += 1
            return
        self.problems.append(ImportProblem(line, reason, shorten(raw)))

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.problems_not_listed

    def summary(self) -> str:
        """One line for people, e.g. for the status bar or the end of a command-line run."""
        parts = [
            f"{self.created} created",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{self.skipped} skipped",
        ]
        if self.organizations_created:
            parts.append(f"{self.organizations_created} new organization(s)")
        problems = self.problem_count
        parts.append(f"{problems} problem(s)" if problems else "no problems")
        what = f"{self.file} ({self.format})" if self.format else self.file
        text = f"{what}: " + ", ".join(parts)
        if self.cancelled:
            text += "; cancelled, the contacts counted here were saved"
        return text

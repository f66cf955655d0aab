"""The exceptions kim-excel raises on purpose. The CLI turns each into a German message."""

from __future__ import annotations

from collections.abc import Sequence

from kim_excel.core.model import Problem


class KimError(Exception):
    """Base of every error that is reported to the user as text, without a traceback."""


class InputError(KimError):
    """The input workbooks have problems; every one of them is listed."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # crosses from a worker process with its problems intact
        return type(self), (self.problems,)


class UnreadableInput(KimError):
    """No usable input at all (a missing folder, no workbook in it)."""


class OutputError(KimError):
    """The results cannot be written (disk full, no permission, a name too long)."""


class OutputLocked(KimError):
    """Another kim-excel run is writing into the same output folder."""


class InvariantViolation(AssertionError):
    """A settlement broke a rule that must always hold: a bug in kim-excel, never bad input."""


class MailError(KimError):
    """Mailing cannot start: stale or missing settlement files, bad SMTP settings."""


class LedgerError(KimError):
    """The year folder's record is missing, damaged or older than the folder: no command may
    change the folder until the clerk restores it (SPEC § 7)."""

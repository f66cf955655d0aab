"""The errors kim-excel raises on purpose, and how the command line turns each into a German
message and an exit status: 1 for anything the user can fix, never a traceback."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.commands import settle as pipeline
from kim_excel.core.errors import (
    InputError,
    InvariantViolation,
    KimError,
    OutputError,
    OutputLocked,
    UnreadableInput,
)
from kim_excel.core.model import CellRef, Problem

PROBLEMS = (
    Problem("„13“ ist ungültig; erlaubt sind 0 bis 12 Monate.",
            CellRef("Abrechnung.xlsx", "Personalkosten", "D2")),
    Problem("„Sachkosten“ fehlt.", CellRef("Abrechnung.xlsx", "Sachkosten")),
)


def test_an_input_error_lists_every_problem_one_per_line():
    error = InputError(PROBLEMS)
    assert error.problems == PROBLEMS
    assert str(error).splitlines() == [
        "Abrechnung.xlsx: Personalkosten!D2: „13“ ist ungültig; erlaubt sind 0 bis 12 Monate.",
        "Abrechnung.xlsx: Sachkosten: „Sachkosten“ fehlt."]


def raise_input_error():
    raise InputError(PROBLEMS)


def test_an_input_error_crosses_from_a_worker_process_with_its_problems():
    """Partner workbooks are written in worker processes; their errors must arrive whole."""
    assert pickle.loads(pickle.dumps(InputError(PROBLEMS))).problems == PROBLEMS
    with ProcessPoolExecutor(max_workers=1) as pool, pytest.raises(InputError) as caught:
        pool.submit(raise_input_error).result()
    assert caught.value.problems == PROBLEMS


def test_the_user_facing_errors_share_one_base_and_a_bug_does_not():
    for error in (InputError, UnreadableInput, OutputError, OutputLocked):
        assert issubclass(error, KimError)
    assert not issubclass(InvariantViolation, KimError)  # a bug must show its traceback
    assert issubclass(InvariantViolation, AssertionError)


def settle_raising(monkeypatch, error: BaseException):
    def run_settlement(*args, **kwargs):
        raise error

    monkeypatch.setattr(pipeline, "run_settlement", run_settlement)
    return CliRunner().invoke(main, ["abrechnen"])


@pytest.mark.parametrize("error, message", [
    (UnreadableInput("Eingang „input“ gibt es nicht."),
     "Fehler: Eingang „input“ gibt es nicht.\n"),
    (OutputError("output/2024: kein Speicherplatz mehr frei."),
     "Fehler: output/2024: kein Speicherplatz mehr frei.\n"),
    (OutputLocked("Ein anderer Lauf schreibt gerade nach output/."),
     "Fehler: Ein anderer Lauf schreibt gerade nach output/.\n"),
])
def test_each_error_becomes_fehler_and_its_message_with_exit_status_1(monkeypatch, error,
                                                                      message):
    result = settle_raising(monkeypatch, error)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.output.endswith(message)
    assert "Traceback" not in result.output


def test_an_input_error_lists_its_problems_with_exit_status_1(monkeypatch):
    result = settle_raising(monkeypatch, InputError(PROBLEMS))
    assert result.exit_code == 1
    for problem in PROBLEMS:
        assert str(problem) in result.output
    assert "Es wurde nichts geschrieben." in result.output


def test_an_invariant_violation_is_not_hidden_as_a_user_error(monkeypatch):
    """A broken invariant is a bug in kim-excel: it must not pass as bad input."""
    result = settle_raising(monkeypatch, InvariantViolation("Anteile ≠ Eigenanteil"))
    assert result.exit_code == 1
    assert isinstance(result.exception, InvariantViolation)
    assert "Fehler: Anteile" not in result.output

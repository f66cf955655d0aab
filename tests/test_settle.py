"""The settlement run in one function (kim_excel/commands/settle.py): read → validate →
compare with the ledger → calculate → plan → write, the input's warnings carried along, one
file name per partner, and a failure to write told in German. The whole run through the real
command is tested in tests/test_cli.py, tests/test_life.py and tests/test_nothing_lost.py."""

from __future__ import annotations

import errno
from dataclasses import replace
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from kim_excel.commands.settle import (
    check_file_names,
    load_settlement,
    output_failure,
    run_settlement,
)
from kim_excel.core.errors import InputError, OutputError
from kim_excel.core.model import SettlementInput
from kim_excel.input.validation import load_input
from kim_excel.ledger.book import Kind, State
from kim_excel.ledger.store import RECORD_NAME
from kim_excel.ledger.transaction import read_ledger
from tests.builders import example_2024, per_employer, write

TODAY = date(2025, 3, 2)


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """The example as one input workbook: its folder."""
    folder = tmp_path_factory.mktemp("settle") / "input"
    write(example_2024(), folder / "Abrechnung_2024.xlsx")
    return folder


@pytest.fixture(scope="module")
def inp(example) -> SettlementInput:
    return load_input(example, TODAY)[0]


def renamed(inp: SettlementInput, names: dict[str, str]) -> SettlementInput:
    """``inp`` with parties renamed (old name → new name)."""
    return replace(inp, parties=tuple(replace(p, name=names.get(p.name, p.name))
                                      for p in inp.parties))


def test_every_partner_gets_its_own_ascii_file_name_and_rechnungsnummer(example, tmp_path):
    result = run_settlement(example, tmp_path / "output", TODAY)

    bills = {b.partner: b for _, _, b in result.ledger.bills()}
    assert bills["Lüdinghausen"].file == "Abrechnung_2024_Luedinghausen.xlsx"
    assert bills["Lüdinghausen"].number == "2024-Luedinghausen"
    assert bills["Billerbeck"].file == "Abrechnung_2024_Billerbeck.xlsx"
    assert len(bills) == len({b.file for b in bills.values()}) == 8
    assert "Coesfeld" not in bills  # an employer gets no letter
    assert {b.kind for b in bills.values()} == {Kind.LETTER}
    assert {result.folder / b.file for b in bills.values()} <= set(result.files)


def test_two_partners_with_the_same_ascii_name_are_refused_and_each_pair_is_named(inp):
    """Lüdinghausen (Süd) against a Nord partner renamed Luedinghausen; Olfen against OLFEN:
    Windows does not tell the two file names apart."""
    clash = renamed(inp, {"Billerbeck": "Luedinghausen", "Senden": "OLFEN"})

    with pytest.raises(InputError) as raised:
        check_file_names(clash)

    assert [p.message for p in raised.value.problems] == [
        "„Lüdinghausen“ und „Luedinghausen“ ergäben denselben Dateinamen "
        "Abrechnung_2024_Luedinghausen.xlsx; bitte im Blatt „Vertragsparteien“ einen der "
        "Namen eindeutig machen.",
        "„OLFEN“ und „Olfen“ ergäben denselben Dateinamen Abrechnung_2024_OLFEN.xlsx; bitte "
        "im Blatt „Vertragsparteien“ einen der Namen eindeutig machen.",
    ]
    check_file_names(inp)  # the example itself is fine


def test_a_clash_of_file_names_writes_nothing(tmp_path):
    form = example_2024()
    for party in form.parties:
        if party["Kommune"] == "Senden":
            party["Kommune"] = "Olfen!"  # the same file name, another party
    write(form, tmp_path / "input" / "Abrechnung_2024.xlsx")

    with pytest.raises(InputError, match="„Olfen!“ und „Olfen“ ergäben denselben Dateinamen"):
        run_settlement(tmp_path / "input", tmp_path / "output", TODAY)

    assert not (tmp_path / "output").exists()


def test_the_inputs_warnings_travel_with_the_settlement(tmp_path):
    """A year not yet over is a plausibility warning of the input (validation), not of the
    calculation; it must still reach the terminal and LIESMICH.txt, and it says what the run
    does: it writes a draft."""
    write(example_2024(), tmp_path / "input" / "Abrechnung_2024.xlsx")
    early = date(2024, 11, 29)
    _, input_notices = load_input(tmp_path / "input", early)

    loaded, notices = load_settlement(tmp_path / "input", early)
    result = run_settlement(tmp_path / "input", tmp_path / "output", early)

    (not_over,) = [n for n in input_notices if "2024 ist noch nicht abgeschlossen" in n.message]
    assert "Die Abrechnung wird trotzdem geschrieben, als Entwurf" in not_over.message
    assert list(loaded.notices[:len(input_notices)]) == input_notices
    assert notices == list(loaded.notices)
    assert result.notices[:len(input_notices)] == input_notices
    assert list(result.settlement.notices) == notices
    assert str(not_over) in (result.folder / "LIESMICH.txt").read_text(encoding="utf-8")
    assert {r.is_issued for r in result.ledger.regions.values()} == {False}


def test_without_a_year_folder_an_empty_settlement_date_is_today(tmp_path):
    form = example_2024()
    form.settings["Datum der Abrechnung"] = None
    write(form, tmp_path / "input" / "Abrechnung_2024.xlsx")

    settlement, _ = load_settlement(tmp_path / "input", TODAY)

    assert {r.terms.settlement_date for r in settlement.regions} == {TODAY}
    assert not (tmp_path / "output").exists()


def test_a_run_into_an_empty_folder_writes_every_file_and_the_ledger_it_returns(example,
                                                                                tmp_path):
    result = run_settlement(example, tmp_path / "output", TODAY)

    names = {p.name for p in result.files}
    assert names >= {b.file for _, _, b in result.ledger.bills()} | {
        "Uebersicht_2024.xlsx", "Buchungsliste_2024.csv", "LIESMICH.txt"}
    assert all(p.is_file() and p.parent == result.folder for p in result.files)
    assert result.folder == tmp_path / "output" / "2024"
    assert (result.folder / RECORD_NAME).is_file()
    assert read_ledger(tmp_path / "output", 2024) == result.ledger
    assert [r.settlement.state for r in result.ledger.regions.values()] == [State.DRAFT] * 3
    assert set(result.ledger.files) == names


def test_a_rerun_with_the_same_input_writes_the_summaries_and_keeps_the_letters(example,
                                                                                tmp_path):
    first = run_settlement(example, tmp_path / "output", TODAY)
    letter = first.folder / "Abrechnung_2024_Billerbeck.xlsx"
    written = letter.stat().st_mtime_ns

    again = run_settlement(example, tmp_path / "output", TODAY)

    assert {p.name for p in again.files} == {"Uebersicht_2024.xlsx", "Buchungsliste_2024.csv",
                                             "LIESMICH.txt"}
    assert letter.stat().st_mtime_ns == written
    assert again.ledger.regions == first.ledger.regions


def test_a_failure_while_writing_is_told_in_german_with_the_folder_and_the_reason():
    text = output_failure(Path("/daten/ausgabe"), OSError(errno.ENOSPC, "No space left"))

    assert text == ("Die Ergebnisse können nicht nach „/daten/ausgabe“ geschrieben werden "
                    "(kein Speicherplatz mehr frei). Bitte Schreibrechte und freien "
                    "Speicherplatz prüfen, oder mit --ausgabe einen anderen Ordner angeben. "
                    "Frühere Ergebnisse sind unverändert.")


def test_an_output_folder_that_is_a_file_is_an_output_error(example, tmp_path):
    ausgabe = tmp_path / "ausgabe"
    ausgabe.write_text("kein Ordner")

    with pytest.raises(OutputError) as raised:
        run_settlement(example, ausgabe, TODAY)

    assert str(raised.value) == output_failure(
        ausgabe, OSError(errno.EEXIST, "File exists"))
    assert ausgabe.read_text() == "kein Ordner"


def test_an_employers_prefix_stands_before_the_numbers_of_its_own_bills_only(tmp_path):
    """Each employer fills in its own workbook; Ascheberg's ``Präfix Rechnungsnummer`` is its
    own setting (SPEC § 4): Süd's bills carry it, on the letter too; file names stay."""
    form = example_2024()
    for employer in ("Coesfeld", "Dülmen", "Ascheberg"):
        part = per_employer(form, employer)
        if employer == "Ascheberg":
            part.settings["Präfix Rechnungsnummer"] = "RE-KIM-"
        write(part, tmp_path / "input" / f"{employer}.xlsx")

    result = run_settlement(tmp_path / "input", tmp_path / "output", TODAY)

    numbers = {b.partner: (b.number, b.file) for _, _, b in result.ledger.bills()}
    assert numbers["Olfen"] == ("RE-KIM-2024-Olfen", "Abrechnung_2024_Olfen.xlsx")
    assert numbers["Lüdinghausen"][0] == "RE-KIM-2024-Luedinghausen"
    assert numbers["Billerbeck"][0] == "2024-Billerbeck"
    assert numbers["Nottuln"][0] == "2024-Nottuln"
    sheet = openpyxl.load_workbook(result.folder / "Abrechnung_2024_Olfen.xlsx")["Abrechnung"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "RE-KIM-2024-Olfen" in texts
    assert any("Rechnung RE-KIM-2024-Olfen" in t for t in texts)  # the Verwendungszweck

"""The settlement run in one function (kim_excel/pipeline.py): read → validate → calculate →
write, the input's warnings carried along, one file name per partner. The whole run through
the real command is tested in tests/test_cli.py, tests/test_life.py and
tests/test_nothing_lost.py."""

from __future__ import annotations

import errno
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from kim_excel.commands.settle import (
    load_settlement,
    output_failure,
    partner_file_names,
    read_and_settle,
    write_outputs,
)
from kim_excel.core.errors import InputError
from kim_excel.core.model import Settlement
from kim_excel.input.validation import load_input
from tests import builders
from tests.builders import example_2024, write

TODAY = date(2025, 3, 2)


@pytest.fixture(scope="module")
def settlement(tmp_path_factory) -> Settlement:
    return builders.settled(example_2024(), tmp_path_factory.mktemp("pipeline"), TODAY)


def renamed(settlement: Settlement, names: dict[str, str]) -> Settlement:
    """``settlement`` with partners renamed (old name → new name)."""
    def rename(share):
        new = names.get(share.party.name, share.party.name)
        return replace(share, party=replace(share.party, name=new))

    return replace(settlement, regions=tuple(
        replace(r, shares=tuple(rename(s) for s in r.shares)) for r in settlement.regions))


def test_every_partner_gets_its_own_ascii_file_name(settlement):
    names = partner_file_names(settlement)

    assert names["Lüdinghausen"] == "Abrechnung_2024_Luedinghausen.xlsx"
    assert names["Billerbeck"] == "Abrechnung_2024_Billerbeck.xlsx"
    assert len(names) == len(set(names.values())) == 8
    assert "Coesfeld" not in names  # an employer gets no letter


def test_two_partners_with_the_same_ascii_name_are_refused_and_each_pair_is_named(settlement):
    """Lüdinghausen (Süd) against a Nord partner renamed Luedinghausen; Olfen against OLFEN:
    Windows does not tell the two file names apart."""
    clash = renamed(settlement, {"Billerbeck": "Luedinghausen", "Senden": "OLFEN"})

    with pytest.raises(InputError) as raised:
        partner_file_names(clash)

    assert [p.message for p in raised.value.problems] == [
        "„Lüdinghausen“ und „Luedinghausen“ ergäben denselben Dateinamen "
        "Abrechnung_2024_Luedinghausen.xlsx; bitte im Blatt „Vertragsparteien“ einen der "
        "Namen eindeutig machen.",
        "„OLFEN“ und „Olfen“ ergäben denselben Dateinamen Abrechnung_2024_OLFEN.xlsx; bitte "
        "im Blatt „Vertragsparteien“ einen der Namen eindeutig machen.",
    ]


def test_the_inputs_warnings_travel_with_the_settlement(tmp_path):
    """A year not yet over is a plausibility warning of the input (validation), not of the
    calculation; it must still reach the terminal and LIESMICH.txt."""
    write(example_2024(), tmp_path / "input" / "Abrechnung_2024.xlsx")
    early = date(2024, 11, 29)
    _, input_notices = load_input(tmp_path / "input", early)

    _, settlement = read_and_settle(tmp_path / "input", early)
    loaded, notices = load_settlement(tmp_path / "input", early)

    assert any("2024 ist noch nicht abgeschlossen" in n.message for n in input_notices)
    assert list(settlement.notices[:len(input_notices)]) == input_notices
    assert notices == list(loaded.notices) == list(settlement.notices)


def test_write_outputs_fills_an_empty_folder_with_every_file(settlement, tmp_path):
    names = partner_file_names(settlement)

    written = write_outputs(settlement, names, tmp_path)

    assert {p.name for p in written} >= set(names.values()) | {"Uebersicht_2024.xlsx",
                                                               "Buchungsliste_2024.csv"}
    assert all(p.is_file() and p.parent == tmp_path for p in written)


def test_a_failure_while_writing_is_told_in_german_with_the_folder_and_the_reason():
    text = output_failure(Path("/daten/ausgabe"), OSError(errno.ENOSPC, "No space left"))

    assert text == ("Die Ergebnisse können nicht nach „/daten/ausgabe“ geschrieben werden "
                    "(kein Speicherplatz mehr frei). Bitte Schreibrechte und freien "
                    "Speicherplatz prüfen, oder mit --ausgabe einen anderen Ordner angeben. "
                    "Frühere Ergebnisse sind unverändert.")

"""Names as people write them: plain or with the Bezeichnung; close misspellings answered."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.core.agreement import COESFELD_PARTIES
from kim_excel.core.names import resolve, suggest, unknown_party
from tests.builders import example_2024, write

PARTIES = [SimpleNamespace(name=p[0], bezeichnung=p[1]) for p in COESFELD_PARTIES]


def test_plain_and_full_designations_resolve_to_the_party():
    assert resolve("Nottuln", PARTIES) == "Nottuln"
    assert resolve("Gemeinde Nottuln", PARTIES) == "Nottuln"
    assert resolve(" stadt  DÜLMEN ", PARTIES) == "Dülmen"
    assert resolve("Stadt Nottuln", PARTIES) is None  # Nottuln is a Gemeinde
    assert resolve("Duelmen", PARTIES) is None  # suggested, never guessed


def test_close_names_get_a_suggestion_far_ones_none():
    assert suggest("Duelmen", PARTIES) == "Dülmen"
    assert suggest("Dulmen", PARTIES) == "Dülmen"
    assert suggest("Luedinghausen", PARTIES) == "Lüdinghausen"
    assert suggest("Stadt Ludinghausen", PARTIES) == "Lüdinghausen"
    assert suggest("Nordkirchn", PARTIES) == "Nordkirchen"
    assert suggest("Münster", PARTIES) is None
    assert suggest("", PARTIES) is None


def test_the_message_with_and_without_a_suggestion():
    assert unknown_party("Duelmen", PARTIES, "erlaubt sind …") == (
        "„Duelmen“ ist keine Vertragspartei – meinten Sie „Dülmen“? Erlaubt sind …")
    assert unknown_party("Münster", PARTIES, "erlaubt sind …") == (
        "„Münster“ ist keine Vertragspartei; erlaubt sind …")


def booking(tmp_path, form, name):
    write(form, tmp_path / name / "Abrechnung.xlsx")
    result = CliRunner().invoke(main, ["abrechnen", "--eingang", str(tmp_path / name),
                                       "--ausgabe", str(tmp_path / f"{name}-out")])
    assert result.exit_code == 0, result.output
    return (tmp_path / f"{name}-out" / "2024" / "Buchungsliste_2024.csv").read_bytes()


def test_full_designations_in_every_sheet_settle_like_the_plain_names(tmp_path):
    plain = example_2024()
    plain.subsidies = [{"Anstellungskörperschaft": "Dülmen", "Förderung erhalten": Decimal(50000)}]
    full = example_2024()
    for row in full.positions + full.material:
        party = next(p for p in PARTIES if p.name == row["Anstellungskörperschaft"])
        row["Anstellungskörperschaft"] = f"{party.bezeichnung} {party.name}"
    full.advances[1]["Kommune"] = "Gemeinde Nordkirchen"
    full.advances.append({"Kommune": "Gemeinde Nottuln", "Datum": full.advances[0]["Datum"],
                          "Betrag": Decimal(100)})
    plain.advances.append({"Kommune": "Nottuln", "Datum": full.advances[0]["Datum"],
                           "Betrag": Decimal(100)})
    full.subsidies = [{"Anstellungskörperschaft": "Stadt Dülmen",
                       "Förderung erhalten": Decimal(50000)}]
    assert booking(tmp_path, full, "full") == booking(tmp_path, plain, "plain")


def test_hours_under_the_full_designation_are_accepted(tmp_path):
    form = example_2024()
    form.hours = [{"Kommune": "Stadt Dülmen", "Stunden": Decimal(300)},
                  {"Kommune": "Gemeinde Nottuln", "Stunden": Decimal(100)}]
    write(form, tmp_path / "in" / "Abrechnung.xlsx")
    result = CliRunner().invoke(main, ["pruefen", "--eingang", str(tmp_path / "in")])
    assert result.exit_code == 0, result.output


def test_duelmen_is_answered_with_duelmen(tmp_path):
    form = example_2024()
    form.positions[3]["Anstellungskörperschaft"] = "Duelmen"
    write(form, tmp_path / "in" / "Abrechnung.xlsx")
    result = CliRunner().invoke(main, ["pruefen", "--eingang", str(tmp_path / "in")])
    assert result.exit_code == 1
    assert ("Abrechnung.xlsx: Personalkosten!A5: „Duelmen“ ist keine Vertragspartei – meinten "
            "Sie „Dülmen“? Erlaubt sind die Anstellungskörperschaften") in result.output


def test_one_party_named_twice_both_ways_in_hours_is_an_error(tmp_path):
    form = example_2024()
    form.hours = [{"Kommune": "Olfen", "Stunden": Decimal(300)},
                  {"Kommune": "Stadt Olfen", "Stunden": Decimal(100)}]
    write(form, tmp_path / "in" / "Abrechnung.xlsx")
    result = CliRunner().invoke(main, ["pruefen", "--eingang", str(tmp_path / "in")])
    assert result.exit_code == 1
    assert ("Stunden!A3: „Stadt Olfen“ steht doppelt (als „Olfen“ zuerst in Stunden!A2); "
            "erlaubt ist eine Zeile je Kommune.") in result.output

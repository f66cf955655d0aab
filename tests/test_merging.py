"""merging.py through the real command: in Vertragsparteien a cell empty in one workbook
and filled in another is no disagreement; two different filled values name both cells."""

from __future__ import annotations

from tests.builders import example_2024, per_employer
from tests.test_checks import BANK_CELLS, coesfeld_clerk, nothing_written, party, run


def test_bank_cells_left_empty_in_one_workbook_and_filled_in_another_agree(tmp_path):
    nord = coesfeld_clerk()  # only Coesfeld's IBAN
    mitte = per_employer(example_2024(), "Dülmen")  # everybody's bank details
    party(mitte, "Coesfeld")["BIC"] = "WELADE3WXXX"
    code, output, ausgabe = run(tmp_path, ("Mitte.xlsx", mitte), ("Nord.xlsx", nord))
    assert code == 0, output
    assert (ausgabe / "2024" / "Abrechnung_2024_Nottuln.xlsx").exists()
    assert (ausgabe / "2024" / "Abrechnung_2024_Billerbeck.xlsx").exists()


def test_two_different_filled_values_are_an_error_naming_both_files_and_cells(tmp_path):
    nord = coesfeld_clerk()
    party(nord, "Dülmen")["IBAN"] = "DE02120300000000202051"
    mitte = per_employer(example_2024(), "Dülmen")
    code, output, ausgabe = run(tmp_path, ("Mitte.xlsx", mitte), ("Nord.xlsx", nord))
    assert code == 1
    assert ("Nord.xlsx: Vertragsparteien!K6: die Vertragsparteien weichen von Mitte.xlsx ab "
            "(bei Dülmen: IBAN DE45401545300000234567 gegenüber DE02120300000000202051); "
            "alle Arbeitsmappen eines Laufs brauchen dieselben Vertragsparteien. In "
            "Mitte.xlsx steht der Wert in Vertragsparteien!K6") in output
    assert nothing_written(ausgabe)


def test_a_value_filled_only_in_the_second_workbook_is_compared_with_the_third(tmp_path):
    first = per_employer(example_2024(), "Coesfeld")
    for header in BANK_CELLS:
        party(first, "Ascheberg")[header] = ""
    second = per_employer(example_2024(), "Dülmen")
    third = per_employer(example_2024(), "Ascheberg")
    party(third, "Ascheberg")["Kreditinstitut"] = "Volksbank"
    code, output, _ = run(tmp_path, ("A.xlsx", first), ("B.xlsx", second), ("C.xlsx", third))
    assert code == 1
    assert "C.xlsx: Vertragsparteien!M8: die Vertragsparteien weichen von B.xlsx ab " \
           "(bei Ascheberg: Kreditinstitut Sparkasse Westmünsterland gegenüber Volksbank)" \
           in output
    assert "In B.xlsx steht der Wert in Vertragsparteien!M8" in output

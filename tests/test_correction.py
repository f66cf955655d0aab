"""Correction letters ``Korrektur_<J>_<Kommune>_<n>.xlsx`` (kim_excel/documents/correction.py): the
amount billed before with its number and date, the corrected share, the difference
corrected − billed as a formula with its value, what to pay or what is refunded. Written to a
real file and read back; the corrections of a real run: tests/test_life.py and
tests/test_letters.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from kim_excel.core.references import payment_reference
from kim_excel.documents.correction import CorrectionLetter, difference, write_correction_workbook
from tests import builders
from tests.builders import example_2024
from tests.runner import form, kim, settled

D = Decimal
DAY, DUE = date(2025, 6, 2), date(2025, 7, 2)


@pytest.fixture(scope="module")
def settlement(tmp_path_factory):
    return builders.settled(example_2024(), tmp_path_factory.mktemp("correction"),
                            date(2025, 3, 2))


def written(settlement, tmp_path, change: Decimal, billed_by: str = ""):
    """Billerbeck's correction, the amount billed before being ``change`` less than now."""
    region = next(r for r in settlement.regions if r.region == "Nord")
    share = next(s for s in region.shares if s.party.name == "Billerbeck")
    before = replace(share, net=share.net - change, gross=share.gross - change)
    info = CorrectionLetter(number="2024-Billerbeck-K1", corrects="2024-Billerbeck",
                            corrects_date=date(2025, 3, 2), day=DAY, due=DUE, before=before,
                            billed_by=billed_by)
    path = tmp_path / "Korrektur_2024_Billerbeck_1.xlsx"
    write_correction_workbook(path, settlement, region, share, info)
    return path, share


def letter(path):
    """(info block B → C, table A → (formula D, value D, row), every text) of the letter."""
    formulas = openpyxl.load_workbook(path)["Korrektur"]
    values = openpyxl.load_workbook(path, data_only=True)["Korrektur"]
    info = {row[1].value: values.cell(row[1].row, 3).value for row in formulas.iter_rows()
            if isinstance(row[1].value, str) and row[2].value is not None}
    table = {row[0].value: (row[3].value, values.cell(row[0].row, 4).value, row[0].row)
             for row in formulas.iter_rows()
             if isinstance(row[0].value, str) and row[3].value is not None}
    texts = [c.value for row in values.iter_rows() for c in row if isinstance(c.value, str)]
    return info, table, texts


def test_the_difference_is_corrected_minus_billed(settlement):
    share = settlement.regions[0].partner_shares[0]
    before = replace(share, net=D("6875.00"), vat=D("1306.25"), gross=D("8181.25"))
    after = replace(share, net=D("7875.00"), vat=D("1496.25"), gross=D("9371.25"))

    assert difference(before, after) == (D("1000.00"), D("190.00"), D("1190.00"))
    assert difference(after, before) == (D("-1000.00"), D("-190.00"), D("-1190.00"))


def test_a_correction_names_its_number_and_the_document_it_corrects(settlement, tmp_path):
    path, _ = written(settlement, tmp_path, D("1000.00"))
    info, _, texts = letter(path)

    assert info["Rechnungsnummer"] == "2024-Billerbeck-K1"
    assert info["Berichtigt"] == "2024-Billerbeck vom 02.03.2025"
    assert info["Datum"] == datetime(2025, 6, 2)
    assert any("nach unserer Abrechnung 2024-Billerbeck vom 02.03.2025 geändert" in t
               for t in texts)


def explanation(path, label: str) -> str:
    sheet = openpyxl.load_workbook(path)["Korrektur"]
    return next(row[1].value for row in sheet.iter_rows() if row[0].value == label)


def test_the_amount_billed_before_names_the_documents_that_billed_it(settlement, tmp_path):
    """Without a history the corrected bill; after an earlier correction (round 2) both
    documents whose total is corrected, as the ledger names them (commands/letters.py)."""
    first, _ = written(settlement, tmp_path, D("1000.00"))
    assert explanation(first, "Bisher abgerechnet (netto)") == \
        "Rechnung 2024-Billerbeck vom 02.03.2025"

    both = ("Rechnung 2024-Billerbeck vom 02.03.2025 und Korrektur 2024-Billerbeck-K1 vom "
            "02.06.2025")
    (tmp_path / "zwei").mkdir()
    second, _ = written(settlement, tmp_path / "zwei", D("1000.00"), billed_by=both)
    assert explanation(second, "Bisher abgerechnet (netto)") == both


def test_more_to_pay_is_a_formula_of_corrected_minus_billed_with_its_value(settlement,
                                                                            tmp_path):
    path, share = written(settlement, tmp_path, D("1000.00"))
    _, table, texts = letter(path)

    _, old, old_row = table["Bisher abgerechnet (netto)"]
    new_formula, new, new_row = table["Anteil der Stadt Billerbeck, berichtigt"]
    diff_formula, diff, diff_row = table["Differenz netto"]
    pay_formula, pay, _ = table["Nachzuzahlender Betrag"]
    assert (old, new, diff, pay) == (float(share.net - 1000), float(share.net), 1000.0, 1000.0)
    assert new_formula.startswith("=Berechnung!")
    assert diff_formula == f"=$D${new_row}-$D${old_row}"
    assert pay_formula == f"=$D${diff_row}"
    assert "Erstattungsbetrag" not in table
    assert "Fällig am" in texts
    assert payment_reference(2024, "2024-Billerbeck-K1", share.party.kassenzeichen) in texts


def test_less_to_pay_is_refunded_as_a_positive_amount(settlement, tmp_path):
    path, share = written(settlement, tmp_path, D("-417.15"))
    _, table, texts = letter(path)

    assert table["Differenz netto"][1] == -417.15
    formula, value, _ = table["Erstattungsbetrag"]
    assert value == 417.15 and formula.startswith("=-(")
    assert "Nachzuzahlender Betrag" not in table
    assert "Erstattung bis zum" in texts and "Fällig am" not in texts


def test_no_change_in_the_amount_says_so(settlement, tmp_path):
    path, _ = written(settlement, tmp_path, D("0.00"))
    _, table, texts = letter(path)

    assert table["Nachzuzahlender Betrag"][1] == 0
    assert "Der zu zahlende Betrag ändert sich nicht." in texts
    assert "Fällig am" not in texts and "Erstattung bis zum" not in texts


@pytest.mark.slow
@pytest.mark.libreoffice
def test_correction_letters_recalculate_to_the_values_written(tmp_path):
    from tests.libreoffice import formula_mismatches, recalculate

    settled(tmp_path)
    assert kim("festschreiben", "--jahr", 2024, "--ja", cwd=tmp_path).returncode == 0
    settled(tmp_path, form(nord_extra="4000.01"))
    folder = tmp_path / "output" / "2024"
    letters = sorted(folder.glob("Korrektur_*.xlsx"))
    assert len(letters) == 3
    fresh = recalculate(letters, tmp_path / "recalculated")
    for letter in letters:
        count, mismatches = formula_mismatches(letter, fresh[letter])
        assert count > 20 and mismatches == [], (letter.name, mismatches)
    sheet = openpyxl.load_workbook(letters[0], data_only=True)["Korrektur"]
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert 1000.0 in values  # 4,000.01 / 4 = 1,000.0025 → 1,000.00 for each partner

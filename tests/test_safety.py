"""Safety: formula-like text and what the terminal shows.

(XML and ZIP bombs are refused by the reader: tests/test_reading.py; path characters in
party names stay inside the output folder: tests/test_folder.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from kim_excel.ledger.folder import GENERATED, LOCK_NAME
from kim_excel.ledger.store import HISTORY_FOLDER
from tests.builders import BANKS, CONTACTS, example_2024, write
from tests.test_reading import settle_in_process

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------- formula-like text


FORMULA_LIKE = ("=1+1", '=HYPERLINK("http://example.invalid";"Zahlung")', "@SUMME(A1)",
                "+49 2541 939-0", "-Pauschale-")


@pytest.mark.slow
def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    """Names, labels and settings starting with = + - @ are written as text in every
    workbook (openpyxl, data_only=False, sees no formula holding them) and verbatim in the
    Buchungsliste: SPEC § 5 fixes its format, and finance software imports the name as it
    is. (Opening the CSV in Excel would evaluate ``=1+1``; the file is not meant for that.)"""
    form = example_2024()
    form.parties[5]["Kommune"] = "=1+1"  # Nottuln
    form.positions[3]["Stelle"] = FORMULA_LIKE[1]
    form.material[3]["Bezeichnung"] = FORMULA_LIKE[2]
    form.parties[4]["Telefon"] = FORMULA_LIKE[3]
    form.settings["Aktenzeichen"] = FORMULA_LIKE[4]
    eingang = write(form, tmp_path / "input" / "Abrechnung.xlsx")
    done, _ = settle_in_process(eingang, tmp_path / "output", limit=False)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "output" / "2024"
    found_as_text = set()
    for workbook in sorted(folder.glob("*.xlsx")):
        book = openpyxl.load_workbook(workbook, data_only=False)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if not isinstance(cell.value, str):
                        continue
                    for text in FORMULA_LIKE:
                        if text in cell.value:
                            assert cell.data_type == "s", (workbook.name, cell.coordinate)
                            found_as_text.add(text)
                    if cell.data_type == "f":
                        assert not any(t.lstrip("=@+-")[:6] in cell.value for t in FORMULA_LIKE)
    assert "=1+1" in found_as_text  # at least the overview names the partner
    assert (folder / "Abrechnung_2024_1_1.xlsx").exists()
    csv = (folder / "Buchungsliste_2024.csv").read_text(encoding="utf-8-sig")
    assert "2024;Mitte;Dülmen;=1+1;Partnerkommune;0,5;12330,00;6165,00" in csv


# ------------------------------------------------------------------ what is shown


def test_the_terminal_shows_names_and_amounts_but_no_bank_details_or_contacts(tmp_path):
    """The summary is read over shoulders and pasted into e-mails: municipalities and
    amounts are fine; IBAN, BIC, e-mail addresses, contact persons and phone numbers of
    the parties sheet never appear. The run writes no log file of its own."""
    eingang = write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    done, _ = settle_in_process(eingang, tmp_path / "output", limit=False)
    assert done.returncode == 0
    shown = done.stdout + done.stderr
    assert "Stadt Billerbeck    zahlt      6.875,00 €" in shown
    secrets = [iban for iban, _, _ in BANKS.values()]
    secrets += [" ".join(re.findall(".{1,4}", iban)) for iban in secrets]
    secrets += [bic for _, bic, _ in BANKS.values()]
    for contact, phone in CONTACTS.values():
        secrets += [contact.split(",")[0], phone]
    for secret in secrets:
        assert secret not in shown, secret
    assert "@" not in shown
    assert not re.search(r"DE\d{2}\s?\d{4}", shown)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p for p in files if p.suffix == ".log"] == []
    assert all(p.parent.name == "input" or p.name == LOCK_NAME or GENERATED.match(p.name)
               or p.parent.name == HISTORY_FOLDER for p in files)
    assert [p.name for p in files if p.parent.name == HISTORY_FOLDER] == ["record-0001.json"]


def test_a_message_quotes_only_the_offending_cell(tmp_path):
    """Messages quote the offending cell (that is how the clerk finds it), never other
    cells: a bad IBAN is quoted, the good ones of the other employers are not."""
    form = example_2024()
    form.parties[4]["IBAN"] = "DE00 1234"
    eingang = write(form, tmp_path / "input" / "Abrechnung.xlsx")
    done, _ = settle_in_process(eingang, tmp_path / "output", limit=False)
    assert done.returncode == 1
    assert "Abrechnung.xlsx: Vertragsparteien!K6: „DE00 1234“ ist keine gültige IBAN" in \
        done.stderr
    assert BANKS["Coesfeld"][0] not in done.stderr
    assert BANKS["Ascheberg"][0] not in done.stderr

"""The record on disk (kim_excel/ledger/store.py): exact figures written and read back once into
typed objects; a missing, damaged or stale record refused with a German message that names the
copy to restore; kim-excel 1.0's record (version 1) taken over."""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from kim_excel.commands.settle import run_settlement
from kim_excel.core.errors import LedgerError
from kim_excel.ledger.book import Kind, Ledger, Region, SendResult, State
from kim_excel.ledger.life import context_of, settlement_version
from kim_excel.ledger.store import (
    HISTORY_FOLDER,
    RECORD_NAME,
    ledger_bytes,
    ledger_from_bytes,
    load_ledger,
)
from tests import builders
from tests.builders import example_2024, write

TODAY = date(2025, 3, 2)
V1_FOLDER = Path(__file__).parent / "fixtures" / "v1_29f5369.zip"


@pytest.fixture(scope="module")
def settlement(tmp_path_factory):
    return builders.settled(example_2024(), tmp_path_factory.mktemp("store"), TODAY)


def ledger_of(settlement) -> Ledger:
    context = context_of(settlement)
    return Ledger(year=2024, context=context, regions={
        r.region: Region(r.region, [settlement_version(r, context)])
        for r in settlement.regions})


def settled_folder(tmp_path: Path) -> Path:
    write(example_2024(), tmp_path / "input" / "a.xlsx")
    return run_settlement(tmp_path / "input", tmp_path / "output", TODAY).folder


def test_a_ledger_reads_back_equal_and_typed(settlement, tmp_path):
    ledger = ledger_of(settlement)
    back = ledger_from_bytes(ledger_bytes(ledger), tmp_path)
    assert back == ledger
    assert [r.settlement.result for r in back.regions.values()] == list(settlement.regions)
    bill = back.regions["Nord"].settlement.bills["Billerbeck"]
    assert (bill.kind, bill.number, bill.amount, bill.due) == (
        Kind.LETTER, "2024-Billerbeck", Decimal("6875.00"), date(2025, 4, 1))
    assert back.regions["Nord"].settlement.state is State.DRAFT


def test_fraction_keys_and_decimals_survive_exactly_not_as_floats(settlement, tmp_path):
    region = settlement.regions[0]
    first = replace(region.shares[0], key=Fraction(5, 6), fraction=Fraction(1, 3),
                    net=Decimal("1234567890.125"), balance=Decimal("-0.10"))
    odd = replace(region, shares=(first, *region.shares[1:]), key_total=Fraction(7, 3))
    ledger = ledger_of(replace(settlement, regions=(odd,)))
    raw = ledger_bytes(ledger)
    assert b'"5/6"' in raw and b'"1234567890.125"' in raw
    share = ledger_from_bytes(raw, tmp_path).regions["Nord"].settlement.result.shares[0]
    assert (share.key, share.fraction, share.net) == (Fraction(5, 6), Fraction(1, 3),
                                                      Decimal("1234567890.125"))


def test_no_record_and_no_settlement_is_an_empty_ledger(tmp_path):
    assert load_ledger(tmp_path / "2024", 2024) == Ledger(year=2024)
    (tmp_path / "2024").mkdir()
    (tmp_path / "2024" / "Notizen.txt").write_text("nur Notizen")
    assert load_ledger(tmp_path / "2024", 2024).is_empty


def test_a_missing_record_names_the_newest_copy_to_restore(tmp_path):
    folder = settled_folder(tmp_path)
    (folder / RECORD_NAME).unlink()
    with pytest.raises(LedgerError) as error:
        load_ledger(folder, 2024)
    message = str(error.value)
    assert f"In „{folder}“ fehlt die Verwaltungsdatei {RECORD_NAME}" in message
    assert "z. B. „Abrechnung_2024_Billerbeck.xlsx“" in message
    assert f"„{folder / HISTORY_FOLDER / 'record-0001.json'}“ (Nr. 1" in message
    assert f"nach „{folder / RECORD_NAME}“ kopieren und den Befehl wiederholen" in message


def test_without_copies_the_message_says_how_to_start_anew_without_losing_the_letters(
        tmp_path):
    folder = settled_folder(tmp_path)
    (folder / RECORD_NAME).unlink()
    shutil.rmtree(folder / HISTORY_FOLDER)
    with pytest.raises(LedgerError, match="Es gibt keine Sicherung der Verwaltungsdatei.*"
                                          "umbenennen \\(z. B. in „2024_alt“\\)"):
        load_ledger(folder, 2024)


@pytest.mark.parametrize("content, why", [
    (b"{\"version\": 2, \"year\": 20", "kein gültiges JSON, Zeile 1"),
    (b"[1, 2]", "kein JSON-Objekt"),
    (b'{"version": 99}', "unbekannte Version 99"),
    (b'{"version": 2, "year": 2024, "regions": {"Nord": {"versions": [{}]}}}',
     "der Inhalt passt nicht zu kim-excel"),
])
def test_a_damaged_record_is_refused_with_what_is_wrong(tmp_path, content, why):
    folder = settled_folder(tmp_path)
    (folder / RECORD_NAME).write_bytes(content)
    with pytest.raises(LedgerError) as error:
        load_ledger(folder, 2024)
    assert f"ist beschädigt ({why})" in str(error.value)
    assert "record-0001.json" in str(error.value)


def test_a_record_older_than_its_newest_copy_is_stale(tmp_path):
    folder = settled_folder(tmp_path)
    ledger = load_ledger(folder, 2024)
    (folder / HISTORY_FOLDER / "record-0002.json").write_bytes(
        ledger_bytes(replace(ledger, generation=2)))
    with pytest.raises(LedgerError, match="ist älter als der Ordner: es gibt eine neuere "
                                          "Sicherung \\(Nr. 2, die Verwaltungsdatei ist Nr. 1\\)"):
        load_ledger(folder, 2024)


def test_a_record_that_does_not_know_a_file_it_would_have_written_is_stale(tmp_path):
    folder = settled_folder(tmp_path)
    (folder / "Korrektur_2024_Olfen_1.xlsx").write_bytes(b"PK from a later run")
    with pytest.raises(LedgerError, match="sie kennt die Datei „Korrektur_2024_Olfen_1.xlsx“ "
                                          "nicht"):
        load_ledger(folder, 2024)


def test_a_clerks_file_with_a_similar_name_is_no_sign_of_a_stale_record(tmp_path):
    folder = settled_folder(tmp_path)
    (folder / "Abrechnung_2024_Olfen_unterschrieben.pdf").write_bytes(b"%PDF scan")
    (folder / "Abrechnung_2024_Olfen_bearbeitet.xlsx").write_bytes(b"PK edited")
    assert not load_ledger(folder, 2024).is_empty


# ------------------------------------------------------------------ kim-excel 1.0


@pytest.fixture
def v1_folder(tmp_path) -> Path:
    with zipfile.ZipFile(V1_FOLDER) as archive:
        archive.extractall(tmp_path)
    return tmp_path / "output" / "2024"


def test_a_version_1_record_is_taken_over_with_its_numbers_states_and_sendings(v1_folder):
    assert json.loads((v1_folder / RECORD_NAME).read_text())["version"] == 1
    ledger = load_ledger(v1_folder, 2024)

    nord = ledger.regions["Nord"]
    assert [(v.round, v.state) for v in nord.versions] == [(0, State.ISSUED),
                                                          (1, State.ISSUED)]
    letter = nord.settlement.bills["Billerbeck"]
    assert (letter.number, letter.posted, letter.amount) == (
        "2024-Billerbeck", date(2025, 3, 4), Decimal("6875.00"))
    assert [s.result for s in letter.sendings] == [SendResult.SENT]  # mailed again in 1.0
    correction = nord.versions[1].bills["Billerbeck"]
    assert (correction.number, correction.corrects, correction.amount, correction.posted) == (
        "2024-Billerbeck-K1", "2024-Billerbeck", Decimal("1000.00"), None)
    assert correction.sent.recipient == "kaemmerei@billerbeck.example"
    nottuln = ledger.regions["Mitte"].settlement.bills["Nottuln"]
    assert nottuln.posted is None and nottuln.sent is not None  # issued by e-mail
    assert [v.state for v in ledger.regions["Süd"].versions] == [State.DRAFT]
    assert ledger.files["Abrechnung_2024_Olfen.xlsx"].owner == "2024-Olfen"
    assert ledger.drafts["E-Mails/Korrektur_2024_Havixbeck_1.eml"].owner == \
        "2024-Havixbeck-K1"


def test_a_version_1_folder_whose_log_was_deleted_still_loads(v1_folder):
    (v1_folder / "versand.csv").unlink()
    ledger = load_ledger(v1_folder, 2024)
    letter = ledger.regions["Nord"].settlement.bills["Billerbeck"]
    assert letter.posted == date(2025, 3, 4)  # festschreiben, known from the record itself

"""The year folder's record (kim_excel/record.py): exact figures written and read back, a clear
German message for a damaged record, every file with its hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest

from kim_excel.core.errors import KimError
from kim_excel.core.references import invoice_number
from kim_excel.ledger.record import (
    DRAFT,
    ISSUED,
    RECORD_NAME,
    Correction,
    FileEntry,
    Record,
    RegionEntry,
    read_record,
    region_data,
    region_from_data,
    sha256,
    write_record,
)
from tests import builders
from tests.builders import example_2024
from tests.test_life import settled


@pytest.fixture(scope="module")
def settlement(tmp_path_factory):
    return builders.settled(example_2024(), tmp_path_factory.mktemp("record"))


def test_every_region_reads_back_equal_from_the_record_file(settlement, tmp_path):
    record = Record(year=2024, regions={
        r.region: RegionEntry(state=DRAFT, settlement_date="2025-03-02", context={},
                              result=region_data(r)) for r in settlement.regions})
    write_record(tmp_path, record)

    back = read_record(tmp_path, 2024)

    assert back == record
    assert [region_from_data(e.result) for e in back.regions.values()] == \
        list(settlement.regions)


def test_fraction_keys_and_decimals_survive_exactly_not_as_floats(settlement, tmp_path):
    region = settlement.regions[0]
    first = replace(region.shares[0], key=Fraction(5, 6), fraction=Fraction(1, 3),
                    net=Decimal("1234567890.125"), balance=Decimal("-0.10"))
    odd = replace(region, shares=(first, *region.shares[1:]), key_total=Fraction(7, 3),
                  eigenanteil=Decimal("0.10"))
    write_record(tmp_path, Record(year=2024, regions={"Nord": RegionEntry(
        state=DRAFT, settlement_date="2025-03-02", context={}, result=region_data(odd))}))

    text = (tmp_path / RECORD_NAME).read_text(encoding="utf-8")
    back = region_from_data(read_record(tmp_path, 2024).regions["Nord"].result)

    assert back == odd
    assert back.shares[0].key == Fraction(5, 6) and type(back.shares[0].key) is Fraction
    assert str(back.shares[0].net) == "1234567890.125" and str(back.eigenanteil) == "0.10"
    assert '"key": "5/6"' in text and '"eigenanteil": "0.10"' in text


def test_no_record_yet_is_an_empty_record(tmp_path):
    assert read_record(tmp_path, 2024) == Record(year=2024)


@pytest.mark.parametrize("content", [
    '{"year": 2024, "version": 1, "files": {',  # cut off while copying
    '{"year": 2024, "version": 99, "files": {}, "regions": {}}',  # a newer kim-excel
    '{"year": 2024, "version": 1, "regions": {"Nord": {"state": "draft"}}}',  # a key missing
    '{"year": 2024, "version": 1, "files": {"a.xlsx": {"region": "Nord"}}}',  # edited
    '[1, 2, 3]',  # JSON, but not an object
    '\udcff',
])
def test_a_damaged_or_foreign_record_is_a_german_message_naming_the_file(tmp_path, content):
    (tmp_path / RECORD_NAME).write_bytes(content.encode("utf-8", "surrogateescape"))

    with pytest.raises(KimError) as raised:
        read_record(tmp_path, 2024)

    assert str(raised.value) == (
        f"Die Verwaltungsdatei „{tmp_path / RECORD_NAME}“ ist beschädigt oder von einer "
        f"anderen kim-excel-Version. Bitte nicht von Hand ändern; zur Not den Ordner "
        f"„{tmp_path}“ umbenennen und neu abrechnen.")


def test_the_record_is_replaced_whole_and_leaves_no_temporary_file(tmp_path):
    write_record(tmp_path, Record(year=2024, files={"a.xlsx": FileEntry("ab" * 32, "Nord")}))
    write_record(tmp_path, Record(year=2024))

    assert [p.name for p in tmp_path.iterdir()] == [RECORD_NAME]
    assert json.loads((tmp_path / RECORD_NAME).read_text(encoding="utf-8"))["files"] == {}


def test_sha256_is_the_hash_of_the_file_bytes(tmp_path):
    path = tmp_path / "Abrechnung_2024_Billerbeck.xlsx"
    path.write_bytes(b"PK\x03\x04 Inhalt")
    assert sha256(path) == hashlib.sha256(b"PK\x03\x04 Inhalt").hexdigest()


def correction(round_: int, state: str, day: str, figures: str, partners=("Billerbeck",)):
    return Correction(round=round_, state=state, day=day, due="", context={},
                      result={"eigenanteil": figures}, before={},
                      letters={p: {"number": invoice_number(2024, p, round_)} for p in partners})


def test_a_regions_latest_figures_and_last_issued_document():
    entry = RegionEntry(state=ISSUED, settlement_date="2025-03-02",
                        context={"settings": {"year": 2024}}, result={"eigenanteil": "1"})
    assert entry.last_document("Billerbeck") == ("2024-Billerbeck", "2025-03-02")
    assert entry.open_correction() is None and entry.latest() == entry.latest_issued()

    entry.corrections = [correction(1, ISSUED, "2025-05-01", "2"),
                         correction(2, ISSUED, "2025-06-01", "3", partners=("Havixbeck",)),
                         correction(3, DRAFT, "2025-07-01", "4")]

    assert entry.last_document("Billerbeck") == ("2024-Billerbeck-K1", "2025-05-01")
    assert entry.last_document("Havixbeck") == ("2024-Havixbeck-K2", "2025-06-01")
    assert entry.latest() == {"eigenanteil": "4"}
    assert entry.latest_issued() == {"eigenanteil": "3"}
    assert entry.open_correction() is entry.corrections[2]
    assert Record(year=2024, regions={"Nord": entry}).rounds() == [1, 2, 3]


def test_the_record_lists_every_file_with_its_hash(tmp_path):
    folder = settled(tmp_path)
    record = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    assert record["version"] == 1
    assert set(record["files"]) == {p.name for p in folder.iterdir() if p.name != RECORD_NAME}
    for name, entry in record["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    nord = record["regions"]["Nord"]
    assert nord["state"] == "draft" and nord["settlement_date"] == "2025-03-02"
    assert nord["result"]["eigenanteil"] == "27500.00"

"""Reading bank statements (SPEC § 9): camt.052/.053/.054 in .001.02 and .001.08, as XML or
the bank's ZIP, and MT940, through files the builder in ``tests/statements.py`` writes as
banks deliver them; and every bad file refused with its German message.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from kim_excel.core.bank import EntryStatus
from kim_excel.core.errors import StatementError
from kim_excel.input import statements as reader
from kim_excel.input.statements import read_statements
from kim_excel.input.unzip import Limits
from tests.builders import example_2024
from tests.builders import write as write_workbook
from tests.external_tools import require
from tests.oddfiles import deflate_repeated, handmade_zip
from tests.statements import (
    Account,
    Batch,
    Options,
    Payment,
    camt,
    edited,
    mt940,
    write,
    write_zip,
)
from tests.test_unzip import encrypted_zip

D = Decimal
MB = 1024 * 1024
REPO = Path(__file__).resolve().parents[1]
SCHEMAS = Path(os.environ.get("KIM_CAMT_SCHEMAS") or REPO.parent / "shared/camt")
ACCOUNT = Account()
DAY = date(2024, 3, 1)
NORDKIRCHEN = "DE45401545300000234567"
OLFEN = "DE64401545300000345678"
SUPPLIER = "DE26401545300000123456"
# 171 characters: the bank cuts it after 140, inside the Rechnungsnummer.
LONG_TEXT = ("Abrechnung Eigenanteil KIM 2024 Kommunales Case-Management Baustein 2 Region "
             "Nord gemaess Vertrag vom 01.01.2023 Zahlung fuer Rechnung 2024-Nord-Olfen-K1 "
             "Kassenzeichen KIM-2024-NORD-02")
KINDS = [(kind, version) for kind in ("052", "053", "054") for version in ("02", "08")]


def payments() -> list[Payment]:
    """A day of the employer's account: two payments in, one out, one returned."""
    return [
        Payment(D("1250.00"), DAY, "Gemeinde Nordkirchen", NORDKIRCHEN,
                "Rechnung 2024-Nord-Nordkirchen Kassenzeichen KIM-2024-NORD-01", "E2E-NK-1",
                bank_reference="BR-0001"),
        Payment(D("80.50"), DAY, "Stadt Olfen", OLFEN, LONG_TEXT, bank_reference="BR-0002",
                value_date=date(2024, 3, 4)),
        Payment(D("-99.00"), DAY, "Buerobedarf GmbH", SUPPLIER, "Rechnung 4711", "E2E-OUT-7",
                bank_reference="BR-0003"),
        Payment(D("-80.50"), DAY, "Stadt Olfen", OLFEN, "Ruecklastschrift", "E2E-R",
                bank_reference="BR-0004", reversal=True),
    ]


def essentials(entry) -> tuple:
    """What a bank entry says about the payment, without where it was read."""
    return (entry.amount, entry.booked, entry.value_date, entry.status, entry.reversal,
            entry.name, entry.iban, entry.remittance, entry.end_to_end, entry.bank_reference)


def expected(payment: Payment) -> tuple:
    return (payment.amount, payment.booked, payment.value_date or payment.booked,
            EntryStatus(payment.status), payment.reversal, payment.name, payment.iban,
            payment.lines, payment.end_to_end, payment.bank_reference)


def camt_file(tmp_path: Path, kind: str, version: str, items, name: str | None = None,
              **options) -> Path:
    return write(tmp_path / (name or f"camt{kind}_{version}.xml"),
                 camt(kind, version, ACCOUNT, items, Options(**options)))


def refusal(paths) -> list[str]:
    """The lines of the one StatementError that reading ``paths`` raises."""
    with pytest.raises(StatementError) as caught:
        read_statements(paths)
    assert [str(p) for p in caught.value.problems] == str(caught.value).splitlines()
    return str(caught.value).splitlines()


# ------------------------------------------------------------------ the builder


def schema(kind: str, version: str) -> etree.XMLSchema:
    path = SCHEMAS / f"camt.{kind}.001.{version}.xsd"
    require(path.is_file(), f"ISO 20022 schema not found at {path} (set KIM_CAMT_SCHEMAS)")
    return etree.XMLSchema(etree.parse(str(path)))


def every_feature() -> list[Payment | Batch]:
    """Payments with everything the builder writes: long text, structured reference,
    NOTPROVIDED, pending, reversal, outgoing, a batch with details."""
    return [*payments(),
            Payment(D("12.00"), DAY, "Gemeinde Ascheberg", NORDKIRCHEN, "",
                    reference="RF18539007547034", status="PDNG"),
            Batch((Payment(D("10.00"), DAY, "A", OLFEN, "x", bank_reference="B1-1"),
                   Payment(D("5.00"), DAY, "B", NORDKIRCHEN, "y", bank_reference="B1-2")),
                  bank_reference="B1")]


@pytest.mark.parametrize(("kind", "version"), KINDS)
def test_every_kind_and_version_the_builder_writes_is_valid_iso_20022(kind, version):
    balances = {"052": ("ITBD",), "053": ("OPBD", "CLBD"), "054": ()}[kind]
    document = etree.fromstring(camt(kind, version, ACCOUNT, every_feature(),
                                     Options(balances=balances, batch_details=True)))
    checker = schema(kind, version)
    assert checker.validate(document), checker.error_log


def test_the_schema_check_sees_a_line_longer_than_140_characters():
    """The check above must be able to fail: one Ustrd of 141 characters is invalid."""
    data = camt("053", "08", ACCOUNT, payments())
    broken = data.replace(b"Rechnung 4711", b"R" * 141)
    assert not schema("053", "08").validate(etree.fromstring(broken))


# ------------------------------------------------------------------ the same payment, any format


@pytest.mark.parametrize(("kind", "version"), KINDS)
def test_each_camt_kind_and_version_gives_the_payments_as_made(tmp_path, kind, version):
    [statement] = read_statements([camt_file(tmp_path, kind, version, payments())])
    assert (statement.kind, statement.version) == (f"camt.{kind}", f"001.{version}")
    assert statement.account == ACCOUNT.iban and statement.currency == "EUR"
    assert [essentials(e) for e in statement.entries] == [expected(p) for p in payments()]
    # The bank's reference makes the identity, the same in every kind and version.
    assert [e.identity for e in statement.entries] == [
        f"{ACCOUNT.iban}:BR-000{n}" for n in (1, 2, 3, 4)]
    assert [e.position for e in statement.entries] == [1, 2, 3, 4]
    assert {e.source for e in statement.entries} == {f"camt{kind}_{version}.xml"}


# ------------------------------------------------------------------ German specifics


def test_a_verwendungszweck_cut_between_lines_comes_back_as_its_lines(tmp_path):
    for version in ("02", "08"):
        [statement] = read_statements([camt_file(tmp_path, "053", version, payments())])
        olfen = statement.entries[1]
        assert olfen.remittance == (LONG_TEXT[:140], LONG_TEXT[140:])
        # cut inside the Rechnungsnummer, which comes back whole in the joined text
        assert olfen.remittance[0].endswith(" Rechnung 2024-")
        assert olfen.remittance[1].startswith("Nord-Olfen-K1 ")
        assert "2024-Nord-Olfen-K1" in olfen.text


def test_notprovided_becomes_an_empty_end_to_end_reference(tmp_path):
    data = camt("053", "08", ACCOUNT, payments())
    assert data.count(b"<EndToEndId>NOTPROVIDED</EndToEndId>") == 1
    [statement] = read_statements([write(tmp_path / "a.xml", data)])
    assert [e.end_to_end for e in statement.entries] == ["E2E-NK-1", "", "E2E-OUT-7", "E2E-R"]


def names_at(data: bytes, path: str) -> list[str]:
    root = etree.fromstring(data)
    return root.xpath(f"{path}/text()", namespaces={"c": root.nsmap[None]})


def test_payer_names_of_version_02_and_08_and_the_payee_of_an_outgoing_payment(tmp_path):
    old = camt("053", "02", ACCOUNT, payments())
    new = camt("053", "08", ACCOUNT, payments())
    assert names_at(old, "//c:Ntry[1]//c:Dbtr/c:Nm") == ["Gemeinde Nordkirchen"]
    assert names_at(new, "//c:Ntry[1]//c:Dbtr/c:Pty/c:Nm") == ["Gemeinde Nordkirchen"]
    assert names_at(new, "//c:Ntry[3]//c:Cdtr/c:Pty/c:Nm") == ["Buerobedarf GmbH"]
    for data in (old, new):
        [statement] = read_statements([write(tmp_path / "a.xml", data)])
        assert [(e.name, e.iban) for e in statement.entries] == [
            ("Gemeinde Nordkirchen", NORDKIRCHEN), ("Stadt Olfen", OLFEN),
            ("Buerobedarf GmbH", SUPPLIER), ("Stadt Olfen", OLFEN)]


def test_a_structured_creditor_reference_is_read(tmp_path):
    payment = Payment(D("5.00"), DAY, "Stadt Olfen", OLFEN, reference="RF18539007547034")
    [statement] = read_statements([camt_file(tmp_path, "053", "02", [payment])])
    assert statement.entries[0].reference == "RF18539007547034"
    assert statement.entries[0].remittance == ()


def test_pending_entries_are_read_with_their_status_and_not_counted(tmp_path):
    items = [*payments(), Payment(D("300.00"), DAY, "Stadt Olfen", OLFEN, "vorgemerkt",
                                  bank_reference="BR-0009", status="PDNG")]
    for version in ("02", "08"):
        [statement] = read_statements([camt_file(tmp_path, "053", version, items)])
        assert statement.entries[-1].status is EntryStatus.PENDING
        assert not statement.entries[-1].is_booked
        assert statement.booked_total == D("1151.00")  # 1250 + 80.50 − 99 − 80.50
        assert statement.balance_ok is True


def test_a_reversal_keeps_the_sign_its_indicator_gives(tmp_path):
    for path in (camt_file(tmp_path, "053", "08", payments()),
                 camt_file(tmp_path, "053", "02", payments()),
                 write(tmp_path / "a.sta", mt940(ACCOUNT, payments()))):
        returned = read_statements([path])[0].entries[3]
        assert (returned.amount, returned.reversal) == (D("-80.50"), True)
    money_back = [Payment(D("99.00"), DAY, "Buerobedarf GmbH", SUPPLIER, "Storno",
                          bank_reference="BR-0005", reversal=True)]
    for path in (camt_file(tmp_path, "053", "08", money_back),
                 write(tmp_path / "b.sta", mt940(ACCOUNT, money_back))):
        entry = read_statements([path])[0].entries[0]
        assert (entry.amount, entry.reversal, entry.name) == (D("99.00"), True,
                                                              "Buerobedarf GmbH")


def test_balances_opening_closing_and_booked_total(tmp_path):
    for path in (camt_file(tmp_path, "053", "08", payments()),
                 write(tmp_path / "a.sta", mt940(ACCOUNT, payments()))):
        [statement] = read_statements([path])
        assert (statement.opening, statement.booked_total, statement.closing) == (
            D("10000.00"), D("1151.00"), D("11151.00"))
        assert statement.balance_ok is True
        assert statement.closing_date == DAY == statement.latest_date


def test_a_report_without_balances_is_not_checked(tmp_path):
    [report] = read_statements([camt_file(tmp_path, "052", "08", payments(),
                                          balances=("ITBD",))])
    assert report.opening is None and report.closing is None
    assert report.balance_ok is None
    [report] = read_statements([camt_file(tmp_path, "052", "02", payments(),
                                          balances=("PRCD", "CLBD"))])
    assert (report.opening, report.closing, report.balance_ok) == (
        D("10000.00"), D("11151.00"), True)  # the previous day's closing opens it


def test_an_entry_without_details_is_one_entry_with_its_additional_information(tmp_path):
    data = edited(camt("053", "08", ACCOUNT, [payments()[0]]), "//c:NtryDtls", remove=True)
    [statement] = read_statements([write(tmp_path / "a.xml", data)])
    [entry] = statement.entries
    assert (entry.amount, entry.name, entry.remittance, entry.identity) == (
        D("1250.00"), "", ("GUTSCHR. UEBERWEISUNG",), f"{ACCOUNT.iban}:BR-0001")


# ------------------------------------------------------------------ identities


def test_the_same_statement_read_twice_gives_the_same_identities(tmp_path):
    path = camt_file(tmp_path, "053", "08", payments())
    first, second = read_statements([path, path])  # not deduplicated: the ledger does that
    assert [e.identity for e in first.entries] == [e.identity for e in second.entries]
    sta = write(tmp_path / "a.sta", mt940(ACCOUNT, payments()))
    first, second = read_statements([sta, sta])
    assert [e.identity for e in first.entries] == [e.identity for e in second.entries]


def test_an_intraday_report_then_the_daily_statement_give_the_same_identities(tmp_path):
    morning = camt_file(tmp_path, "052", "08", payments()[:2], "0900.xml",
                        statement_id="RPT-0900")
    day = camt_file(tmp_path, "053", "08", payments(), "tag.xml", statement_id="STMT-0301")
    report, statement = read_statements([morning, day])
    assert [e.identity for e in report.entries] == [e.identity for e in statement.entries[:2]]


def test_two_equal_payments_on_one_day_are_two_entries(tmp_path):
    twice = [Payment(D("50.00"), DAY, "Stadt Olfen", OLFEN, "Rechnung 2024-Nord-Olfen"),
             Payment(D("50.00"), DAY, "Stadt Olfen", OLFEN, "Rechnung 2024-Nord-Olfen")]
    for path in (camt_file(tmp_path, "053", "08", twice),
                 write(tmp_path / "a.sta", mt940(ACCOUNT, twice))):
        [statement] = read_statements([path])
        first, second = statement.entries
        assert essentials(first) == essentials(second)
        assert first.identity != second.identity
    [statement] = read_statements([camt_file(tmp_path, "053", "08", twice)])
    # Without a bank reference: the statement and the entry's position.
    assert [e.identity for e in statement.entries] == [
        f"{ACCOUNT.iban}/2024-03-01-0001/1", f"{ACCOUNT.iban}/2024-03-01-0001/2"]


def test_a_reference_the_bank_repeats_in_one_statement_stays_two_entries(tmp_path):
    twice = [replace(payments()[0], bank_reference="SAME"),
             replace(payments()[1], bank_reference="SAME")]
    [statement] = read_statements([camt_file(tmp_path, "053", "08", twice)])
    assert [e.identity for e in statement.entries] == [
        f"{ACCOUNT.iban}:SAME", f"{ACCOUNT.iban}:SAME~2"]


# ------------------------------------------------------------------ batches (camt.054)


def batch() -> Batch:
    return Batch((Payment(D("400.00"), DAY, "Gemeinde Nordkirchen", NORDKIRCHEN,
                          "Rechnung 2024-Nord-Nordkirchen"),
                  Payment(D("350.00"), DAY, "Stadt Olfen", OLFEN, "Rechnung 2024-Nord-Olfen")),
                 bank_reference="SAMMLER-77")


def test_a_batch_entry_reads_as_one_entry_without_its_details(tmp_path):
    [statement] = read_statements([camt_file(tmp_path, "053", "08",
                                             [payments()[0], batch()])])
    assert [e.amount for e in statement.entries] == [D("1250.00"), D("750.00")]
    assert statement.entries[1].bank_reference == "SAMMLER-77"


@pytest.mark.parametrize("order", ["statement first", "details first"])
def test_a_camt_054_replaces_the_batch_entry_it_details(tmp_path, order):
    day = camt_file(tmp_path, "053", "08", [payments()[0], batch(), payments()[2]], "053.xml")
    details = camt_file(tmp_path, "054", "08", [batch()], "054.xml", statement_id="NTF-1")
    files = [day, details] if order == "statement first" else [details, day]
    found = {s.kind: s for s in read_statements(files)}
    statement, notification = found["camt.053"], found["camt.054"]
    assert [(e.amount, e.name, e.batch) for e in statement.entries] == [
        (D("1250.00"), "Gemeinde Nordkirchen", ""),
        (D("400.00"), "Gemeinde Nordkirchen", "SAMMLER-77"),
        (D("350.00"), "Stadt Olfen", "SAMMLER-77"),
        (D("-99.00"), "Buerobedarf GmbH", "")]
    assert statement.entries[1:3] == notification.entries  # the 054's own transactions
    assert [e.identity for e in notification.entries] == [
        f"{ACCOUNT.iban}:SAMMLER-77#1", f"{ACCOUNT.iban}:SAMMLER-77#2"]
    # The batch counts once, by its total: the balances still add up.
    assert statement.booked_total == D("1901.00") and statement.balance_ok


def test_a_054_details_the_batch_entry_of_an_intraday_report_too(tmp_path):
    report = camt_file(tmp_path, "052", "02", [batch()], "052.xml", statement_id="RPT-1")
    details = camt_file(tmp_path, "054", "02", [batch()], "054.xml", statement_id="NTF-1")
    found, _ = read_statements([report, details])
    assert [(e.amount, e.batch) for e in found.entries] == [
        (D("400.00"), "SAMMLER-77"), (D("350.00"), "SAMMLER-77")]


def test_a_batch_without_shared_reference_is_paired_by_its_batch_data(tmp_path):
    unnamed = replace(batch(), bank_reference="")
    day = camt_file(tmp_path, "053", "02", [unnamed], "053.xml")
    details = camt_file(tmp_path, "054", "02", [unnamed], "054.xml", statement_id="NTF-1")
    statement, _ = read_statements([day, details])
    assert [(e.amount, e.batch) for e in statement.entries] == [
        (D("400.00"), f"{ACCOUNT.iban}/2024-03-01-0001/1"),
        (D("350.00"), f"{ACCOUNT.iban}/2024-03-01-0001/1")]
    other = replace(unnamed, payment_id="PMTINF-2")  # another batch of the same amount
    later = replace(unnamed, payments=tuple(replace(p, booked=date(2024, 3, 4))
                                            for p in unnamed.payments))  # or another day
    for detailing in (other, later):
        details = camt_file(tmp_path, "054", "02", [detailing], "054.xml", statement_id="N")
        statement, _ = read_statements([day, details])
        assert [e.amount for e in statement.entries] == [D("750.00")]


def test_a_shared_reference_pairs_first_and_batch_data_then(tmp_path):
    named = batch()
    other = replace(batch(), bank_reference="SAMMLER-78", payments=(
        Payment(D("400.00"), DAY, "Gemeinde Ascheberg", OLFEN, "Rechnung 2024-Sued-Ascheberg"),
        Payment(D("350.00"), DAY, "Stadt Duelmen", OLFEN, "Rechnung 2024-Mitte-Duelmen")))
    day = camt_file(tmp_path, "053", "08", [other, named], "053.xml")
    # The bank names the second notification differently from its batch entry.
    details = camt_file(tmp_path, "054", "08", [named, replace(other, bank_reference="AVIS-2")],
                        "054.xml", statement_id="NTF-1")
    statement, _ = read_statements([day, details])
    assert [(e.name, e.batch) for e in statement.entries] == [
        ("Gemeinde Ascheberg", "SAMMLER-78"), ("Stadt Duelmen", "SAMMLER-78"),
        ("Gemeinde Nordkirchen", "SAMMLER-77"), ("Stadt Olfen", "SAMMLER-77")]


def test_a_054_of_another_account_details_nothing(tmp_path):
    day = camt_file(tmp_path, "053", "08", [batch()], "053.xml")
    other = write(tmp_path / "054.xml", camt("054", "08", replace(ACCOUNT, iban=OLFEN),
                                             [batch()]))
    statement, _ = read_statements([day, other])
    assert [e.amount for e in statement.entries] == [D("750.00")]


def test_details_that_do_not_add_up_to_their_batch_are_refused(tmp_path):
    day = camt_file(tmp_path, "053", "08", [batch()], "053.xml")
    smaller = replace(batch(), payments=batch().payments[:1])
    details = camt_file(tmp_path, "054", "08", [smaller], "054.xml")
    assert refusal([day, details]) == [
        "053.xml: Element Stmt/Ntry[1]: Die Sammelbuchung über 750,00 € wird in „054.xml“ "
        "durch Einzelumsätze über zusammen 400,00 € aufgelöst; die Beträge passen nicht "
        "zusammen."]


def test_transactions_of_one_entry_must_add_up_to_it(tmp_path):
    data = edited(camt("054", "08", ACCOUNT, [batch()]), "//c:Ntry/c:Amt", text="760.00")
    assert refusal([write(tmp_path / "054.xml", data)]) == [
        "054.xml: Element Ntfctn/Ntry[1]: Die Einzelumsätze ergeben zusammen 750,00 €, die "
        "Buchung lautet aber über 760,00 €."]


# ------------------------------------------------------------------ ZIP and folders


def test_a_zip_of_statements_as_the_bank_hands_it_out(tmp_path):
    archive = write_zip(tmp_path / "auszuege.zip", {
        "2024-03-01_053.xml": camt("053", "08", ACCOUNT, [payments()[0], batch()]),
        "2024-03-01_054.xml": camt("054", "08", ACCOUNT, [batch()]),
        "__MACOSX/._2024-03-01_053.xml": b"\x00\x05\x16\x07",
        "2024-03-01_Kontoauszug.pdf": b"%PDF-1.7",
        "Ordner/": b""})
    statement, notification = read_statements([archive])
    assert statement.source == "auszuege.zip/2024-03-01_053.xml"
    assert notification.entries[0].source == "auszuege.zip/2024-03-01_054.xml"
    assert [e.amount for e in statement.entries] == [D("1250.00"), D("400.00"), D("350.00")]


def test_a_zip_without_a_statement_is_refused(tmp_path):
    archive = write_zip(tmp_path / "auszug.zip", {"Kontoauszug.pdf": b"%PDF-1.7"})
    assert refusal([archive]) == [
        "auszug.zip: Datei: Das ZIP-Archiv enthält keinen Kontoauszug."]


def test_a_folder_means_every_statement_in_it_sorted_by_name(tmp_path):
    folder = tmp_path / "Kontoauszuege"
    camt_file(folder, "053", "08", payments()[:1], "b.xml", statement_id="B")
    write(folder / "a.sta", mt940(ACCOUNT, payments()[1:2]))
    write_zip(folder / "c.zip", {"c.xml": camt("053", "02", ACCOUNT, [],
                                               Options(statement_id="C"))})
    write(folder / ".versteckt.xml", b"kein Auszug")
    write(folder / "~$b.xml", b"kein Auszug")
    write(folder / "Notizen.pdf", b"%PDF-1.7")
    (folder / "unterordner.xml").mkdir()
    assert [s.source for s in read_statements([folder])] == ["a.sta", "b.xml", "c.zip/c.xml"]


# ------------------------------------------------------------------ refusals


def test_a_missing_path_and_an_empty_folder_are_refused(tmp_path):
    (tmp_path / "leer").mkdir()
    assert refusal([tmp_path / "fehlt.xml", tmp_path / "leer"]) == [
        f"{tmp_path / 'fehlt.xml'}: Datei: Die Datei oder den Ordner gibt es nicht.",
        f"{tmp_path / 'leer'}: Ordner: Im Ordner liegt kein Kontoauszug (Dateien mit der "
        f"Endung .xml, .zip, .sta, .mt940 oder .txt)."]


def test_files_that_are_no_statement_are_refused(tmp_path):
    other_xml = write(tmp_path / "rechnung.xml", b"<?xml version='1.0'?><Invoice/>")
    workbook = write_workbook(example_2024(), tmp_path / "Abrechnung.xlsx")
    renamed = write(tmp_path / "auszug.zip", workbook.read_bytes())
    noise = write(tmp_path / "zufall.sta", bytes(range(256)) * 8)
    assert refusal([other_xml, workbook, renamed, noise]) == [
        "rechnung.xml: Datei: Die Datei ist eine XML-Datei, aber kein Kontoauszug im "
        "camt-Format (Wurzelelement „Invoice“ ohne Namensraum). Gelesen werden camt.052, "
        "camt.053 und camt.054 als .xml oder .zip und MT940.",
        "Abrechnung.xlsx: Datei: Die Datei ist eine Tabelle (Excel oder OpenDocument), kein "
        "Kontoauszug. Bitte die Kontoauszüge so angeben, wie die Bank sie liefert: camt als "
        ".xml oder .zip, oder MT940.",
        "auszug.zip: Datei: Die Datei ist eine Tabelle (Excel oder OpenDocument), kein "
        "Kontoauszug. Bitte die Kontoauszüge so angeben, wie die Bank sie liefert: camt als "
        ".xml oder .zip, oder MT940.",
        "zufall.sta: Datei: Die Datei ist kein Kontoauszug: weder camt-XML (.xml oder .zip) "
        "noch MT940."]


def test_xml_that_is_not_well_formed_is_refused_with_its_line(tmp_path):
    data = camt("053", "08", ACCOUNT, payments())[:600]
    [message] = refusal([write(tmp_path / "abgebrochen.xml", data)])
    assert message.startswith("abgebrochen.xml: Zeile ")
    assert "Die Datei ist kein gültiges XML und damit kein camt-Kontoauszug (technische " \
           "Ursache: " in message


def test_an_unknown_camt_version_or_message_is_refused_naming_it(tmp_path):
    data = camt("053", "08", ACCOUNT, payments())
    newer = write(tmp_path / "neu.xml", data.replace(b"camt.053.001.08", b"camt.053.001.13"))
    cancel = write(tmp_path / "storno.xml", data.replace(b"camt.053.001.08", b"camt.056.001.08"))
    pain = write(tmp_path / "pain.xml", data.replace(b"camt.053.001.08", b"pain.001.001.09"))
    mixed = write(tmp_path / "mix.xml", data.replace(b"camt.053.001.08", b"camt.052.001.08"))
    assert refusal([newer, cancel, pain, mixed]) == [
        "neu.xml: Datei: Die camt-Version camt.053.001.13 (Namensraum „urn:iso:std:iso:20022:"
        "tech:xsd:camt.053.001.13“) wird nicht gelesen; gelesen werden camt.052, camt.053 und "
        "camt.054 in den Versionen .001.02 und .001.08.",
        "storno.xml: Datei: Die Datei ist die ISO-20022-Nachricht camt.056.001.08, kein "
        "Kontoauszug. Gelesen werden camt.052 (Umsätze untertags), camt.053 (Tagesauszug) "
        "und camt.054 (Sammlerauflösung).",
        "pain.xml: Datei: Die Datei ist die ISO-20022-Nachricht pain.001.001.09, kein "
        "Kontoauszug. Gelesen werden camt.052 (Umsätze untertags), camt.053 (Tagesauszug) "
        "und camt.054 (Sammlerauflösung).",
        "mix.xml: Element Document: Die Datei hat den Namensraum von camt.052.001.08, aber "
        "das Element „BkToCstmrStmt“ statt „BkToCstmrAcctRpt“; sie ist kein gültiger "
        "Kontoauszug."]


def test_a_doctype_is_refused_and_no_entity_is_expanded(tmp_path):
    laughs = (b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "ha">'
              + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">'
                         % ((98 + i,) + (97 + i,) * 10) for i in range(8))
              + b"]>\n<Document>&i;</Document>")
    started = time.perf_counter()
    assert refusal([write(tmp_path / "bombe.xml", laughs)]) == [
        "bombe.xml: Datei: Die Datei enthält eine DOCTYPE-Deklaration, die ein Kontoauszug "
        "der Bank nie hat; sie wird aus Sicherheitsgründen nicht gelesen (Schutz vor "
        "XML-Bomben). Bitte den Auszug neu bei der Bank abrufen."]
    assert time.perf_counter() - started < 1


def test_a_currency_other_than_euro_is_refused_naming_the_element(tmp_path):
    data = camt("053", "08", ACCOUNT, payments())
    usd_entry = write(tmp_path / "usd.xml", edited(data, "//c:Ntry[2]/c:Amt", Ccy="USD"))
    usd_account = write(tmp_path / "konto.xml", camt("053", "08", replace(ACCOUNT,
                                                                          currency="CHF"), []))
    usd_mt940 = write(tmp_path / "usd.sta", mt940(ACCOUNT, payments(), currency="USD"))
    assert refusal([usd_entry, usd_account, usd_mt940]) == [
        "usd.xml: Element Stmt/Ntry[2]/Amt: Der Betrag ist in USD angegeben; gelesen werden "
        "nur Kontoauszüge in Euro (EUR).",
        "konto.xml: Element Stmt/Acct/Ccy: Das Konto wird in CHF geführt; gelesen werden nur "
        "Kontoauszüge in Euro (EUR).",
        "usd.sta: Zeile 4: Das Konto wird in USD geführt; gelesen werden nur Kontoauszüge in "
        "Euro (EUR)."]


def test_balances_that_do_not_add_up_are_refused_with_the_three_amounts(tmp_path):
    wrong = write(tmp_path / "falsch.xml", camt("053", "02", ACCOUNT, payments(),
                                                Options(closing=D("11100.00"))))
    sta = write(tmp_path / "falsch.sta", mt940(ACCOUNT, payments(), closing=D("-1234.56")))
    assert refusal([wrong, sta]) == [
        "falsch.xml: Element Stmt/Bal[2]: Die Salden passen nicht zu den Umsätzen: "
        "Anfangssaldo 10.000,00 € + gebuchte Umsätze 1.151,00 € ergibt 11.151,00 €, der "
        "Endsaldo ist aber 11.100,00 €. Der Auszug ist unvollständig oder beschädigt; bitte "
        "neu bei der Bank abrufen.",
        "falsch.sta: Zeile 21: Die Salden passen nicht zu den Umsätzen: Anfangssaldo "
        "10.000,00 € + gebuchte Umsätze 1.151,00 € ergibt 11.151,00 €, der Endsaldo ist aber "
        "-1.234,56 €. Der Auszug ist unvollständig oder beschädigt; bitte neu bei der Bank "
        "abrufen."]
    assert sta.read_text().splitlines()[20].startswith(":62F:D")


def test_entries_with_bad_values_are_each_named(tmp_path):
    data = camt("053", "08", ACCOUNT, payments())
    data = edited(data, "//c:Ntry[1]/c:Sts/c:Cd", text="XXXX")
    data = edited(data, "//c:Ntry[3]/c:Amt", text="99.001")
    data = edited(data, "//c:Ntry[4]/c:CdtDbtInd", text="SOLL")
    assert refusal([write(tmp_path / "kaputt.xml", data)]) == [
        "kaputt.xml: Element Stmt/Ntry[1]/Sts: Der Status „XXXX“ ist unbekannt (erwartet "
        "BOOK, PDNG oder INFO).",
        "kaputt.xml: Element Stmt/Ntry[3]/Amt: „99.001“ ist kein Betrag in ganzen Cent.",
        "kaputt.xml: Element Stmt/Ntry[4]/CdtDbtInd: „SOLL“ ist weder CRDT (Gutschrift) noch "
        "DBIT (Belastung)."]


def test_a_file_full_of_errors_names_ten_and_counts_the_rest(tmp_path):
    data = camt("053", "08", ACCOUNT, many_payments(13))
    for n in range(1, 14):
        data = edited(data, f"//c:Ntry[{n}]/c:Amt", Ccy="USD")
    lines = refusal([write(tmp_path / "usd.xml", data)])
    assert len(lines) == 11
    assert lines[9].startswith("usd.xml: Element Stmt/Ntry[10]/Amt: Der Betrag ist in USD")
    assert lines[10] == "usd.xml: Datei: … und 3 weitere Fehler in derselben Datei."


def test_a_damaged_zip_is_refused(tmp_path):
    good = write_zip(tmp_path / "gut.zip", {"a.xml": camt("053", "08", ACCOUNT, payments())})
    cut = write(tmp_path / "abgeschnitten.zip", good.read_bytes()[:-40])
    flipped = bytearray(good.read_bytes())
    flipped[60] ^= 0xFF  # inside the deflated member: the checksum no longer matches
    damaged = write(tmp_path / "kaputt.zip", bytes(flipped))
    message = ("Das ZIP-Archiv ist beschädigt (kein gültiges ZIP, Prüfsumme falsch oder "
               "unvollständig heruntergeladen). Bitte die Kontoauszüge neu bei der Bank "
               "abrufen.")
    assert refusal([cut, damaged]) == [f"abgeschnitten.zip: Datei: {message}",
                                       f"kaputt.zip: Datei: {message}"]


def test_an_encrypted_zip_is_refused(tmp_path):
    assert refusal([encrypted_zip(tmp_path / "geheim.zip")]) == [
        "geheim.zip: Datei: Das ZIP-Archiv ist mit einem Kennwort verschlüsselt und kann nicht "
        "gelesen werden. Bitte die Kontoauszüge ohne Kennwort abrufen."]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    # 640 MB of the same line in 0.3 MB, declaring 1 KB: the directory lies.
    stream = deflate_repeated(b"<Ntry/>" * 9000, 10_000)
    bomb = handmade_zip(tmp_path / "bombe.zip", [("a.xml", stream, 0, 1024)])
    started = time.perf_counter()
    assert refusal([bomb]) == [
        "bombe.zip: Datei: Das ZIP-Archiv ist ungewöhnlich stark gepackt (mehr als das "
        "200-Fache); so sind keine Kontoauszüge gepackt (Schutz vor ZIP-Bomben)."]
    assert time.perf_counter() - started < 1


def many_payments(count: int) -> list[Payment]:
    return [Payment(D(f"{n % 900 + 1}.{n % 100:02d}"), DAY, f"Zahler {n}", OLFEN,
                    f"Rechnung 2024-Nord-{n} Kassenzeichen KIM-2024-NORD-{n:05d}",
                    f"E2E-{n}", bank_reference=f"BR-{n:06d}") for n in range(count)]


def test_a_zip_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "ZIP_LIMITS", Limits(member=MB, total=2 * MB, ratio=200))
    members = {f"{n}.xml": camt("053", "08", ACCOUNT, many_payments(300),
                                Options(statement_id=str(n))) for n in range(5)}
    assert all(len(m) < MB for m in members.values())
    assert sum(map(len, members.values())) > 2 * MB
    assert refusal([write_zip(tmp_path / "gross.zip", members)]) == [
        "gross.zip: Datei: Das ZIP-Archiv entpackt sich auf mehr als 2 MB (oder eine Datei "
        "darin auf mehr als 1 MB); so groß sind keine Kontoauszüge (Schutz vor ZIP-Bomben)."]


def test_a_file_larger_than_the_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", MB)
    path = camt_file(tmp_path, "053", "08", many_payments(1000), "gross.xml")
    assert path.stat().st_size > MB
    assert refusal([path]) == [
        "gross.xml: Datei: Die Datei ist größer als 1 MB; so groß ist kein Kontoauszug. Bitte "
        "die Auszüge einzeln oder als ZIP der Bank angeben."]


def test_an_unreadable_file_is_refused_with_the_reason(tmp_path, monkeypatch):
    path = camt_file(tmp_path, "053", "08", payments(), "gesperrt.xml")
    real_open = Path.open

    def locked(self, *args, **kwargs):  # tests run as root here, where chmod 000 reads anyway
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", locked)
    assert refusal([path]) == [
        "gesperrt.xml: Datei: Die Datei kann nicht gelesen werden (keine Schreib- oder "
        "Leserechte)."]


def test_one_error_lists_every_bad_file_and_nothing_is_returned(tmp_path):
    good = camt_file(tmp_path, "053", "08", payments(), "gut.xml")
    bad_currency = write(tmp_path / "usd.sta", mt940(ACCOUNT, payments(), currency="USD"))
    not_statement = write(tmp_path / "notiz.txt", "Bitte bis Freitag überweisen.".encode())
    lines = refusal([good, bad_currency, not_statement])
    assert [line.split(":")[0] for line in lines] == ["usd.sta", "notiz.txt"]


def test_the_error_survives_a_worker_process(tmp_path):
    with pytest.raises(StatementError) as caught:
        read_statements([tmp_path / "fehlt.xml"])
    again = pickle.loads(pickle.dumps(caught.value))
    assert again.problems == caught.value.problems and str(again) == str(caught.value)


# ------------------------------------------------------------------ speed


@pytest.mark.slow
def test_a_statement_of_10000_entries_reads_in_a_few_seconds_at_most(tmp_path):
    """About 1.6 s of processor time on the shared development machine (0.3 s parsing, the
    rest one Python object per element lxml hands out); the bound catches a reader that
    grows with the square of the entries, not a busy machine."""
    path = camt_file(tmp_path, "053", "08", many_payments(10_000), "gross.xml")
    archive = write_zip(tmp_path / "gross.zip", {"gross.xml": path.read_bytes()})
    timings = []
    for source in (path, archive):
        started = time.process_time()
        [statement] = read_statements([source])
        timings.append(time.process_time() - started)
        assert len(statement.entries) == 10_000 and statement.balance_ok
        assert len({e.identity for e in statement.entries}) == 10_000
    # One batch of 10,000 payments, detailed by a camt.054 (quadratic pairing would show).
    big = Batch(tuple(many_payments(10_000)), bank_reference="SAMMLER-1")
    day = camt_file(tmp_path, "053", "08", [big], "053.xml")
    details = camt_file(tmp_path, "054", "08", [big], "054.xml", statement_id="NTF-1")
    started = time.process_time()
    statement, notification = read_statements([day, details])
    timings.append(time.process_time() - started)
    assert statement.entries == notification.entries and len(statement.entries) == 10_000
    print(f"10,000 entries ({path.stat().st_size // 1024} KB): XML {timings[0]:.2f} s, "
          f"ZIP ({archive.stat().st_size // 1024} KB) {timings[1]:.2f} s; a batch of 10,000 "
          f"with its camt.054 {timings[2]:.2f} s processor time")
    assert max(timings) < 5.0


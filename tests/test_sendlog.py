"""The send log ``versand.csv`` (kim_excel/ledger/sendlog.py): written whole from the ledger's
sendings, for people; read back only by the migration of kim-excel 1.0's record and the check
for a stale record, also after Excel saved it. Through ``versenden``: tests/test_send.py."""

from __future__ import annotations

from datetime import date

import pytest

from kim_excel.ledger.book import Ledger, Sending, SendResult
from kim_excel.ledger.life import apply_plan, plan_settlement
from kim_excel.ledger.sendlog import (
    LOG_COLUMNS,
    LogEntry,
    log_bytes,
    log_entries,
    log_time,
    read_log,
)
from tests import builders
from tests.builders import example_2024


@pytest.fixture(scope="module")
def settlement(tmp_path_factory):
    return builders.settled(example_2024(), tmp_path_factory.mktemp("sendlog"), date(2025, 3, 2))


@pytest.fixture
def ledger(settlement) -> Ledger:
    """The example's ledger as a settlement run leaves it (nothing sent yet)."""
    book = Ledger(year=2024)
    plan = plan_settlement(settlement, book, date(2025, 3, 2), False, lambda names: [])
    apply_plan(plan, book, settlement)
    return book


def send(ledger: Ledger, number: str, time: str, result: SendResult = SendResult.SENT,
         detail: str = "") -> Sending:
    bill = ledger.bill(number)[2]
    sending = Sending(time, f"kaemmerei@{bill.partner.lower()}.example", result,
                      (bill.file,), ("ab" * 32,), f"<{len(bill.sendings)}@x.example>", detail)
    bill.sendings.append(sending)
    return sending


def entry(partner: str, result: str = "gesendet") -> LogEntry:
    return LogEntry("02.03.2025 10:00:00", partner, f"kaemmerei@{partner.lower()}.example",
                    f"Abrechnung_2024_{partner}.xlsx", "ab" * 32, "<1@x.example>", result, "")


# ------------------------------------------------------------------------------ from the ledger


def test_every_attempt_of_the_ledger_is_a_line_oldest_first_in_german_time(ledger):
    send(ledger, "2024-Olfen", "2025-03-03T09:15:00+01:00")
    send(ledger, "2024-Billerbeck", "2025-03-02T10:00:00+01:00", SendResult.FAILED,
         "550 Postfach unbekannt")
    send(ledger, "2024-Billerbeck", "2025-03-10T08:00:05+01:00")
    send(ledger, "2024-Havixbeck", "2025-02-28T16:00:00+01:00", SendResult.TEST,
         "Probe statt an kaemmerei@havixbeck.example")

    entries = log_entries(ledger)

    assert [(e.time, e.partner, e.result) for e in entries] == [
        ("28.02.2025 16:00:00", "Havixbeck", "Test"),
        ("02.03.2025 10:00:00", "Billerbeck", "Fehler"),
        ("03.03.2025 09:15:00", "Olfen", "gesendet"),
        ("10.03.2025 08:00:05", "Billerbeck", "gesendet")]
    failed = entries[1]
    assert failed.attachments == "Abrechnung_2024_Billerbeck.xlsx"
    assert failed.recipient == "kaemmerei@billerbeck.example"
    assert failed.detail == "550 Postfach unbekannt"
    assert failed.message_id == "<0@x.example>"


def test_a_ledger_without_sendings_has_no_lines(ledger):
    assert log_entries(ledger) == []


def test_several_attachments_and_hashes_are_joined_in_their_order(ledger):
    bill = ledger.bill("2024-Olfen")[2]
    bill.sendings.append(Sending("2025-03-03T09:15:00+01:00", "kasse@olfen.example",
                                 SendResult.SENT, (bill.file, "Abrechnung_2024_Olfen.pdf"),
                                 ("ab" * 32, "cd" * 32), "<1@x.example>"))

    (line,) = log_entries(ledger)

    assert line.attachments == "Abrechnung_2024_Olfen.xlsx, Abrechnung_2024_Olfen.pdf"
    assert line.hashes == f"{'ab' * 32}, {'cd' * 32}"


def test_a_time_that_is_not_iso_is_kept_as_it_is():
    assert log_time("2025-03-02T10:00:00+01:00") == "02.03.2025 10:00:00"
    assert log_time("16.04.2025 10:00:00") == "16.04.2025 10:00:00"


# ------------------------------------------------------------------------------ the file


def test_the_log_starts_with_a_bom_and_one_header_and_ends_its_lines_for_excel():
    lines = log_bytes([entry("Billerbeck"), entry("Olfen")]).split(b"\r\n")

    assert lines[0] == "\ufeff".encode() + ";".join(LOG_COLUMNS).encode()
    assert len(lines) == 4 and lines[3] == b""  # header, two entries, final CRLF


def test_every_field_reads_back_exactly_even_with_semicolons_quotes_and_line_breaks(tmp_path):
    tricky = LogEntry("02.03.2025 10:00:00", "Lüdinghausen", "kasse@luedinghausen.example",
                      "Abrechnung_2024_Luedinghausen.xlsx; Abrechnung_2024_Luedinghausen.pdf",
                      "ab" * 32 + ";" + "cd" * 32, "<1@x.example>", "Fehler",
                      '550 „Postfach voll“; bitte "später"\nnoch einmal')
    (tmp_path / "versand.csv").write_bytes(log_bytes([entry("Billerbeck"), tricky]))

    assert read_log(tmp_path) == [entry("Billerbeck"), tricky]


def test_the_log_still_reads_after_excel_saved_it_as_ansi(tmp_path):
    """Excel's plain "CSV" is cp1252 without BOM: Lüdinghausen must still be recognised."""
    log = tmp_path / "versand.csv"
    log.write_bytes(log_bytes([entry("Lüdinghausen")]).decode("utf-8-sig").encode("cp1252"))

    assert [e.partner for e in read_log(tmp_path)] == ["Lüdinghausen"]


def test_a_line_cut_off_by_a_crash_is_left_out_and_a_missing_log_reads_empty(tmp_path):
    """kim-excel 1.0 appended to the log; a crash could leave half a line behind."""
    log = tmp_path / "versand.csv"
    log.write_bytes(log_bytes([entry("Billerbeck")]) + b"02.03.2025 10:00:01;Havix")

    assert [(e.partner, e.result) for e in read_log(tmp_path)] == [("Billerbeck", "gesendet")]
    assert read_log(tmp_path / "fehlt") == []


def test_the_ledgers_lines_read_back_as_written(ledger, tmp_path):
    send(ledger, "2024-Nordkirchen", "2025-03-03T09:15:00+01:00")
    send(ledger, "2024-Senden", "2025-03-03T09:15:02+01:00", SendResult.NO_ADDRESS)
    (tmp_path / "versand.csv").write_bytes(log_bytes(log_entries(ledger)))

    assert read_log(tmp_path) == log_entries(ledger)
    assert [e.result for e in read_log(tmp_path)] == ["gesendet", "ohne Adresse"]

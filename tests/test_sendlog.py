"""The send log ``versand.csv`` (kim_excel/sendlog.py): appended, never rewritten, readable
after a crash and after Excel saved it."""

from __future__ import annotations

import pytest

from kim_excel.core.errors import MailError
from kim_excel.ledger.sendlog import LOG_COLUMNS, LogEntry, append_log, check_log_writable, read_log

# ------------------------------------------------------------------------------ the log itself


def entry(partner: str, result: str = "gesendet") -> LogEntry:
    return LogEntry("02.03.2025 10:00:00", partner, f"kaemmerei@{partner.lower()}.example",
                    f"Abrechnung_2024_{partner}.xlsx", "ab" * 32, "<1@x.example>", result, "")


def test_the_log_only_ever_grows_even_after_a_line_cut_off_by_a_crash(tmp_path):
    log = tmp_path / "versand.csv"
    append_log(log, entry("Billerbeck"))
    cut_off = log.read_bytes() + b"02.03.2025 10:00:01;Havix"  # a crash in mid-line
    log.write_bytes(cut_off)

    append_log(log, entry("Olfen"))

    assert log.read_bytes().startswith(cut_off)
    assert [(e.partner, e.result) for e in read_log(log)] == [("Billerbeck", "gesendet"),
                                                               ("Olfen", "gesendet")]


def test_the_log_still_counts_after_excel_saved_it_as_ansi(tmp_path):
    """Excel's plain "CSV" is cp1252 without BOM: Lüdinghausen must still be recognised."""
    log = tmp_path / "versand.csv"
    append_log(log, entry("Lüdinghausen"))
    log.write_bytes(log.read_bytes().decode("utf-8-sig").encode("cp1252"))

    assert [e.partner for e in read_log(log)] == ["Lüdinghausen"]


def test_every_field_reads_back_exactly_even_with_semicolons_quotes_and_line_breaks(tmp_path):
    log = tmp_path / "versand.csv"
    tricky = LogEntry("02.03.2025 10:00:00", "Lüdinghausen", "kasse@luedinghausen.example",
                      "Abrechnung_2024_Luedinghausen.xlsx; Abrechnung_2024_Luedinghausen.pdf",
                      "ab" * 32 + ";" + "cd" * 32, "<1@x.example>", "Fehler",
                      '550 „Postfach voll“; bitte "später"\nnoch einmal')
    append_log(log, entry("Billerbeck"))
    append_log(log, tricky)

    assert read_log(log) == [entry("Billerbeck"), tricky]


def test_a_new_log_starts_with_a_bom_and_one_header_for_excel(tmp_path):
    log = tmp_path / "versand.csv"
    append_log(log, entry("Billerbeck"))
    append_log(log, entry("Olfen"))

    lines = log.read_bytes().split(b"\r\n")
    assert lines[0] == "\ufeff".encode() + ";".join(LOG_COLUMNS).encode()
    assert len(lines) == 4 and lines[3] == b""  # header, two entries, final CRLF
    assert read_log(tmp_path / "fehlt.csv") == []


def test_a_log_that_cannot_be_written_is_a_german_message(tmp_path):
    folder = tmp_path / "versand.csv"
    folder.mkdir()  # like a file Excel holds open: open() fails

    with pytest.raises(MailError, match="Das Versandprotokoll .* kann nicht geschrieben werden"):
        check_log_writable(folder)

"""MT940 statements (input/mt940.py): the German ``:86:`` subfields, the account from
Bankleitzahl/Kontonummer, transliterated or Windows-1252 umlauts, statements in parts, and
the same payments as camt gives them. The builder is ``tests/statements.py``."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from decimal import Decimal

import pytest

from kim_excel.input.mt940 import german_iban
from kim_excel.input.statements import read_statements
from tests.statements import Payment, mt940, swift_text, write
from tests.test_statements import (
    ACCOUNT,
    DAY,
    OLFEN,
    essentials,
    expected,
    payments,
    refusal,
)

D = Decimal


def test_the_mt940_builder_cuts_subfields_and_lines_as_banks_do():
    data = mt940(ACCOUNT, payments()).decode("ascii")
    lines = data.split("\r\n")
    assert max(len(line) for line in lines) == 65
    assert ":25:37040044/0532013000" in lines  # Bankleitzahl/Kontonummer, as older files
    details = "".join(lines[lines.index(":61:2403040301C80,50NTRFNONREF//BR-0002") + 1:
                            lines.index(":61:2403010301D99,00NTRFNONREF//BR-0003")])
    assert "?20EREF+NOTPROVIDED?21SVWZ+Abrechnung Eigenanteil?22 KIM 2024" in details
    assert details.count("SVWZ+") == 1
    assert ":61:2403010301RC80,50NTRFNONREF//BR-0004" in lines


def test_mt940_text_is_ascii_with_umlauts_transliterated():
    assert swift_text("Lüdinghausen Straße Ärger? & Co") == "Luedinghausen Strasse Aerger. . Co"


def test_mt940_gives_the_same_payments(tmp_path):
    [statement] = read_statements([write(tmp_path / "umsaetze.sta", mt940(ACCOUNT, payments()))])
    assert (statement.kind, statement.version) == ("MT940", "")
    assert statement.account == ACCOUNT.iban  # from Bankleitzahl/Kontonummer in :25:
    assert [essentials(e) for e in statement.entries] == [expected(p) for p in payments()]
    # MT940 promises no unique reference: its identities are statement and position.
    assert statement.identity == "STARTUMSE/00001/001/2024-03-01"
    assert [e.identity for e in statement.entries] == [
        f"{ACCOUNT.iban}/STARTUMSE/00001/001/2024-03-01/{n}" for n in (1, 2, 3, 4)]


def test_mt940_with_the_iban_in_25_and_umlauts_sent_transliterated(tmp_path):
    payment = Payment(D("10.00"), DAY, "Stadt Lüdinghausen", OLFEN, "Gebühr für März")
    data = mt940(ACCOUNT, [payment], iban_in_25=True)
    [entry] = read_statements([write(tmp_path / "a.mt940", data)])[0].entries
    assert (entry.account, entry.name, entry.text) == (
        ACCOUNT.iban, "Stadt Luedinghausen", "Gebuehr fuer Maerz")


def test_mt940_in_windows_1252_keeps_its_umlauts(tmp_path):
    data = mt940(ACCOUNT, [Payment(D("10.00"), DAY, "Stadt Olfen", OLFEN, "Gebuehr")])
    data = data.replace(b"Gebuehr", "Gebühr".encode("cp1252"))
    [entry] = read_statements([write(tmp_path / "a.txt", data)])[0].entries
    assert entry.text == "Gebühr"


def test_an_mt940_statement_in_parts_gives_one_statement_per_part(tmp_path):
    first = mt940(ACCOUNT, payments()[:2], number="00007/001").replace(b":62F:", b":62M:")
    rest = mt940(replace(ACCOUNT, opening=D("11330.50")), payments()[2:],
                 number="00007/002").replace(b":60F:", b":60M:")
    one, two = read_statements([write(tmp_path / "a.sta", first + rest)])
    assert (one.identity, two.identity) == ("STARTUMSE/00007/001/2024-03-01",
                                            "STARTUMSE/00007/002/2024-03-01")
    assert (one.closing, two.opening, two.closing) == (D("11330.50"), D("11330.50"),
                                                       D("11151.00"))
    assert [e.amount for e in two.entries] == [D("-99.00"), D("-80.50")]
    assert len({e.identity for e in one.entries + two.entries}) == 4


def test_mt940_free_text_without_subfields_is_the_verwendungszweck(tmp_path):
    data = mt940(ACCOUNT, payments()[:1]).decode("ascii").split("\r\n")
    start = next(i for i, line in enumerate(data) if line.startswith(":86:"))
    data[start:start + 3] = [":86:Rechnung 2024-Nord-Nordkirchen", " Kassenzeichen KIM-2024"]
    [entry] = read_statements([write(tmp_path / "a.sta", "\r\n".join(data).encode())])[0].entries
    assert entry.remittance == ("Rechnung 2024-Nord-Nordkirchen Kassenzeichen KIM-2024",)
    assert (entry.name, entry.iban, entry.end_to_end) == ("", "", "")


def test_german_iban_from_bank_code_and_account_number():
    assert german_iban("37040044", "532013000") == "DE89370400440532013000"
    assert german_iban("40154530", "123456") == "DE26401545300000123456"


def test_an_unreadable_mt940_field_is_refused_with_its_line(tmp_path):
    data = mt940(ACCOUNT, payments()).replace(b":61:2403010301D99,00", b":61:24XX01D99,00")
    assert refusal([write(tmp_path / "a.sta", data)]) == [
        "a.sta: Zeile 15: Das Feld :61: ist nicht im MT940-Format und kann nicht gelesen "
        "werden (24XX01D99,00NTRFNONREF//BR-0003)."]


def test_a_truncated_statement_misses_its_closing_balance(tmp_path):
    data = mt940(ACCOUNT, payments())
    cut = data[:data.index(b":62F:")]
    assert refusal([write(tmp_path / "halb.sta", cut)]) == [
        "halb.sta: Zeile 1: Der Endsaldo (:62F:) fehlt; die Datei ist unvollständig."]


@pytest.mark.slow  # a fresh process: about 1.4 s
def test_what_the_package_logs_about_a_bad_field_stays_off_the_terminal(tmp_path):
    bad = mt940(ACCOUNT, payments()).replace(b":61:2403010301D99,00", b":61:24XX01D99,00")
    path = write(tmp_path / "a.sta", bad)
    script = ("import sys; from pathlib import Path; "
              "from kim_excel.input.statements import read_statements\n"
              "try: read_statements([Path(sys.argv[1])])\n"
              "except Exception as exc: print(type(exc).__name__)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert (done.stdout, done.stderr) == ("StatementError\n", "")
    assert time.perf_counter() - started < 5

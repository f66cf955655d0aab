"""GiroCode (EPC QR): what a banking app scans is what the letter says.

Every code is read back with ``zbarimg`` (as a phone would) and its EPC069-12 payload compared
field by field.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kim_excel.documents.girocode import GiroCodeError, epc_png, epc_qr, needs_girocode, qr_png
from tests.external_tools import zbarimg

IBAN = "DE26401545300000123456"
BIC = "WELADED1MST"
TEXT = "KIM 2025 Lüdinghausen Rechnung 2025-003"


def scanned(tmp_path, png: bytes) -> list[str]:
    path = tmp_path / "girocode.png"
    path.write_bytes(png)
    return zbarimg(path).split("\n")


def test_the_code_scans_to_the_transfer(tmp_path):
    png = epc_png("Stadt Lüdinghausen", IBAN, BIC, Decimal("12.34"), TEXT)
    assert png.startswith(b"\x89PNG")
    assert scanned(tmp_path, png) == [
        "BCD", "002", "2", "SCT", BIC, "Stadt Lüdinghausen", IBAN, "EUR12.34", "", "", TEXT]


def test_without_bic_and_with_a_spaced_iban(tmp_path):
    png = epc_png("Gemeinde Nottuln", "de26 4015 4530 0000 1234 56", None,
                  Decimal("999999999.99"), "KIM 2025 Nottuln")
    fields = scanned(tmp_path, png)
    assert fields[4:8] == ["", "Gemeinde Nottuln", IBAN, "EUR999999999.99"]
    assert fields[-1] == "KIM 2025 Nottuln"


def test_longest_allowed_name_and_text_scan(tmp_path):
    name, text = "N" * 70, "T" * 140
    fields = scanned(tmp_path, qr_png(epc_qr(name, IBAN, BIC, Decimal("0.01"), text)))
    assert fields[5] == name and fields[7] == "EUR0.01" and fields[-1] == text


@pytest.mark.parametrize(("name", "bic", "amount", "text", "message"), [
    ("N" * 71, BIC, Decimal("1.00"), "KIM", "hat 71 Zeichen; erlaubt sind höchstens 70"),
    ("", BIC, Decimal("1.00"), "KIM", "Der Name des Zahlungsempfängers fehlt"),
    ("Stadt", BIC, Decimal("1.00"), "T" * 141, "hat 141 Zeichen; erlaubt sind höchstens 140"),
    ("Stadt", BIC, Decimal("1.00"), " ", "Der Verwendungszweck fehlt"),
    ("Stadt", BIC, Decimal("0.00"), "KIM", "liegt nicht zwischen 0,01 und 999.999.999,99"),
    ("Stadt", BIC, Decimal("-5.00"), "KIM", "liegt nicht zwischen 0,01"),
    ("Stadt", BIC, Decimal("1000000000.00"), "KIM", "liegt nicht zwischen"),
    ("Stadt", BIC, Decimal("1.005"), "KIM", "kein Betrag in ganzen Cent"),
    ("Stadt", BIC, 12.34, "KIM", "kein Betrag in ganzen Cent"),
    ("Stadt", "WELADED", Decimal("1.00"), "KIM", "Die BIC „WELADED“ hat nicht 8 oder 11"),
])
def test_epc_limits_are_refused_in_german(name, bic, amount, text, message):
    with pytest.raises(GiroCodeError, match=message) as raised:
        epc_qr(name, IBAN, bic, amount, text)
    assert str(raised.value).startswith("GiroCode nicht möglich: ")


def test_every_broken_limit_is_named_at_once():
    with pytest.raises(GiroCodeError) as raised:
        epc_qr("N" * 71, IBAN, BIC, Decimal("0.00"), "T" * 141)
    assert str(raised.value).count("Zeichen; erlaubt") == 2
    assert "liegt nicht zwischen" in str(raised.value)


@pytest.mark.parametrize(("balance", "expected"), [
    (Decimal("0.01"), True), (Decimal("2125.00"), True),
    (Decimal("0.00"), False), (Decimal("-1875.00"), False),
])
def test_only_an_amount_to_pay_gets_a_girocode(balance, expected):
    assert needs_girocode(balance) is expected

"""GiroCode: the EPC QR code (EPC069-12, version 002) that banking apps scan to fill a transfer.

SPEC § 5: every letter with an amount to pay carries one — the employer's name, IBAN, BIC if
known, the amount and the letter's Verwendungszweck. A refund or a zero balance gets none
(:func:`needs_girocode`); the caller decides, this module refuses amounts below one cent.

segno (BSD) writes the code: ``segno.helpers.make_epc_qr`` builds the EPC payload (service tag
``BCD``, version ``002``, the smallest fitting character set, error correction level M, at most
version 13) — a standard's details not worth re-implementing. The limits below are checked here
first so that a violation reads as a German message instead of segno's English one.
"""

from __future__ import annotations

import io
from decimal import Decimal

from kim_excel.money import CENT

MAX_NAME = 70  # AT-21 name of the beneficiary
MAX_TEXT = 140  # AT-05 unstructured remittance information
MIN_AMOUNT = Decimal("0.01")  # AT-04
MAX_AMOUNT = Decimal("999999999.99")
QR_SCALE = 4  # pixels per module: 4 × (version ≤ 13: ≤ 69 modules + 8 border) ≤ 308 px


class GiroCodeError(ValueError):
    """The data cannot be put into a GiroCode (a German message for people)."""


def needs_girocode(balance: Decimal) -> bool:
    """Does a letter with this balance carry a GiroCode? Only when there is something to pay."""
    return balance > 0


def epc_problems(name: str, iban: str, bic: str | None, amount: Decimal, text: str) -> list[str]:
    """Every EPC069-12 limit that the data breaks, in German."""
    problems = []
    if not name.strip():
        problems.append("Der Name des Zahlungsempfängers fehlt.")
    elif len(name.strip()) > MAX_NAME:
        problems.append(f"Der Name des Zahlungsempfängers „{name}“ hat {len(name.strip())} "
                        f"Zeichen; erlaubt sind höchstens {MAX_NAME}.")
    compact_iban = iban.replace(" ", "")
    if not 5 <= len(compact_iban) <= 34:
        problems.append(f"Die IBAN „{iban}“ hat nicht 5 bis 34 Zeichen.")
    if bic and len(bic.strip()) not in (8, 11):
        problems.append(f"Die BIC „{bic}“ hat nicht 8 oder 11 Zeichen.")
    if not text.strip():
        problems.append("Der Verwendungszweck fehlt.")
    elif len(text.rstrip()) > MAX_TEXT:
        problems.append(f"Der Verwendungszweck „{text}“ hat {len(text.rstrip())} Zeichen; "
                        f"erlaubt sind höchstens {MAX_TEXT}.")
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount != amount.quantize(
            CENT):
        problems.append(f"Der Betrag {amount!r} ist kein Betrag in ganzen Cent.")
    elif not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        problems.append(f"Der Betrag {amount} EUR liegt nicht zwischen 0,01 und "
                        f"999.999.999,99 EUR.")
    return problems


def epc_qr(name: str, iban: str, bic: str | None, amount: Decimal, text: str):
    """The GiroCode (a ``segno.QRCode``) for a transfer of ``amount`` EUR to ``iban``.

    ``text`` is the Verwendungszweck (unstructured remittance information). Raises
    :class:`GiroCodeError` naming every broken limit.
    """
    import segno.helpers

    problems = epc_problems(name, iban, bic, amount, text)
    if problems:
        raise GiroCodeError("GiroCode nicht möglich: " + " ".join(problems))
    return segno.helpers.make_epc_qr(name=name.strip(), iban=iban.replace(" ", "").upper(),
                                     amount=amount, text=text.rstrip(),
                                     bic=bic.strip().upper() if bic else None)


def qr_png(qr, scale: int = QR_SCALE) -> bytes:
    """The QR code as PNG bytes (with the 4-module quiet zone scanners need)."""
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def epc_png(name: str, iban: str, bic: str | None, amount: Decimal, text: str,
            scale: int = QR_SCALE) -> bytes:
    """:func:`epc_qr` as PNG bytes, ready for ``xlsxwriter``'s ``insert_image(image_data=…)``."""
    return qr_png(epc_qr(name, iban, bic, amount, text), scale)

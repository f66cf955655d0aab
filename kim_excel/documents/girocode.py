"""GiroCode: the EPC QR code (EPC069-12, version 002) that banking apps scan to fill a transfer.

SPEC § 5: every letter with an amount to pay carries one — the employer's name, IBAN, BIC if
known, the amount and the letter's Verwendungszweck. A refund or a zero balance gets none
(:func:`needs_girocode`); the caller decides, this module refuses amounts below one cent.

:func:`epc_payload` writes the EPC069-12 payload (eleven lines; its whole format is below) and
segno (BSD) draws the QR symbol: error correction level M, never boosted (EPC069-12 § 3.3),
and a FIXED mask. segno's ``helpers.make_epc_qr`` would build the same payload but then try
all eight masks in pure Python (about 85 % of its 15–33 ms per code); any of the eight masks
is valid QR (ISO/IEC 18004 § 7.8: the penalty score only picks the nicest-looking one, every
decoder reads the mask from the format information), so one fixed mask costs a quarter of the
time and scans as well (the tests read every code back with zbarimg). Owning the payload keeps
segno's private ``_make_epc_qr_data`` out of the code. The limits below are checked first so
that a violation reads as a German message.
"""

from __future__ import annotations

from decimal import Decimal

from kim_excel.core.money import CENT

MAX_NAME = 70  # AT-21 name of the beneficiary
MAX_TEXT = 140  # AT-05 unstructured remittance information
MIN_AMOUNT = Decimal("0.01")  # AT-04
MAX_AMOUNT = Decimal("999999999.99")
QR_SCALE = 4  # pixels per module: 4 × (version ≤ 13: ≤ 69 modules + 8 border) ≤ 308 px
QR_MASK = 3  # any of 0–7 is valid; 3 was the fastest of segno's mask functions measured
MAX_PAYLOAD = 331  # bytes: what a version-13 symbol at level M holds (EPC069-12 § 3.3)


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
    import segno

    problems = epc_problems(name, iban, bic, amount, text)
    if problems:
        raise GiroCodeError("GiroCode nicht möglich: " + " ".join(problems))
    payload = epc_payload(name, iban, bic, amount, text)
    return segno.make_qr(payload, error="m", boost_error=False, mask=QR_MASK)


def epc_payload(name: str, iban: str, bic: str | None, amount: Decimal, text: str) -> bytes:
    """The EPC069-12 (version 002) payload, checked by :func:`epc_problems` beforehand.

    Lines, separated by LF: service tag ``BCD``; version ``002``; character set (``2``
    ISO 8859-1 when every character fits, which holds German umlauts and ß, else ``1``
    UTF-8); identification ``SCT``; BIC (may be empty in the EEA); beneficiary name; IBAN;
    ``EUR`` and the amount with a decimal point; purpose code (empty); structured reference
    (empty); unstructured remittance text.

    >>> epc_payload("Stadt Olfen", "DE26 4015", None, Decimal("12.30"), "R 1").splitlines()
    [b'BCD', b'002', b'2', b'SCT', b'', b'Stadt Olfen', b'DE264015', b'EUR12.30', b'', b'', b'R 1']
    """
    lines = ["BCD", "002", "", "SCT", bic.strip().upper() if bic else "", name.strip(),
             iban.replace(" ", "").upper(), f"EUR{amount:.2f}", "", "", text.rstrip()]
    for charset, encoding in (("2", "iso-8859-1"), ("1", "utf-8")):
        lines[2] = charset
        try:
            payload = "\n".join(lines).encode(encoding)
        except UnicodeEncodeError:
            continue
        if len(payload) > MAX_PAYLOAD:
            raise GiroCodeError(f"GiroCode nicht möglich: {len(payload)} Byte Daten; ein "
                                f"GiroCode fasst höchstens {MAX_PAYLOAD}.")
        return payload
    raise AssertionError("UTF-8 encodes every text")


def qr_png(qr, scale: int = QR_SCALE, border: int = 4) -> bytes:
    """The QR code as a black-and-white PNG (with the 4-module quiet zone scanners need).

    Written here from segno's module matrix instead of segno's own PNG writer, which walks
    every pixel in Python (about 15 ms per code on the 31-region scenario, as much as the
    code itself); these lines take well under a millisecond. A PNG is a signature and three
    chunks: the header, the image rows (1 bit per pixel, 1 = white, each row after a filter
    byte 0) deflated, the end.
    """
    import struct
    import zlib

    width = (len(qr.matrix) + 2 * border) * scale
    padding = -width % 8  # a row fills whole bytes

    def row(bits: str) -> bytes:
        return b"\x00" + int(bits + "0" * padding, 2).to_bytes((width + padding) // 8, "big")

    white = row("1" * width)
    quiet = "1" * (border * scale)
    rows = [white] * (border * scale)
    for line in qr.matrix:
        bits = "".join("0" * scale if dark else "1" * scale for dark in line)
        rows += [row(quiet + bits + quiet)] * scale
    rows += [white] * (border * scale)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1-bit grey, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def epc_png(name: str, iban: str, bic: str | None, amount: Decimal, text: str,
            scale: int = QR_SCALE) -> bytes:
    """:func:`epc_qr` as PNG bytes, ready for ``xlsxwriter``'s ``insert_image(image_data=…)``."""
    return qr_png(epc_qr(name, iban, bic, amount, text), scale)

"""Check digits people type: IBANs and Leitweg-IDs (ISO 7064 MOD 97-10, letters A=10 … Z=35).

One home for the check that both carry. An IBAN is checked here by its structure, its country's
length (the SEPA countries of the ISO 13616 registry) and its check digits, without loading a
bank registry: every run has IBANs, but only a missing BIC or Kreditinstitut needs the bank's
name (``input/merging.bank_from_iban`` asks schwifty then). The lengths are tested against
schwifty's registry (tests/test_checkdigits.py).
"""

from __future__ import annotations

import re

# ISO 13616 lengths of the SEPA countries (whole IBAN, with country code and check digits).
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "VA": 22,
}
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def mod97_ok(text: str) -> bool:
    """ISO 7064 MOD 97-10 over digits and letters (A=10 … Z=35), as IBANs and Leitweg-IDs
    use it: the number modulo 97 must be 1.

    >>> mod97_ok("DE26401545300000123456"[4:] + "DE26"), mod97_ok("055580160001" + "35")
    (True, True)
    """
    return int("".join(str(int(c, 36)) for c in text)) % 97 == 1


def iban_problem(iban: str) -> str | None:
    """Why ``iban`` (compact, upper case) is no IBAN: ``structure``, ``country``, ``length``
    or ``checksum``; None when it is one.

    >>> iban_problem("DE26401545300000123456"), iban_problem("DE26401545300000123457")
    (None, 'checksum')
    """
    if not _IBAN.fullmatch(iban):
        return "structure"
    if iban[:2] not in IBAN_LENGTHS:
        return "country"
    if len(iban) != IBAN_LENGTHS[iban[:2]]:
        return "length"
    valid = 2 <= int(iban[2:4]) <= 98 and mod97_ok(iban[4:] + iban[:4])  # 00, 01, 99 never
    return None if valid else "checksum"

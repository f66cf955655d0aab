"""Check digits (kim_excel/core/checkdigits.py): IBANs checked without a bank registry agree
with schwifty (the registry the bank lookup uses), Leitweg-IDs with their MOD 97-10."""

from __future__ import annotations

import random

import pytest
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_iban_spec

from kim_excel.core.checkdigits import IBAN_LENGTHS, iban_problem, mod97_ok


@pytest.mark.parametrize("country", sorted(IBAN_LENGTHS))
def test_the_lengths_are_schwiftys(country):
    assert IBAN_LENGTHS[country] == get_iban_spec(country).iban_length


def with_check_digits(country: str, bban: str) -> str:
    for check in range(2, 99):
        candidate = f"{country}{check:02d}{bban}"
        if mod97_ok(candidate[4:] + candidate[:4]):
            return candidate
    raise AssertionError("no check digits")


def test_valid_and_mistyped_ibans_are_told_apart_as_schwifty_does():
    rng = random.Random(7)
    seen = {None: 0, "checksum": 0}
    for _ in range(400):
        iban = with_check_digits("DE", "".join(rng.choice("0123456789") for _ in range(18)))
        if rng.random() < 0.5:  # one digit mistyped
            at = rng.randrange(4, len(iban))
            iban = iban[:at] + str((int(iban[at]) + rng.randrange(1, 10)) % 10) + iban[at + 1:]
        ours = iban_problem(iban)
        try:
            IBAN(iban, validate_bban=False)
            theirs = None
        except SchwiftyException:
            theirs = "checksum"
        assert ours == theirs, iban
        seen[ours] += 1
    assert seen[None] > 100 and seen["checksum"] > 100


@pytest.mark.parametrize("text, problem", [
    ("DE26401545300000123456", None), ("DE26 4015", "structure"),
    ("de26401545300000123456", "structure"), ("XX26401545300000123456", "country"),
    ("DE2640154530000012345", "length"), ("DE27401545300000123456", "checksum"),
    ("DE01180588871803340187", "checksum"),  # MOD 97 holds, but 01 is no check number
])
def test_each_kind_of_wrong_iban(text, problem):
    assert iban_problem(text) == problem


def test_a_leitweg_id_uses_the_same_check():
    assert mod97_ok("05558016000135") and not mod97_ok("05558016000147")

"""The Kreis Coesfeld agreement the blank form carries: 11 parties in 3 regions."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from kim_excel.core.agreement import (
    COESFELD_PARTIES,
    GEMEINDESCHLUESSEL,
    VAT_NOTE_2B,
    VAT_NOTE_OLD_RULE,
    default_vat_note,
)
from kim_excel.core.model import EMPLOYER, PARTNER, ROLES
from kim_excel.input.plausibility import says_no_vat

# The VZÄ of each region (agreement § 2): Nord 2,5, Mitte 1,0, Süd 2,5.
REGION_VZAE = {"Nord": Decimal("2.5"), "Mitte": Decimal("1.0"), "Süd": Decimal("2.5")}


def by_region() -> dict[str, list[tuple]]:
    regions: dict[str, list[tuple]] = defaultdict(list)
    for row in COESFELD_PARTIES:
        regions[row[2]].append(row)
    return dict(regions)


def test_eleven_parties_in_three_regions():
    assert len(COESFELD_PARTIES) == 11
    assert len({row[0] for row in COESFELD_PARTIES}) == 11
    assert {region: len(rows) for region, rows in by_region().items()} == {
        "Nord": 4, "Mitte": 2, "Süd": 5}


def test_each_region_has_exactly_one_employer():
    employers = {region: [r[0] for r in rows if r[3] == EMPLOYER]
                 for region, rows in by_region().items()}
    assert employers == {"Nord": ["Coesfeld"], "Mitte": ["Dülmen"], "Süd": ["Ascheberg"]}
    assert all(row[3] in ROLES for row in COESFELD_PARTIES)
    assert sum(row[3] == PARTNER for row in COESFELD_PARTIES) == 8


def test_the_stundenanteile_add_up_to_each_regions_vzae():
    totals = {region: sum((r[4] for r in rows), Decimal(0))
              for region, rows in by_region().items()}
    assert totals == REGION_VZAE
    assert all(isinstance(row[4], Decimal) for row in COESFELD_PARTIES)


def test_nordkirchen_has_the_corrected_postcode_59394():
    """The agreement's header says 49394, a typo: Nordkirchen is 59394."""
    nordkirchen = next(row for row in COESFELD_PARTIES if row[0] == "Nordkirchen")
    assert nordkirchen[6:] == ("59394", "Nordkirchen")


def test_every_address_is_complete_with_a_five_digit_postcode():
    for name, bezeichnung, _, _, _, street, postcode, city in COESFELD_PARTIES:
        assert bezeichnung in ("Stadt", "Gemeinde"), name
        assert street and city, name
        assert re.fullmatch(r"4[0-9]{4}|5[0-9]{4}", postcode), (name, postcode)


def test_every_party_has_a_gemeindeschluessel_of_kreis_coesfeld():
    """8 digits: Land 05, Regierungsbezirk 5, Kreis 58, then the municipality."""
    assert set(GEMEINDESCHLUESSEL) == {row[0] for row in COESFELD_PARTIES}
    for name, key in GEMEINDESCHLUESSEL.items():
        assert re.fullmatch(r"05558\d{3}", key), (name, key)
    assert len(set(GEMEINDESCHLUESSEL.values())) == 11
    assert GEMEINDESCHLUESSEL["Coesfeld"] == "05558012"


def test_the_gemeindeschluessel_follow_the_alphabet_in_steps_of_four():
    ordered = sorted(GEMEINDESCHLUESSEL.items(), key=lambda item: item[1])
    assert [name for name, _ in ordered] == sorted(GEMEINDESCHLUESSEL)
    assert [int(key[5:]) for _, key in ordered] == list(range(4, 48, 4))


def test_the_default_vat_note_fits_the_year_old_rule_up_to_2026_and_2b_from_2027():
    """SPEC R8: § 2 Abs. 3 UStG a. F. (with § 27 Abs. 22a UStG) holds for services performed
    up to 31 Dec 2026, § 2b UStG from 2027; either way the settlement is not taxable."""
    for year in (2022, 2024, 2026):
        note = default_vat_note(year)
        assert note == VAT_NOTE_OLD_RULE
        assert "§ 2 Abs. 3 UStG a. F." in note and "§ 27 Abs. 22a UStG" in note
        assert "§ 2b" not in note
    for year in (2027, 2030):
        note = default_vat_note(year)
        assert note == VAT_NOTE_2B
        assert "§ 2b UStG" in note and "a. F." not in note
    for note in (VAT_NOTE_OLD_RULE, VAT_NOTE_2B):
        assert note.startswith("Nicht steuerbar")
        assert "Umsatzsteuer wird nicht berechnet" in note


def test_both_default_notes_are_recognised_as_saying_no_vat():
    """So that a rate above 0 % beside a typed-in default note is warned about."""
    assert says_no_vat(VAT_NOTE_OLD_RULE) and says_no_vat(VAT_NOTE_2B)

"""cells.py: typed cell readers, each naming the cell in its message."""

from __future__ import annotations

import pytest

from kim_excel.core.model import CellRef
from kim_excel.input.cells import Collector, gemeindeschluessel_value, leitweg_value

WHERE = CellRef("a.xlsx", "Vertragsparteien", "Q3")


def read(reader, value):
    out = Collector()
    return reader(value, WHERE, out), [str(p) for p in out.problems]


@pytest.mark.parametrize("text", ["05558016-0001-35", " 05558016-0001-35 ", "991-33333test-33"])
def test_a_right_leitweg_id(text):
    value, problems = read(leitweg_value, text)
    assert value == text.strip().upper() and problems == []


def test_wrong_check_digits_of_a_leitweg_id():
    value, problems = read(leitweg_value, "05558016-0001-47")
    assert value is None
    assert problems == ["a.xlsx: Vertragsparteien!Q3: „05558016-0001-47“ ist keine gültige "
                        "Leitweg-ID (die Prüfziffer stimmt nicht, vermutlich ein Tippfehler); "
                        "bitte mit der Leitweg-ID vergleichen, die die Kommune mitgeteilt hat."]


@pytest.mark.parametrize("text", ["05558016", "05558016-0001", "0555801600135",
                                  "05558016-00_1-35",
                                  "1-0001-35"])
def test_wrong_format_of_a_leitweg_id(text):
    value, problems = read(leitweg_value, text)
    assert value is None
    assert problems == [f"a.xlsx: Vertragsparteien!Q3: „{text}“ ist keine gültige Leitweg-ID; "
                        f"erwartet: Ziffern, Bindestriche und zwei Prüfziffern am Ende, "
                        f"z. B. 05558016-0001-35."]


def test_gemeindeschluessel_has_8_digits_even_from_a_number_cell():
    assert read(gemeindeschluessel_value, "05558012") == ("05558012", [])
    assert read(gemeindeschluessel_value, 5558012.0) == ("05558012", [])
    value, problems = read(gemeindeschluessel_value, "0555801")
    assert value is None
    assert problems == ["a.xlsx: Vertragsparteien!Q3: „0555801“ ist kein gültiger "
                        "Gemeindeschlüssel; erwartet: 8 Ziffern (amtlicher Gemeindeschlüssel, "
                        "z. B. 05558012)."]

"""How far a sheet reaches, checked before any reader allocates its grid (.xlsx and .ods).

One value in XFD1048576 made calamine allocate 17 billion cells and abort the whole process;
these checks look at the raw XML first. Also the cell names every message uses (``B5``).
"""

from __future__ import annotations

import re

from kim_excel.core.model import CellRef, Problem


def column_letter(col: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """Zero-based row and column → ``B5``."""
    return f"{column_letter(col)}{row + 1}"


class UnreadableWorkbook(Exception):
    """One input file cannot be read as a workbook at all."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


MAX_CELLS = 2_000_000  # of the grid from A1 to a sheet's last value; the form has a few hundred


_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,4})([0-9]{1,12})\"[^>]*?(?<!/)>")


_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")


def column_index(letters: bytes) -> int:
    """b"A" → 0, b"AA" → 26."""
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


def check_extent(data: bytes, file: str, sheet: str) -> None:
    """Refuse a sheet whose values reach far away before any reader allocates its grid.

    One value in XFD1048576 made calamine allocate 17 billion cells and abort the whole
    process (SIGABRT, not an exception); one in A1000000 cost 6 s and 400 MB.
    """
    last_row = last_col = 0
    lowest = rightmost = "A1"  # the values furthest down and furthest right
    for letters, digits in _CELL.findall(data):
        row, col = int(digits), column_index(letters) + 1
        if row > last_row:
            last_row, lowest = row, f"{letters.decode()}{row}"
        if col > last_col:
            last_col, rightmost = col, f"{letters.decode()}{row}"
    if last_row * last_col > MAX_CELLS or len(_ANY_CELL.findall(data)) > MAX_CELLS:
        far = lowest if last_row * 16 >= last_col * 1024 else rightmost  # relative to A1:P1024
        raise_too_far(file, sheet, last_row, last_col, far)


def raise_too_far(file: str, sheet: str, last_row: int, last_col: int, far: str) -> None:
    """The one message for a sheet that reaches too far (.xlsx and .ods)."""
    raise UnreadableWorkbook(Problem(
            f"ein Wert weit außerhalb der Tabelle: das Blatt reicht damit bis "
            f"{column_letter(last_col - 1)}{last_row}, so groß ist kein Abrechnungsformular "
            f"(höchstens {MAX_CELLS:_} Zellen). Bitte den Inhalt löschen (Strg+Ende springt "
            f"zur letzten benutzten Zelle) und speichern.".replace("_", "."),
            CellRef(file, sheet, far)))

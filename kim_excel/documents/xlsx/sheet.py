"""The sheet toolkit: references, typed writes, row heights and page setup for every writer.

Cell references come from ``xlsxwriter.utility`` (the library's own, STYLE.md § 11); the
``Sheet`` wrapper writes text always as text (a name beginning with ``=`` stays text), numbers
as numbers with a format from ``styles.py``, and every formula together with its value.
"""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

from kim_excel.documents.xlsx.styles import ROW_HEIGHT, Styles

# Footers: the sheet's name, and ``&P``/``&N`` the page and the page count of the printout
# or the PDF (a letter's PDF: „Seite 1 von 2“ the letter, „Seite 2 von 2“ the trail). No
# file name: on paper and in a PDF it names a file the reader does not have.
FOOTER = "&L&8&A&R&8Seite &P von &N"
LETTER_FOOTER = FOOTER
A4 = 9  # xlsxwriter's paper code


def col_name(col: int) -> str:
    return xl_col_to_name(col)


def a1(row: int, col: int, sheet: str | None = None) -> str:
    """An absolute reference, ``$G$12`` or ``Berechnung!$G$12``."""
    ref = xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
    return ref if sheet is None else f"{quote_sheetname(sheet)}!{ref}"


def relative(row: int, col: int) -> str:
    """A relative reference, ``G12``."""
    return xl_rowcol_to_cell(row, col)


def span(first_row: int, last_row: int, col: int, sheet: str | None = None) -> str:
    """``$E$5:$E$9`` (a column range), optionally on another sheet."""
    return f"{a1(first_row, col, sheet)}:{a1(last_row, col)}"


def cell_value(amount: Decimal | Fraction | int) -> float:
    """The float written as a cell's value (a Fraction correctly rounded); ``+ 0.0`` turns
    ``-0.0`` into ``0.0``."""
    return float(amount) + 0.0


def as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


@lru_cache(maxsize=8192)  # the same labels recur in every letter
def lines_needed(text: str, width: float, size: float = 10, bold: bool = False) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide.

    Measured on the rendered letter: one width unit (a digit of Arial 10) holds about 1.25
    average characters of German text in DejaVu Sans, LibreOffice's stand-in for Arial and
    wider than Arial itself; 1.15 leaves a margin, bold text counts 10 % wider.
    """
    per_line = max(8, int(width * 1.15 * 10 / size * (0.9 if bold else 1.0)))
    lines = 0
    for paragraph in text.split("\n"):
        lines += max(1, len(textwrap.wrap(paragraph, per_line)))
    return lines


def setup_page(ws, *, landscape: bool = False, fit: tuple[int, int] = (1, 0),
               margins: tuple[float, float, float, float] | None = None,
               footer: str = FOOTER, header: str | None = None,
               widths: tuple[float, ...] = (), protect: bool = True) -> None:
    """Every printed sheet: A4, no gridlines, ``fit`` = (pages wide, pages tall; 0 = any),
    ``margins`` = (left, right, top, bottom) in inches, the footer, column widths."""
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    ws.hide_gridlines(2)
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(*fit)
    if margins is not None:
        left, right, top, bottom = margins
        ws.set_margins(left=left, right=right, top=top, bottom=bottom)
    if header is not None:
        ws.set_header(header)
    ws.set_footer(footer)
    if protect:
        ws.protect()


class Sheet:
    """A worksheet with its name and the workbook's styles; every write goes through here."""

    def __init__(self, worksheet, styles: Styles, name: str,
                 row_height: float = ROW_HEIGHT) -> None:
        self.ws = worksheet
        self.styles = styles
        self.name = name
        self.row_height = row_height  # the sheet's default row height, points
        self.heights: dict[int, float] = {}
        self.page_breaks: list[int] = []
        if row_height != ROW_HEIGHT:
            worksheet.set_default_row(row_height)

    def ref(self, row: int, col: int) -> str:
        return a1(row, col, self.name)

    def text(self, row: int, col: int, value: str, style: str = "text") -> None:
        self.ws.write_string(row, col, str(value), self.styles[style])

    def blank(self, row: int, col: int, style: str) -> None:
        self.ws.write_blank(row, col, None, self.styles[style])

    def number(self, row: int, col: int, value: Decimal | Fraction | int, style: str) -> None:
        self.ws.write_number(row, col, cell_value(value), self.styles[style])

    def formula(self, row: int, col: int, formula: str, value: Decimal | Fraction,
                style: str) -> None:
        self.ws.write_formula(row, col, formula, self.styles[style], cell_value(value))

    def date(self, row: int, col: int, day: date, style: str) -> None:
        self.ws.write_datetime(row, col, as_datetime(day), self.styles[style])

    def merged(self, row: int, first: int, last: int, value: str, style: str) -> None:
        """Text across columns ``first..last`` (always written as text, never a formula)."""
        if first == last:
            self.text(row, first, value, style)
            return
        self.ws.merge_range(row, first, row, last, "", self.styles[style])
        self.text(row, first, value, style)

    def fit_row(self, row: int, lines: int, size: float = 10) -> None:
        """Make ``row`` tall enough for ``lines`` lines (never lower than it already is)."""
        height = max(ROW_HEIGHT * size / 10 * lines + (2 if lines > 1 else 0), self.row_height)
        if height > self.heights.get(row, self.row_height):
            self.heights[row] = height
            self.ws.set_row(row, height)

    def line(self, row: int, first: int, last: int, style: str) -> None:
        """A row of blank cells carrying a style (a rule under a section title)."""
        for col in range(first, last + 1):
            self.blank(row, col, style)

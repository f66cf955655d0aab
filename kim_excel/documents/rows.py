"""Row heights for wrapped text, so that printed lines never overlap.

Excel stores no height for a row unless told, and a printer (LibreOffice, Excel's PDF
export) then draws wrapped lines over the next row. The height is estimated from the text
and the column width (an Excel width counts characters of the digit 0; text averages a
little narrower, so the estimate errs towards one spare line rather than one too few).
"""

from __future__ import annotations

import math

LINE_POINTS = 15.0  # one line of 11 pt Calibri
CHARS_PER_WIDTH = 0.9  # characters of running text per unit of column width, conservatively


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` needs in a wrapping cell ``width`` characters wide.

    >>> wrapped_lines("kurz", 30), wrapped_lines("x" * 60, 30), wrapped_lines("a\\nb", 30)
    (1, 3, 2)
    """
    per_line = max(1, math.floor(width * CHARS_PER_WIDTH))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def row_height(*cells: tuple[str, float], line_points: float = LINE_POINTS) -> float:
    """The height in points for a row of wrapping cells given as ``(text, width)``."""
    return line_points * max((wrapped_lines(t, w) for t, w in cells), default=1)

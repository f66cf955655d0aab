"""OpenDocument spreadsheets (``.ods``, LibreOffice's own format): the check before reading.

python-calamine reads ``.ods`` directly, with the same grid from A1 as for ``.xlsx``, so the
messages name the same ``Blatt!Zelle``. The zip has been unpacked once, bounded, by
:func:`kim_excel.input.reading.check_container` (size cap, checksums, no DTD/entities); here the
sheets' extent is measured before calamine allocates its grid: ODF compresses a row or cell
repeated a million times into one attribute (``table:number-rows-repeated``), which a
reader expands.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from kim_excel.core.model import CellRef, Problem
from kim_excel.input.extent import MAX_CELLS, UnreadableWorkbook, cell_name, raise_too_far

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
SHEET = f"{{{TABLE}}}table"
ROW = f"{{{TABLE}}}table-row"
CELLS = (f"{{{TABLE}}}table-cell", f"{{{TABLE}}}covered-table-cell")
NAME = f"{{{TABLE}}}name"
ROWS_REPEATED = f"{{{TABLE}}}number-rows-repeated"
COLUMNS_REPEATED = f"{{{TABLE}}}number-columns-repeated"
VALUE_TYPE = f"{{{OFFICE}}}value-type"


@dataclass
class Extent:
    """How far the values of one sheet reach while ``content.xml`` streams past."""

    sheet: str | None = None  # None: a sheet nobody asked for, not measured
    row: int = 0
    col: int = 0
    repeat: int = 1
    last_row: int = 0
    last_col: int = 0
    cells: int = 0
    lowest: str = "A1"
    rightmost: str = "A1"

    def cell(self, across: int, has_value: bool, cell_name) -> None:
        if has_value and self.sheet is not None:
            self.cells += self.repeat * across
            if self.row + self.repeat > self.last_row:
                self.last_row = self.row + self.repeat
                self.lowest = cell_name(self.row + self.repeat - 1, self.col)
            if self.col + across > self.last_col:
                self.last_col = self.col + across
                self.rightmost = cell_name(self.row, self.col + across - 1)
        self.col += across

    def too_far(self, limit: int) -> bool:
        return self.sheet is not None and (self.last_row * self.last_col > limit
                                           or self.cells > limit)

    def farthest(self) -> str:
        return self.lowest if self.last_row * 16 >= self.last_col * 1024 else self.rightmost


def check_ods_extent(path: Path, sheet_names: list[str]) -> None:
    """Refuse a named sheet whose values reach too far (as ``reading.check_extent``).

    Only cells holding a value count: LibreOffice writes the empty rest of a sheet as one
    repeated empty row, which no reader expands.
    """
    from defusedxml import ElementTree  # guards against entity expansion (XML bombs)


    wanted = set(sheet_names)
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
            extent = Extent()
            for event, elem in ElementTree.iterparse(content, events=("start", "end")):
                if elem.tag == SHEET and event == "start":
                    extent = Extent(elem.get(NAME) if elem.get(NAME) in wanted else None)
                elif elem.tag == SHEET:
                    if extent.too_far(MAX_CELLS):
                        raise_too_far(path.name, extent.sheet, extent.last_row,
                                      extent.last_col, extent.farthest())
                    elem.clear()
                elif elem.tag == ROW and event == "start":
                    extent.repeat, extent.col = int(elem.get(ROWS_REPEATED, "1")), 0
                elif elem.tag == ROW:
                    extent.row += extent.repeat
                    elem.clear()
                elif elem.tag in CELLS and event == "start":
                    extent.cell(int(elem.get(COLUMNS_REPEATED, "1")),
                                elem.get(VALUE_TYPE) is not None, cell_name)
    except UnreadableWorkbook:
        raise
    except (ElementTree.ParseError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        # ValueError includes defusedxml's refusals and a non-numeric repeat count.
        raise UnreadableWorkbook(Problem(
            f"Die OpenDocument-Tabelle enthält fehlerhaftes XML und kann nicht gelesen werden "
            f"({type(exc).__name__}). Bitte in LibreOffice öffnen und erneut speichern.",
            CellRef(path.name, "Datei"))) from None

"""OpenDocument spreadsheets (``.ods``, LibreOffice's own format): the check before reading.

python-calamine reads ``.ods`` directly, with the same grid from A1 as for ``.xlsx``, so the
messages name the same ``Blatt!Zelle``. The zip has been unpacked once, bounded, by
:func:`kim_excel.reading.check_container` (size cap, checksums, no DTD/entities); here the
sheets' extent is measured before calamine allocates its grid: ODF compresses a row or cell
repeated a million times into one attribute (``table:number-rows-repeated``), which a
reader expands.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from kim_excel.model import CellRef, Problem

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
SHEET = f"{{{TABLE}}}table"
ROW = f"{{{TABLE}}}table-row"
CELLS = (f"{{{TABLE}}}table-cell", f"{{{TABLE}}}covered-table-cell")
NAME = f"{{{TABLE}}}name"
ROWS_REPEATED = f"{{{TABLE}}}number-rows-repeated"
COLUMNS_REPEATED = f"{{{TABLE}}}number-columns-repeated"
VALUE_TYPE = f"{{{OFFICE}}}value-type"


def check_ods_extent(path: Path, sheet_names: list[str]) -> None:
    """Refuse a named sheet whose values reach too far (as ``reading.check_extent``).

    Only cells holding a value count: LibreOffice writes the empty rest of a sheet as one
    repeated empty row, which no reader expands.
    """
    from defusedxml import ElementTree  # guards against entity expansion (XML bombs)

    from kim_excel.reading import MAX_CELLS, UnreadableWorkbook, cell_name, raise_too_far

    wanted = set(sheet_names)
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
            sheet = None
            row = col = last_row = last_col = cells = 0
            lowest = rightmost = "A1"
            repeat = 1
            for event, elem in ElementTree.iterparse(content, events=("start", "end")):
                if elem.tag == SHEET and event == "start":
                    sheet = elem.get(NAME)
                    row = last_row = last_col = cells = 0
                elif elem.tag == SHEET:
                    if sheet in wanted and (last_row * last_col > MAX_CELLS or cells > MAX_CELLS):
                        far = lowest if last_row * 16 >= last_col * 1024 else rightmost
                        raise_too_far(path.name, sheet, last_row, last_col, far)
                    sheet = None
                    elem.clear()
                elif elem.tag == ROW and event == "start":
                    repeat = int(elem.get(ROWS_REPEATED, "1"))
                    col = 0
                elif elem.tag == ROW:
                    row += repeat
                    elem.clear()
                elif elem.tag in CELLS and event == "start":
                    across = int(elem.get(COLUMNS_REPEATED, "1"))
                    if elem.get(VALUE_TYPE) is not None and sheet in wanted:
                        cells += repeat * across
                        if row + repeat > last_row:
                            last_row, lowest = row + repeat, cell_name(row + repeat - 1, col)
                        if col + across > last_col:
                            last_col, rightmost = col + across, cell_name(row, col + across - 1)
                    col += across
    except UnreadableWorkbook:
        raise
    except (ElementTree.ParseError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        # ValueError includes defusedxml's refusals and a non-numeric repeat count.
        raise UnreadableWorkbook(Problem(
            f"Die OpenDocument-Tabelle enthält fehlerhaftes XML und kann nicht gelesen werden "
            f"({type(exc).__name__}). Bitte in LibreOffice öffnen und erneut speichern.",
            CellRef(path.name, "Datei"))) from None

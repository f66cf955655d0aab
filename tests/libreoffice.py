"""LibreOffice as an independent calculator: recalculate workbooks, compare with their cache.

LibreOffice does not recalculate an xlsx on load unless its profile says so
(``OOXMLRecalcMode`` = 0, see ``../shared/NOTES.md``);
``kim_excel.documents.pdf.write_profile`` with ``recalculate=True`` writes such a profile.
Without it a "recalculation" would only read back the cached values and prove nothing —
:func:`tamper_cached_value` makes a workbook whose cache is wrong on purpose, so a test can
show that the comparison does catch it.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kim_excel.documents.pdf import convert


def recalculate(paths: list[Path], folder: Path) -> dict[Path, Path]:
    """Open every workbook in ONE LibreOffice call, recalculate all formulas, save as xlsx."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [p.name for p in paths]
    assert len(set(names)) == len(names), "file names must be unique for one --outdir"
    code, output = convert(paths, folder, "xlsx", recalculate=True, timeout=180)
    assert code == 0, output
    result = {p: folder / p.name for p in paths}
    missing = [str(p) for p in result.values() if not p.is_file()]
    assert not missing, f"LibreOffice wrote nothing for {missing}: {output}"
    return result


@dataclass(frozen=True)
class Mismatch:
    sheet: str
    cell: str
    formula: str
    cached: object
    recalculated: object

    def __str__(self) -> str:
        return (f"{self.sheet}!{self.cell} {self.formula}: cached {self.cached!r}, "
                f"LibreOffice {self.recalculated!r}")


def same_value(cached: object, recalculated: object) -> bool:
    """Equal to the cent, and to 1e-9 relative (fractions like 0,25 must match exactly too)."""
    if isinstance(cached, (int, float)) and isinstance(recalculated, (int, float)):
        return abs(cached - recalculated) < 0.005 and math.isclose(
            cached, recalculated, rel_tol=1e-9, abs_tol=1e-9)
    return cached == recalculated


def formula_mismatches(original: Path, recalculated: Path) -> tuple[int, list[Mismatch]]:
    """(number of formula cells, those whose cached value LibreOffice does not reproduce)."""
    import openpyxl

    formulas = openpyxl.load_workbook(original)
    cached = openpyxl.load_workbook(original, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
    count = 0
    mismatches = []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                count += 1
                before = cached[ws.title][cell.coordinate].value
                after = fresh[ws.title][cell.coordinate].value
                if before is None or not same_value(before, after):
                    mismatches.append(Mismatch(ws.title, cell.coordinate, str(cell.value),
                                               before, after))
    return count, mismatches


def tamper_cached_value(source: Path, target: Path, sheet_xml: str, cell: str,
                        wrong: str) -> None:
    """Copy ``source`` to ``target`` with the cached value of one formula cell replaced."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w",
                                                         zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == sheet_xml:
                text = data.decode("utf-8")
                pattern = re.compile(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>\s*<v>)([^<]*)(</v>)')
                text, replaced = pattern.subn(rf"\g<1>{wrong}\g<3>", text)
                assert replaced == 1, f"no formula cell {cell} in {sheet_xml}"
                data = text.encode("utf-8")
            zout.writestr(item, data)

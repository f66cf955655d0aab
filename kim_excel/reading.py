"""Step 1 of the pipeline: find the input workbooks and read their cells, with addresses.

Nothing here interprets a value; it only keeps each value together with the cell it came
from, so that validation can name ``Sheet!Cell`` in every message. Files that cannot be read
at all (old formats, encrypted, not a workbook, bombs) become a :class:`Problem` each.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kim_excel.errors import UnreadableInput
from kim_excel.model import CellRef, Problem

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
# A valid input form unpacks to well under 1 MB; anything near this is not a form.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A cell formula element, <f>, <f t="shared" …> or <x:f>; not <formula1> (drop-down lists),
# which every sheet of the form carries.
CELL_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


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


def normalise(text: object) -> str:
    """Header and key matching: case-insensitive, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


@dataclass
class Table:
    """One sheet: its header row and the data rows below it, with the cells' addresses."""

    file: str
    sheet: str  # the sheet's name as written in the file
    headers: dict[str, int]  # normalised header text → column index
    rows: list[tuple[int, list[object]]]  # (zero-based row index, values)
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    uncached: set[str] = field(default_factory=set)  # cells with a formula but no value

    def ref(self, row: int, header: str | None = None) -> CellRef:
        if header is None:
            return CellRef(self.file, self.sheet, str(row + 1))
        return CellRef(self.file, self.sheet, cell_name(row, self.headers[normalise(header)]))

    def header_ref(self) -> CellRef:
        return CellRef(self.file, self.sheet, "1")

    def value(self, values: list[object], header: str) -> object:
        col = self.headers.get(normalise(header))
        if col is None or col >= len(values):
            return ""
        return values[col]


@dataclass
class RawWorkbook:
    path: Path
    tables: dict[str, Table]  # normalised sheet name → table
    sheet_names: list[str]

    @property
    def name(self) -> str:
        return self.path.name

    def table(self, sheet: str) -> Table | None:
        return self.tables.get(normalise(sheet))


def find_workbooks(source: Path) -> list[Path]:
    """The input files: ``source`` itself, or the workbooks in the folder ``source``.

    Excel's lock files (``~$…``) and hidden files are ignored. Other files that look like
    spreadsheets (``.xls``, ``.ods``) are returned too, so that they get a precise message.
    """
    if not source.exists():
        raise UnreadableInput(f"Eingang „{source}“ gibt es nicht.")
    if source.is_file():
        return [source]
    candidates = sorted(
        p
        for p in source.iterdir()
        if p.is_file()
        and not p.name.startswith(("~$", "."))
        and p.suffix.lower() in (*WORKBOOK_SUFFIXES, ".xls", ".ods", ".xlsb", ".csv")
    )
    if not candidates:
        raise UnreadableInput(
            f"Im Eingangsordner „{source}“ liegt keine Arbeitsmappe (.xlsx). "
            f"Legen Sie die ausgefüllte Vorlage dort ab (kim-excel vorlage erzeugt sie)."
        )
    return candidates


def read_workbook(path: Path, sheets: tuple[str, ...]) -> RawWorkbook:
    """Read the named sheets of one workbook. Raises :class:`UnreadableWorkbook`."""
    check_container(path)
    from python_calamine import CalamineWorkbook  # ~1 ms; keeps `kim-excel --help` light

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises plain exceptions for broken files
        raise UnreadableWorkbook(
            Problem(f"Die Datei ist beschädigt und kann nicht gelesen werden ({exc}).",
                    CellRef(path.name, "Datei"))
        ) from None
    wanted = {normalise(s) for s in sheets}
    tables: dict[str, Table] = {}
    present = {normalise(n): n for n in book.sheet_names}
    uncached = find_uncached_formulas(path, [present[w] for w in wanted if w in present])
    for key, real_name in present.items():
        if key not in wanted:
            continue
        try:
            sheet = book.get_sheet_by_name(real_name)
            grid = sheet.to_python(skip_empty_area=False)
            merged = list(sheet.merged_cell_ranges or [])
        except Exception as exc:
            raise UnreadableWorkbook(
                Problem(f"Das Blatt kann nicht gelesen werden ({exc}).",
                        CellRef(path.name, real_name))
            ) from None
        tables[key] = to_table(path.name, real_name, grid, merged, uncached.get(real_name, set()))
    return RawWorkbook(path=path, tables=tables, sheet_names=list(book.sheet_names))


def to_table(file: str, sheet: str, grid: list[list[object]], merged, uncached) -> Table:
    headers: dict[str, int] = {}
    if grid:
        for col, text in enumerate(grid[0]):
            if isinstance(text, str) and text.strip():
                headers.setdefault(normalise(text), col)
    rows = [(index, values) for index, values in enumerate(grid) if index > 0]
    return Table(file, sheet, headers, rows, merged, uncached)


class UnreadableWorkbook(Exception):
    """One input file cannot be read as a workbook at all."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def check_container(path: Path) -> None:
    """Refuse what is not an .xlsx/.xlsm zip container, with a message saying what it is."""
    where = CellRef(path.name, "Datei")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise UnreadableWorkbook(Problem(
            "Das alte Excel-Format .xls wird nicht gelesen. Bitte in Excel öffnen und über "
            "„Speichern unter“ als „Excel-Arbeitsmappe (*.xlsx)“ speichern.", where))
    if suffix == ".ods":
        raise UnreadableWorkbook(Problem(
            "OpenDocument-Tabellen (.ods) werden nicht gelesen. Bitte in LibreOffice über "
            "„Speichern unter“ als „Excel 2007-365 (.xlsx)“ speichern.", where))
    if suffix in (".xlsb", ".csv"):
        raise UnreadableWorkbook(Problem(
            f"Dateien im Format {suffix} werden nicht gelesen. Bitte als Excel-Arbeitsmappe "
            f"(.xlsx) speichern.", where))
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise UnreadableWorkbook(Problem(f"Die Datei kann nicht geöffnet werden ({exc.strerror}).",
                                         where)) from None
    if head == OLE_MAGIC:
        raise UnreadableWorkbook(Problem(
            "Die Arbeitsmappe ist mit einem Kennwort geschützt (verschlüsselt) oder im alten "
            ".xls-Format gespeichert. Bitte den Kennwortschutz entfernen (Datei › Informationen "
            "› Arbeitsmappe schützen) und als .xlsx speichern.", where))
    if not zipfile.is_zipfile(path):
        raise UnreadableWorkbook(Problem(
            "Die Datei ist keine Excel-Arbeitsmappe (.xlsx), auch wenn ihr Name so endet.",
            where))
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableWorkbook(Problem("Die Arbeitsmappe ist beschädigt (kein gültiges "
                                         "ZIP-Archiv).", where)) from None
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise UnreadableWorkbook(Problem(
            "Die Datei ist keine Excel-Arbeitsmappe (ZIP-Archiv ohne Arbeitsmappe).", where))
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unpacked > MAX_UNPACKED_BYTES or (unpacked > 1024 * 1024
                                         and unpacked / packed > MAX_COMPRESSION_RATIO):
        raise UnreadableWorkbook(Problem(
            f"Die Arbeitsmappe entpackt sich auf {unpacked // (1024 * 1024)} MB; das ist kein "
            f"Abrechnungsformular (Schutz vor ZIP-Bomben). Bitte die Vorlage verwenden.", where))


def find_uncached_formulas(path: Path, sheet_names: list[str]) -> dict[str, set[str]]:
    """Cells of the named sheets that hold a formula without a stored result.

    Programs that do not calculate (openpyxl, some exporters) save formulas without values;
    every reader then sees an empty cell. We look at the sheet XML to tell the user why.
    """
    if not sheet_names:
        return {}
    from defusedxml import ElementTree  # guards against entity expansion (XML bombs)

    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    result: dict[str, set[str]] = {}
    with zipfile.ZipFile(path) as archive:
        try:
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        except (KeyError, ElementTree.ParseError):
            return {}
        targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", ns)}
        for sheet in workbook.iterfind("m:sheets/m:sheet", ns):
            name = sheet.get("name")
            if name not in sheet_names:
                continue
            target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "")
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            try:
                data = archive.read(member)
            except KeyError:
                continue
            if not CELL_FORMULA.search(data):  # cheap: most input sheets have none
                continue
            cells = set()
            for cell in _iter_cells(ElementTree.fromstring(data), ns):
                if cell.find("m:f", ns) is not None and cell.find("m:v", ns) is None:
                    cells.add(cell.get("r", ""))
            if cells:
                result[name] = cells
    return result


def _iter_cells(root, ns) -> Iterator:
    yield from root.iterfind("m:sheetData/m:row/m:c", ns)

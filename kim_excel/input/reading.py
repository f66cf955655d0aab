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

from kim_excel.core.errors import UnreadableInput
from kim_excel.core.files import os_reason
from kim_excel.core.model import CellRef, Problem
from kim_excel.core.names import normalise
from kim_excel.input.extent import (
    UnreadableWorkbook,
    cell_name,
    check_extent,
    column_letter,
)
from kim_excel.input.ods import check_ods_extent
from kim_excel.input.unzip import inflate

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
# A valid input form unpacks to well under 1 MB; anything near this is not a form.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A cell formula element, <f>, <f t="shared" …> or <x:f>; not <formula1> (drop-down lists),
# which every sheet of the form carries.
CELL_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


@dataclass
class Table:
    """One sheet: its header row and the data rows below it, with the cells' addresses."""

    file: str
    sheet: str  # the sheet's name as written in the file
    headers: dict[str, int]  # normalised header text → column index
    rows: list[tuple[int, list[object]]]  # (zero-based row index, values)
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    uncached: set[str] = field(default_factory=set)  # cells with a formula but no value
    header_texts: dict[str, str] = field(default_factory=dict)  # normalised → as written

    def ref(self, row: int, header: str | None = None) -> CellRef:
        if header is None:  # the whole row
            return CellRef(self.file, self.sheet, str(row + 1))
        return CellRef(self.file, self.sheet, cell_name(row, self.headers[normalise(header)]))

    def header_ref(self) -> CellRef:
        """The header row: ``A1:E1`` over the columns the sheet has (``A1`` if empty)."""
        last = max(self.headers.values(), default=0)
        return CellRef(self.file, self.sheet, f"A1:{column_letter(last)}1" if last else "A1")

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
    spreadsheets (``.xls``, ``.xlsb``) are returned too, so that they get a precise message.
    """
    if not source.exists():
        raise UnreadableInput(
            f"Eingang „{source}“ gibt es nicht. Bitte den Ordner anlegen und die ausgefüllte "
            f"Vorlage hineinlegen (kim-excel vorlage erzeugt sie), oder mit --eingang einen "
            f"anderen Ordner oder eine Datei angeben.")
    if source.is_file():
        return [source]
    try:
        candidates = sorted(
            p
            for p in source.iterdir()
            if p.is_file()
            and not p.name.startswith(("~$", "."))
            and p.suffix.lower() in (*WORKBOOK_SUFFIXES, ".xls", ".xlsb", ".csv")
        )
    except OSError as exc:

        raise UnreadableInput(f"Eingangsordner „{source}“ kann nicht gelesen werden "
                              f"({os_reason(exc)}).") from None
    if not candidates:
        raise UnreadableInput(
            f"Im Eingangsordner „{source}“ liegt keine Arbeitsmappe (.xlsx). "
            f"Legen Sie die ausgefüllte Vorlage dort ab (kim-excel vorlage erzeugt sie)."
        )
    return candidates


def lock_files(folder: Path, name: str) -> list[Path]:
    """Where Excel (``~$name``, or ``~$`` over the first two letters for long names) and
    LibreOffice (``.~lock.name#``) put their lock files while a workbook is open."""
    return [folder / f"~${name}", folder / f"~${name[2:]}", folder / f".~lock.{name}#"]


def open_elsewhere(path: Path) -> Path | None:
    """The lock file beside ``path`` while it is open in Excel or LibreOffice, else None."""
    return next((lock for lock in lock_files(path.parent, path.name) if lock.exists()), None)


def read_workbook(path: Path, sheets: tuple[str, ...]) -> RawWorkbook:
    """Read the named sheets of one workbook. Raises :class:`UnreadableWorkbook`."""
    check_container(path)
    from python_calamine import CalamineWorkbook  # ~1 ms; keeps `kim-excel --help` light

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises plain exceptions for broken files
        raise UnreadableWorkbook(
            Problem(f"Die Datei ist beschädigt und kann nicht gelesen werden (technische "
                    f"Ursache: {exc}). Bitte in Excel öffnen und erneut speichern.",
                    CellRef(path.name, "Datei"))
        ) from None
    wanted = {normalise(s) for s in sheets}
    tables: dict[str, Table] = {}
    present = {normalise(n): n for n in book.sheet_names}
    if path.suffix.lower() == ".ods":

        check_ods_extent(path, [present[w] for w in wanted if w in present])
        uncached: dict[str, set[str]] = {}  # LibreOffice always stores a formula's result
    else:
        uncached = scan_sheets(path, [present[w] for w in wanted if w in present])
    for key, real_name in present.items():
        if key not in wanted:
            continue
        try:
            sheet = book.get_sheet_by_name(real_name)
            grid = sheet.to_python(skip_empty_area=False)
            merged = list(sheet.merged_cell_ranges or [])
        except Exception as exc:
            detail = "" if str(exc).strip("'\"") == real_name else f" (technische Ursache: {exc})"
            raise UnreadableWorkbook(
                Problem(f"Das Blatt „{real_name}“ ist beschädigt und kann nicht gelesen werden"
                        f"{detail}. Bitte die Datei in Excel öffnen und erneut speichern.",
                        CellRef(path.name, real_name))
            ) from None
        tables[key] = to_table(path.name, real_name, grid, merged, uncached.get(real_name, set()))
    return RawWorkbook(path=path, tables=tables, sheet_names=list(book.sheet_names))


def to_table(file: str, sheet: str, grid: list[list[object]], merged, uncached) -> Table:
    headers: dict[str, int] = {}
    texts: dict[str, str] = {}
    if grid:
        for col, text in enumerate(grid[0]):
            if isinstance(text, str) and text.strip():
                headers.setdefault(normalise(text), col)
                texts.setdefault(normalise(text), text.strip())
    rows = [(index, values) for index, values in enumerate(grid) if index > 0]
    return Table(file, sheet, headers, rows, merged, uncached, texts)


def check_container(path: Path) -> None:
    """Refuse what is not an .xlsx/.xlsm zip container, with a message saying what it is.

    The zip is unpacked once here, in bounded chunks, before any parser sees it: the real
    unpacked size counts (a zip can lie about its sizes in its directory), every member's
    checksum is verified, and XML that declares a DTD or entities (billion laughs) is refused.
    """
    where = CellRef(path.name, "Datei")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise UnreadableWorkbook(Problem(XLS_MESSAGE, where))
    if suffix in (".xlsb", ".csv"):
        raise UnreadableWorkbook(Problem(
            f"Dateien im Format {suffix} werden nicht gelesen. Bitte als Excel-Arbeitsmappe "
            f"(.xlsx) speichern.", where))
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:

        raise UnreadableWorkbook(Problem(
            f"Die Datei kann nicht geöffnet werden ({os_reason(exc)}); ist sie noch in einem "
            f"anderen Programm geöffnet?", where)) from None
    if head == OLE_MAGIC:
        raise UnreadableWorkbook(Problem(describe_ole(path), where))
    if not zipfile.is_zipfile(path):
        named = "auch wenn ihr Name so endet" if suffix in WORKBOOK_SUFFIXES else \
            f"sondern eine Datei vom Typ „{suffix or 'ohne Endung'}“"
        raise UnreadableWorkbook(Problem(
            f"Die Datei ist keine Excel-Arbeitsmappe (.xlsx), {named}. Erwartet wird die "
            f"ausgefüllte Vorlage (kim-excel vorlage).", where))
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        raise UnreadableWorkbook(Problem(DAMAGED_ZIP_MESSAGE, where)) from None
    check_members(path, infos, where)  # first: the sizes below are honest only after it
    names = {i.filename for i in infos}
    if "mimetype" in names and "content.xml" in names:
        with zipfile.ZipFile(path) as archive:
            mimetype = archive.read("mimetype")[:200]
        if b"opendocument.spreadsheet" in mimetype and suffix == ".ods":
            return  # LibreOffice's own format: read directly (python-calamine)
        if b"opendocument.spreadsheet" in mimetype:
            raise UnreadableWorkbook(Problem(
                "Die Datei ist eine OpenDocument-Tabelle (.ods), auch wenn ihr Name auf "
                f"{path.suffix} endet. {ODS_ADVICE}", where))
    if suffix == ".ods":
        raise UnreadableWorkbook(Problem(
            "Die Datei ist keine OpenDocument-Tabelle, auch wenn ihr Name auf .ods endet. "
            "Erwartet wird die ausgefüllte Vorlage (kim-excel vorlage).", where))
    if "xl/workbook.xml" not in names:
        kind = "eine Excel-Binärarbeitsmappe (.xlsb)" if "xl/workbook.bin" in names else \
            "ein ZIP-Archiv ohne Excel-Arbeitsmappe"
        raise UnreadableWorkbook(Problem(
            f"Die Datei ist {kind}. Bitte als Excel-Arbeitsmappe (.xlsx) speichern.", where))


XLS_ADVICE = ("Bitte in Excel öffnen und über „Speichern unter“ als „Excel-Arbeitsmappe "
              "(*.xlsx)“ speichern.")
XLS_MESSAGE = f"Das alte Excel-Format .xls wird nicht gelesen. {XLS_ADVICE}"
ODS_ADVICE = ("Bitte in LibreOffice über „Speichern unter“ als „Excel 2007-365 (.xlsx)“ "
              "speichern.")
DAMAGED_ZIP_MESSAGE = (
    "Die Arbeitsmappe ist beschädigt (kein gültiges ZIP-Archiv, Prüfsumme falsch oder "
    "unvollständig gespeichert). Bitte die Datei in Excel öffnen und erneut speichern, oder "
    "die Vorlage neu ausfüllen.")
BOMB_MESSAGE = (
    "Die Arbeitsmappe entpackt sich auf mehr als {limit} MB; das ist kein "
    "Abrechnungsformular (Schutz vor ZIP-Bomben). Bitte die Vorlage verwenden.")
XML_BOMB_MESSAGE = (
    "Die Arbeitsmappe enthält XML mit eigenen Entitäten (DOCTYPE/ENTITY), die Excel nie "
    "schreibt; sie wird aus Sicherheitsgründen nicht gelesen (Schutz vor XML-Bomben). Bitte "
    "die Daten in die Vorlage übertragen.")


def describe_ole(path: Path) -> str:
    """An OLE compound file: a password-protected .xlsx, or a legacy .xls under a new name."""
    import olefile  # reads the OLE container; tests build encrypted files with msoffcrypto-tool

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir()}
    except Exception:  # noqa: BLE001 - any damage: we only want a good message
        streams = set()
    if {"EncryptionInfo", "EncryptedPackage"} & streams:
        return ("Die Arbeitsmappe ist mit einem Kennwort geschützt (verschlüsselt) und kann "
                "nicht gelesen werden. Bitte in Excel öffnen, unter Datei › Informationen › "
                "Arbeitsmappe schützen › Mit Kennwort verschlüsseln das Kennwort löschen und "
                "speichern. kim-excel fragt nie nach Kennwörtern.")
    if {"Workbook", "Book"} & streams:
        return ("Die Datei ist im alten Excel-Format .xls gespeichert, auch wenn ihr Name auf "
                f"{path.suffix} endet. {XLS_ADVICE}")
    return ("Die Datei ist eine ältere Office-Datei (OLE-Format), keine Excel-Arbeitsmappe "
            "(.xlsx): vielleicht .xls oder .doc, oder mit einem Kennwort verschlüsselt. Bitte "
            "in Excel öffnen und ohne Kennwort als „Excel-Arbeitsmappe (*.xlsx)“ speichern.")


def check_members(path: Path, infos: list[zipfile.ZipInfo], where: CellRef) -> None:
    """Unpack every member in bounded chunks; refuse bombs, DTDs and damaged data."""
    import zlib

    limit = MAX_UNPACKED_BYTES
    total = 0
    packed = 0
    try:
        with path.open("rb") as handle:
            for info in infos:
                if info.flag_bits & 0x1:
                    raise UnreadableWorkbook(Problem(
                        "Die Arbeitsmappe enthält verschlüsselte Teile und kann nicht gelesen "
                        "werden. Bitte ohne Kennwort als .xlsx speichern.", where))
                packed += info.compress_size
                is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
                crc = 0
                size = 0
                tail = b""
                for chunk in inflate(handle, info, limit - total):
                    total += len(chunk)
                    size += len(chunk)
                    if total > limit:
                        raise UnreadableWorkbook(Problem(
                            BOMB_MESSAGE.format(limit=limit // (1024 * 1024)), where))
                    crc = zlib.crc32(chunk, crc)
                    if is_xml:
                        window = tail + chunk
                        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                            raise UnreadableWorkbook(Problem(XML_BOMB_MESSAGE, where))
                        tail = window[-16:]
                if crc != info.CRC or size != info.file_size:
                    raise UnreadableWorkbook(Problem(DAMAGED_ZIP_MESSAGE, where))
    except UnreadableWorkbook:
        raise
    except Exception:  # noqa: BLE001 - zlib.error, struct.error, EOF …: all mean "damaged"
        raise UnreadableWorkbook(Problem(DAMAGED_ZIP_MESSAGE, where)) from None
    if total > 1024 * 1024 and total / max(1, packed) > MAX_COMPRESSION_RATIO:
        raise UnreadableWorkbook(Problem(
            BOMB_MESSAGE.format(limit=total // (1024 * 1024)).replace("mehr als ", ""), where))


def scan_sheets(path: Path, sheet_names: list[str]) -> dict[str, set[str]]:
    """Look at the XML of the named sheets before calamine reads them: refuse sheets that
    reach too far (:func:`check_extent`) and return the cells that hold a formula without a
    stored result.

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
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
                rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            except KeyError:
                return {}
            targets = {r.get("Id"): r.get("Target", "")
                       for r in rels.findall("rel:Relationship", ns)}
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
                check_extent(data, path.name, name)
                if not CELL_FORMULA.search(data):  # cheap: most input sheets have none
                    continue
                cells = {cell.get("r", "") for cell in _iter_cells(ElementTree.fromstring(data), ns)
                         if _formula_without_value(cell, ns)}
                if cells:
                    result[name] = cells
    except (ElementTree.ParseError, ValueError, zipfile.BadZipFile) as exc:
        # ValueError includes defusedxml's refusals (DTDs, entities); check_container has
        # refused those already, this is the second line of defence.
        raise UnreadableWorkbook(Problem(
            f"Die Arbeitsmappe enthält fehlerhaftes XML und kann nicht gelesen werden "
            f"({type(exc).__name__}). Bitte in Excel öffnen und erneut speichern.",
            CellRef(path.name, "Datei"))) from None
    return result


def _formula_without_value(cell, ns) -> bool:
    """A formula whose result was never stored: no ``<v>``, or an empty one (openpyxl writes
    ``<v/>``), except a formula whose stored result is the empty text (``t="str"``)."""
    if cell.find("m:f", ns) is None:
        return False
    value = cell.find("m:v", ns)
    if value is None:
        return True
    return not (value.text or "") and cell.get("t") not in ("str", "inlineStr")


def _iter_cells(root, ns) -> Iterator:
    yield from root.iterfind("m:sheetData/m:row/m:c", ns)

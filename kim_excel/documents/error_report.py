"""The error report: the clerk's own workbook, with every problem cell marked in red.

``kim-excel pruefen --fehlerbericht`` and ``kim-excel beobachten`` write, for each invalid
input workbook, ``<ausgabe>/Fehlerberichte/Fehler_<Datei>.xlsx``: a copy of that workbook
(the original is only read, never written) in which

- every problem cell is filled red and carries a comment with the message (what is wrong and
  what is allowed);
- a first sheet ``Fehler`` lists every problem (Datei, Blatt, Zelle, Meldung), each with a
  link that jumps to its cell.

How a problem's place (``CellRef.cell``) is marked: a cell (``B5``) is marked itself; a range
(``B2:C3``, merged cells) is filled as a whole, the comment sits on its first cell; a row
(``7``, e.g. a header row with a missing column) marks the row's first cell; a text
(``Zeile „Abrechnungsjahr“``, a row that does not exist) or no cell at all is listed on
``Fehler`` only, with a link to the sheet where it exists. A missing sheet is listed only.

Problems of a run over several workbooks go into the report of the file they name; problems
that name no file concern the whole run and appear in every report of it.

A file that cannot be opened as a workbook at all (not a workbook, encrypted, ``.xls``,
``.ods``, damaged) gets a report without a copy: a new workbook holding only ``Fehler``.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from kim_excel.core.errors import KimError, UnreadableInput
from kim_excel.core.files import ascii_name
from kim_excel.core.model import Problem
from kim_excel.core.names import normalise
from kim_excel.documents.rows import row_height
from kim_excel.input.reading import check_container, find_workbooks

REPORT_FOLDER = "Fehlerberichte"
SHEET = "Fehler"
FILE_LEVEL = "Datei"  # the sheet name reading.py gives problems of the whole file
AUTHOR = "kim-excel"
TITLE = "Fehlerbericht von kim-excel"
ERROR_RED = "FFFF5F5F"  # a clear red that keeps black text readable
HEADERS = ("Datei", "Blatt", "Zelle", "Meldung")
MAX_MARKED_CELLS = 10_000  # a range larger than this gets only its first cell marked

CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
RANGE = re.compile(r"^\$?[A-Za-z]{1,3}\$?\d{1,7}:\$?[A-Za-z]{1,3}\$?\d{1,7}$")
ROW = re.compile(r"^\d{1,7}$")


def report_path(folder: Path, workbook: Path) -> Path:
    """``Fehler_<Datei-Stamm>.xlsx`` in ASCII: ``Abrechnung Dülmen.xlsx`` →
    ``Fehler_Abrechnung_Duelmen.xlsx``."""
    return folder / f"Fehler_{ascii_name(workbook.stem)}.xlsx"


def problems_of(workbook: Path, problems: Iterable[Problem], run_files: Sequence[str]) -> list[
        Problem]:
    """The problems that belong in ``workbook``'s report: those naming it, and those naming
    no file of the run (they concern the whole run)."""
    return [p for p in problems
            if p.where is None or p.where.file == workbook.name or p.where.file not in run_files]


def write_error_reports(workbooks: Sequence[Path], problems: Sequence[Problem], folder: Path,
                        checked_at: datetime | None = None) -> list[Path]:
    """One report per workbook of the run that has a problem; returns the reports written."""
    names = [w.name for w in workbooks]
    written = []
    for workbook in workbooks:
        own = problems_of(workbook, problems, names)
        if not own:
            continue
        target = report_path(folder, workbook)
        write_error_report(workbook, own, target, checked_at)
        written.append(target)
    return written


def error_reports_for(eingang: Path, problems: Sequence[Problem], folder: Path) -> list[Path]:
    """``kim-excel pruefen --fehlerbericht``: the reports for the workbooks of ``eingang``."""

    try:
        workbooks = find_workbooks(eingang)
    except UnreadableInput:
        return []
    return write_error_reports(workbooks, problems, folder)


def clear_error_reports(eingang: Path, folder: Path) -> list[Path]:
    """``kim-excel pruefen --fehlerbericht`` on valid input: old reports of its workbooks go."""

    try:
        workbooks = find_workbooks(eingang)
    except UnreadableInput:
        return []
    return remove_stale_reports(workbooks, folder)


def remove_stale_reports(workbooks: Iterable[Path], folder: Path) -> list[Path]:
    """After a good run: delete reports of these workbooks, which would now mislead."""
    removed = []
    for workbook in workbooks:
        target = report_path(folder, workbook)
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            continue  # open in Excel: it stays, the next good run tries again
        removed.append(target)
    return removed


def write_error_report(workbook: Path, problems: list[Problem], target: Path,
                       checked_at: datetime | None = None) -> Path:
    """Write ``target``: a copy of ``workbook`` with the problems marked, plus ``Fehler``.

    The original file is only read. ``target`` appears atomically (temporary file, then
    renamed). Raises :class:`KimError` when the report cannot be written.
    """
    book, copied = open_copy(workbook)
    marked = {}
    if copied:
        remove_previous_report(book)
        marked = mark_problems(book, workbook.name, problems)
    add_error_sheet(book, workbook.name, problems, marked, copied,
                    checked_at or datetime.now().replace(microsecond=0))
    save_atomically(book, target)
    return target


# ------------------------------------------------------------------ the copy


def open_copy(workbook: Path):
    """The workbook opened for editing, or a new empty workbook when it cannot be opened.

    Returns ``(book, copied)``. The container check first refuses zip bombs, encrypted and
    old-format files before openpyxl sees them.
    """
    from openpyxl import Workbook, load_workbook


    try:
        check_container(workbook)  # raises UnreadableWorkbook
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "extension is not supported" and the like
            book = load_workbook(workbook, rich_text=True)
    except Exception:  # any failure to open: a report without a copy
        book = Workbook()
        book.active.title = SHEET
        return book, False
    return book, True


def remove_previous_report(book) -> None:
    """A clerk may correct the report itself and drop it in again: its old ``Fehler`` sheet
    and our old comments would now be wrong, so they go before the new ones are added."""
    if SHEET in book.sheetnames and book[SHEET]["A1"].value == TITLE:
        del book[SHEET]
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None


def find_sheet(book, name: str):
    if name in book.sheetnames:
        return book[name]
    wanted = normalise(name)
    for ws in book.worksheets:
        if normalise(ws.title) == wanted:
            return ws
    return None


def target_cells(ref: str) -> tuple[str, str] | None:
    """The range to fill and the cell that takes the comment, or None (list only).

    ``B5`` → (B5, B5); ``B2:C3`` → (B2:C3, B2); ``7`` → (A7, A7); ``Zeile „x“`` → None.
    """
    from openpyxl.utils.cell import range_boundaries

    ref = ref.strip()
    if CELL.match(ref):
        plain = ref.replace("$", "").upper()
        return plain, plain
    if RANGE.match(ref):
        plain = ref.replace("$", "").upper()
        min_col, min_row, max_col, max_row = range_boundaries(plain)
        first = plain.split(":")[0]
        if (max_col - min_col + 1) * (max_row - min_row + 1) > MAX_MARKED_CELLS:
            return first, first
        return plain, first
    if ROW.match(ref) and int(ref) >= 1:
        return f"A{int(ref)}", f"A{int(ref)}"
    return None


def mark_problems(book, file_name: str, problems: Iterable[Problem]) -> dict[int, str]:
    """Fill each problem's cells red and add the comments; several problems on one cell share
    one comment. Returns, per problem index, the link location of its marked cell(s)."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils.cell import range_boundaries

    fill = PatternFill(fill_type="solid", fgColor=ERROR_RED, bgColor=ERROR_RED)
    messages: dict[tuple[str, str], list[str]] = {}
    sheets = {}
    links: dict[int, str] = {}
    for index, problem in enumerate(problems):
        where = problem.where
        if where is None or where.file not in ("", file_name):
            continue
        ws = find_sheet(book, where.sheet)
        if ws is None:
            continue
        cells = target_cells(where.cell)
        if cells is None:
            links[index] = location(ws.title, "A1")
            continue
        area, first = cells
        try:
            min_col, min_row, max_col, max_row = range_boundaries(area)
            for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                                    max_col=max_col):
                for cell in row:
                    cell.fill = fill
        except ValueError:  # beyond Excel's grid
            links[index] = location(ws.title, "A1")
            continue
        anchor = comment_anchor(ws, first)
        messages.setdefault((ws.title, anchor), []).append(problem.message)
        sheets[ws.title] = ws
        links[index] = location(ws.title, area)
    for (title, anchor), texts in messages.items():
        cell = sheets[title][anchor]
        text = "\n\n".join(f"Fehler: {t}" for t in texts)
        if cell.comment is not None and cell.comment.text:
            text += f"\n\n(Bisheriger Kommentar: {cell.comment.text})"
        lines = sum(len(t) // 40 + 1 for t in text.split("\n"))
        cell.comment = Comment(text, AUTHOR, height=min(400, 20 + 15 * lines), width=300)
    return links


def comment_anchor(ws, coordinate: str) -> str:
    """A comment on a merged cell belongs on the first cell of its merged range."""
    for merged in ws.merged_cells.ranges:
        if coordinate in merged:
            return merged.start_cell.coordinate
    return coordinate


def location(sheet: str, area: str) -> str:
    """An internal link target: ``'Personal''s Kosten'!B5``."""
    return "'" + sheet.replace("'", "''") + "'!" + area


# ------------------------------------------------------------- the Fehler sheet


MESSAGE_WIDTH = 100  # column D of the Fehler sheet


def add_error_sheet(book, file_name: str, problems: Sequence[Problem], links: dict[int, str],
                    copied: bool, checked_at: datetime) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink


    if copied:
        title = SHEET if SHEET not in book.sheetnames else unique_title(book, SHEET)
        ws = book.create_sheet(title, 0)
    else:
        ws = book.active
    for other in book.worksheets:
        other.sheet_view.tabSelected = False
    book.active = 0
    ws.sheet_view.tabSelected = True

    count = "einen Fehler" if len(problems) == 1 else f"{len(problems)} Fehler"
    text(ws, 1, 1, TITLE).font = Font(name="Calibri", bold=True, size=14)
    what = "Die Arbeitsmappe" if copied else "Die Datei"
    text(ws, 2, 1, f"{what} „{file_name}“ enthält {count} (geprüft am "
                   f"{checked_at:%d.%m.%Y} um {checked_at:%H:%M} Uhr).")
    if copied:
        text(ws, 3, 1, "Dieser Bericht ist eine Kopie Ihrer Arbeitsmappe: die betroffenen "
                       "Zellen sind rot markiert, ihr Kommentar sagt, was falsch ist und was "
                       "erlaubt ist. Ein Klick auf die Zelle in Spalte „Zelle“ springt dorthin.")
    else:
        text(ws, 3, 1, "Die Datei konnte nicht als Excel-Arbeitsmappe geöffnet werden; dieser "
                       "Bericht enthält deshalb nur die Fehlerliste.")
    text(ws, 4, 1, "Bitte die Fehler in Ihrer Arbeitsmappe korrigieren und sie erneut in den "
                   "Eingangsordner legen. Die Originaldatei hat kim-excel nicht verändert.")
    header_row = 6
    header_fill = PatternFill(fill_type="solid", fgColor="FF1F4E79")
    for col, header in enumerate(HEADERS, start=1):
        cell = text(ws, header_row, col, header)
        cell.font = Font(name="Calibri", bold=True, color="FFFFFFFF")
        cell.fill = header_fill
    wrap = Alignment(wrap_text=True, vertical="top")
    for offset, problem in enumerate(problems):
        row = header_row + 1 + offset
        where = problem.where
        text(ws, row, 1, where.file if where else "")
        text(ws, row, 2, sheet_label(book, where))
        shown = cell_label(where.cell) if where else ""
        cell = text(ws, row, 3, shown)
        link = links.get(offset)
        if link:
            if not shown:
                cell.value = "zum Blatt"
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=link,
                                       tooltip="Zur Zelle springen")
            cell.font = Font(name="Calibri", color="FF0563C1", underline="single")
        text(ws, row, 4, problem.message).alignment = wrap
        ws.row_dimensions[row].height = row_height((problem.message, MESSAGE_WIDTH))
        for col in (1, 2, 3):
            ws.cell(row, col).alignment = Alignment(vertical="top")
    for letter, width in zip("ABCD", (30, 18, 24, MESSAGE_WIDTH), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    last = header_row + max(1, len(problems))
    ws.auto_filter.ref = f"A{header_row}:D{last}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.sheet_properties.tabColor = ERROR_RED


def sheet_label(book, where) -> str:
    """Problems of the file as a whole name the pseudo-sheet ``Datei`` (reading.py)."""
    if where is None:
        return ""
    if where.sheet == FILE_LEVEL and FILE_LEVEL not in book.sheetnames:
        return "(ganze Datei)"
    return where.sheet


def cell_label(cell: str) -> str:
    return f"Zeile {cell}" if ROW.match(cell.strip()) else cell


def text(ws, row: int, col: int, value: str):
    """A text cell that stays text, even when it begins with ``=`` (no formula injection)."""
    cell = ws.cell(row, col)
    cell.value = value
    cell.data_type = "s"
    return cell


def unique_title(book, base: str) -> str:
    number = 2
    while f"{base} ({number})" in book.sheetnames:
        number += 1
    return f"{base} ({number})"


def save_atomically(book, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        book.save(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KimError(
            f"Der Fehlerbericht „{target}“ kann nicht geschrieben werden ({exc.strerror or exc}); "
            f"ist er gerade in Excel geöffnet?"
        ) from None

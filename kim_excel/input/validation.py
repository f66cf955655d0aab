"""Step 2 of the pipeline: turn raw cells into a checked :class:`SettlementInput`.

    read each workbook (``reading.py``) → its sheets into typed rows (``sheets.py``, with the
    cell readers of ``cells.py``) → merge the workbooks (``merging.py``) → run every check
    across sheets (``checks.py``)

Every problem is collected as a :class:`Problem` (file, sheet, cell, German message) and all
of them — those of single cells and structural ones — are reported together; validation
never stops at the first.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kim_excel.core.errors import InputError
from kim_excel.core.model import Notice, SettlementInput
from kim_excel.core.names import with_party_names
from kim_excel.core.schema import ALL_SHEETS
from kim_excel.input.cells import Collector
from kim_excel.input.checks import validate
from kim_excel.input.extent import UnreadableWorkbook
from kim_excel.input.merging import Trail, canonical, merge, with_banks_from_iban, with_successors
from kim_excel.input.parse import WorkbookInput, parse_workbook
from kim_excel.input.plausibility import settings_warnings, terms_warnings
from kim_excel.input.reading import (
    find_workbooks,
    open_elsewhere,
    read_workbook,
)


def load_input(source: Path, today: date) -> tuple[SettlementInput, list[Notice]]:
    """Read and validate every workbook of ``source``; raise :class:`InputError` with all
    problems, or return the merged input and the warnings to show."""
    out = Collector()
    parsed: list[WorkbookInput] = []
    for path in find_workbooks(source):
        warn_if_open(path, out)
        try:
            raw = read_workbook(path, ALL_SHEETS)
        except UnreadableWorkbook as exc:
            out.problems.append(exc.problem)
            continue
        item = parse_workbook(raw, today, out)
        # "Gemeinde Nottuln" → "Nottuln": one spelling for every check that follows
        parsed.append(with_party_names(item, item.parties, out.error))
    trail = Trail()
    merged = merge(parsed, out, trail)
    if merged is None:
        raise InputError(out.problems)
    out.notices.extend(plausibility_of(parsed, today))
    merged = with_banks_from_iban(canonical(with_successors(merged, out.notices)))
    problems = out.problems + validate(merged, trail)
    if problems:
        raise InputError(problems)
    return merged, out.notices


def warn_if_open(path: Path, out: Collector) -> None:
    """A lock file beside the workbook: someone has it open, unsaved changes are missing."""
    lock = open_elsewhere(path)
    if lock is not None:
        program = "Excel" if lock.name.startswith("~$") else "LibreOffice"
        out.warn(None, f"{path.name} ist gerade in {program} geöffnet (Sperrdatei "
                       f"{lock.name}); nicht gespeicherte Änderungen sind in dieser "
                       f"Abrechnung nicht enthalten.")


def plausibility_of(parsed: list[WorkbookInput], today: date) -> list[Notice]:
    """The plausibility warnings (``plausibility.py``): the agreement-wide settings once,
    each workbook's own terms once."""
    first = next((p for p in parsed if p.settings is not None and p.settings_sound), None)
    if first is None:
        return []
    notices = settings_warnings(first.settings, today, first.setting_cells)
    for item in parsed:
        if item.terms is not None:
            notices += terms_warnings(first.settings.year, item.terms, item.setting_cells)
    return notices

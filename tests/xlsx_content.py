"""Compare workbooks by meaning (values, formulas, formats, validations), not by bytes."""

from __future__ import annotations

from pathlib import Path


def workbook_content(path: Path) -> dict:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    content = {}
    for ws in wb.worksheets:
        cells = {
            c.coordinate: (c.value, c.number_format, c.fill.fgColor.rgb if c.fill else None)
            for row in ws.iter_rows() for c in row if c.value is not None
        }
        validations = sorted((str(v.sqref), v.type, v.formula1)
                             for v in ws.data_validations.dataValidation)
        widths = {k: round(d.width, 1) for k, d in ws.column_dimensions.items() if d.width}
        content[ws.title] = {"cells": cells, "validations": validations,
                             "freeze": ws.freeze_panes, "widths": widths}
    return content


def key_cells(path: Path, all_cells: tuple[str, ...] = ()) -> dict:
    """A golden snapshot by meaning: per sheet its print setup and, for every number, date
    or formula cell, the cached value, the formula and the number format. Sheets named in
    ``all_cells`` (the letter) keep their texts too. Built for ``tests/golden/``."""
    from datetime import date, datetime

    from openpyxl import load_workbook

    def plain(value: object) -> object:
        if isinstance(value, datetime) and value == datetime(value.year, value.month,
                                                              value.day):
            value = value.date()
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        return value

    formulas = load_workbook(path)
    cached = load_workbook(path, data_only=True)
    snapshot = {}
    for ws in formulas.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                value = cached[ws.title][cell.coordinate].value
                is_formula = cell.data_type == "f"
                if cell.value is None or not (
                        is_formula or ws.title in all_cells
                        or isinstance(value, (int, float, date)) and not isinstance(value, bool)):
                    continue
                entry = {"value": plain(value)}
                if is_formula:
                    entry["formula"] = str(cell.value)
                if cell.number_format != "General":
                    entry["format"] = cell.number_format
                cells[cell.coordinate] = entry
        setup = {"footer": ws.oddFooter.left.text or "", "footer_right": ws.oddFooter.right.text
                 or "", "header": ws.oddHeader.center.text or "",
                 "paper": ws.page_setup.paperSize, "orientation": ws.page_setup.orientation,
                 # fit to pages wide × high; an absent attribute means 1 (OOXML default)
                 "fit": [1 if n is None else n for n in (ws.page_setup.fitToWidth,
                                                         ws.page_setup.fitToHeight)]
                 if ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage
                 else None, "charts": len(ws._charts)}
        snapshot[ws.title] = {"print": setup, "cells": cells}
    return snapshot


def dump_snapshot(snapshot: dict) -> str:
    """JSON with one line per cell, so that a changed cell is a one-line diff."""
    import json

    def one(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"]
    sheets = list(snapshot.items())
    for s, (name, sheet) in enumerate(sheets):
        lines += [f"  {one(name)}: {{", f'    "print": {one(sheet["print"])},', '    "cells": {']
        cells = list(sheet["cells"].items())
        lines += [f"      {one(coordinate)}: {one(entry)}" + ("," if c < len(cells) - 1 else "")
                  for c, (coordinate, entry) in enumerate(cells)]
        lines += ["    }", "  }" + ("," if s < len(sheets) - 1 else "")]
    return "\n".join([*lines, "}"]) + "\n"


def snapshot_differences(expected: dict, actual: dict) -> list[str]:
    """Readable differences: a sheet, a print setting or a cell at a time."""
    found = [f"sheet {name!r} missing" for name in expected if name not in actual]
    found += [f"sheet {name!r} new" for name in actual if name not in expected]
    for name in expected.keys() & actual.keys():
        old, new = expected[name], actual[name]
        if old["print"] != new["print"]:
            found.append(f"{name}: print {old['print']} -> {new['print']}")
        for cell in sorted(old["cells"].keys() | new["cells"].keys()):
            before, after = old["cells"].get(cell), new["cells"].get(cell)
            if before != after:
                found.append(f"{name}!{cell}: {before} -> {after}")
    return found

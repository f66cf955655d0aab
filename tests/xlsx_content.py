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

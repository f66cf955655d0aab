"""Step 4 of the pipeline: the settlement workbook per partner and the overview.

(Plain first version: figures only. The printable letter follows in issue 3.)
"""

from __future__ import annotations

from pathlib import Path

from kim_excel.model import RegionResult, Settlement, Share


def write_partner_workbook(path: Path, settlement: Settlement, region: RegionResult,
                           share: Share) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("Abrechnung")
    eur = wb.add_format({"num_format": '#,##0.00 "€"'})
    rows = [
        ("Kosten der Region", region.costs),
        ("Landesförderung", region.subsidy),
        ("Eigenanteil der Region", region.eigenanteil),
        ("Anteil", share.net),
        ("Umsatzsteuer", share.vat),
        ("Brutto", share.gross),
        ("Abschläge", share.advances),
        ("Saldo", share.balance),
    ]
    ws.write_string(0, 0, f"Abrechnung {settlement.year} {share.party.full_name}")
    for r, (label, value) in enumerate(rows, start=2):
        ws.write_string(r, 0, label)
        ws.write_number(r, 1, float(value), eur)
    wb.close()


def write_overview(path: Path, settlement: Settlement) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("Übersicht")
    eur = wb.add_format({"num_format": '#,##0.00 "€"'})
    row = 0
    for region in settlement.regions:
        for share in region.shares:
            ws.write_string(row, 0, region.region)
            ws.write_string(row, 1, share.party.name)
            ws.write_number(row, 2, float(share.net), eur)
            row += 1
    wb.close()

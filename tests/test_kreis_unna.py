"""Another county, no code change: the Kreis Unna set-up is data in the parties sheet."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from kim_excel.commands.settle import run_settlement
from kim_excel.core.model import EMPLOYER, PARTNER
from kim_excel.documents.template import FormContent
from tests.builders import material, position, write


def unna_form() -> FormContent:
    """Nordkreis: Lünen employs 3.0 VZÄ for Selm and Werne (1.0 each);
    Mittelkreis: Bergkamen employs 2.5 VZÄ for Kamen and Bönen (0.8333… each)."""
    def party(name, kind, region, role, share, plz):
        row = {"Kommune": name, "Bezeichnung": kind, "Region": region, "Rolle": role,
               "Stundenanteil": D(share), "Straße": "Rathausplatz 1", "PLZ": plz, "Ort": name,
               "E-Mail": f"finanzen@{name.lower().replace('ü', 'ue').replace('ö', 'oe')}.example"}
        if role == EMPLOYER:
            row.update({"IBAN": "DE89370400440532013000", "BIC": "COBADEFFXXX",
                        "Kreditinstitut": "Commerzbank"})
        return row

    return FormContent(
        settings={"Abrechnungsjahr": 2022, "Förderbetrag je VZÄ": "",
                  "Datum der Abrechnung": date(2023, 2, 1), "Hinweis Umsatzsteuer": "§ 2b UStG"},
        parties=[
            party("Lünen", "Stadt", "Nordkreis", EMPLOYER, "1", "44532"),
            party("Selm", "Stadt", "Nordkreis", PARTNER, "1", "59379"),
            party("Werne", "Stadt", "Nordkreis", PARTNER, "1", "59368"),
            party("Bergkamen", "Stadt", "Mittelkreis", EMPLOYER, "0.8333", "59192"),
            party("Kamen", "Stadt", "Mittelkreis", PARTNER, "0.8333", "59174"),
            party("Bönen", "Gemeinde", "Mittelkreis", PARTNER, "0.8333", "59199"),
        ],
        positions=[position("Lünen", f"Fallmanagement {i}", 1, 12, "64000.00")
                   for i in (1, 2, 3)]
        + [position("Bergkamen", "Fallmanagement 1", 1, 12, "62000.00"),
           position("Bergkamen", "Fallmanagement 2", 1, 12, "62000.00"),
           position("Bergkamen", "Fallmanagement 3", "0.5", 10, "26000.00")],
        material=[material("Lünen", "Technische Ausstattung", "IT", "3000.00")],
    )


def test_kreis_unna_settles_without_code_change(tmp_path):
    """2022, the programme's rate 55,000 (left empty in the form).
    Nordkreis: 3 × 64,000 + 3,000 = 195,000; subsidy 3 × 55,000 = 165,000; Eigenanteil 30,000
    → Selm and Werne 10,000.00 each. Mittelkreis: 150,000 personnel; subsidy 55,000 + 55,000 +
    55,000 × 0.5 × 10/12 = 22,916.67 → 132,916.67; Eigenanteil 17,083.33 → a third each:
    5,694.44 for Kamen and Bönen, Bergkamen 17,083.33 − 11,388.88 = 5,694.45."""
    write(unna_form(), tmp_path / "in" / "unna.xlsx")
    result = run_settlement(tmp_path / "in", tmp_path / "out", today=date(2023, 2, 1))
    s = result.settlement
    assert s.subsidy_rate == D(55000) and s.subsidy_rate_is_default
    nord, mitte = s.regions
    assert (nord.region, nord.eigenanteil) == ("Nordkreis", D("30000.00"))
    assert {x.party.name: x.net for x in nord.shares} == {
        "Lünen": D("10000.00"), "Selm": D("10000.00"), "Werne": D("10000.00")}
    assert mitte.subsidy == D("132916.67")
    assert {x.party.name: x.net for x in mitte.shares} == {
        "Bergkamen": D("5694.45"), "Kamen": D("5694.44"), "Bönen": D("5694.44")}
    written = sorted(p.name for p in (tmp_path / "out" / "2022").iterdir()
                     if p.suffix in (".xlsx", ".csv"))
    assert written == ["Abrechnung_2022_Boenen.xlsx", "Abrechnung_2022_Kamen.xlsx",
                       "Abrechnung_2022_Selm.xlsx", "Abrechnung_2022_Werne.xlsx",
                       "Buchungsliste_2022.csv", "Uebersicht_2022.xlsx"]

"""Small builders that write input workbooks for tests, through the real form writer."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.documents.template import FormContent, blank_form

D = Decimal

BANKS = {
    "Coesfeld": ("DE26401545300000123456", "WELADE3WXXX", "Sparkasse Westmünsterland"),
    "Dülmen": ("DE45401545300000234567", "WELADE3WXXX", "Sparkasse Westmünsterland"),
    "Ascheberg": ("DE64401545300000345678", "WELADE3WXXX", "Sparkasse Westmünsterland"),
}
CONTACTS = {
    "Coesfeld": ("Frau Beispiel, Fachbereich Finanzen", "02541 939-0"),
    "Dülmen": ("Herr Muster, Kämmerei", "02594 12-0"),
    "Ascheberg": ("Frau Probe, Kämmerei", "02593 609-0"),
}


def coesfeld_form(year: int = 2024, **settings: object) -> FormContent:
    """The blank form with bank details, e-mail addresses and the year filled in."""
    form = blank_form()
    numbers: dict[str, int] = {}  # region → partners numbered so far
    for party in form.parties:
        name = str(party["Kommune"])
        slug = name.lower().replace("ü", "ue")
        party["E-Mail"] = f"kaemmerei@{slug}.example"
        if name in BANKS:
            party["IBAN"], party["BIC"], party["Kreditinstitut"] = BANKS[name]
            party["Ansprechpartner"], party["Telefon"] = CONTACTS[name]
        else:
            # The employer's own reference: region and a number (Nordkirchen is in Süd).
            region = str(party["Region"])
            numbers[region] = numbers.get(region, 0) + 1
            code = region.upper().replace("Ü", "UE")
            party["Kassenzeichen"] = f"KIM-{year}-{code}-{numbers[region]:02d}"
    form.settings["Abrechnungsjahr"] = year
    form.settings["Datum der Abrechnung"] = date(year + 1, 3, 2)
    form.settings.update(settings)
    return form


def example_2024() -> FormContent:
    """The shipped example: all three regions of Kreis Coesfeld in 2024.

    Nord uses the 2023 council paper's plan (163,000 personnel, 7,000 Sachkosten, 2.5 VZÄ).
    """
    form = coesfeld_form(2024)
    form.settings["Aktenzeichen"] = "50.31-KIM/2024"
    form.positions = [
        position("Coesfeld", "Case-Management Nord 1", 1, 12, "65200.00"),
        position("Coesfeld", "Case-Management Nord 2", 1, 12, "65200.00"),
        position("Coesfeld", "Case-Management Nord 3", "0.5", 12, "32600.00"),
        position("Dülmen", "Case-Management Mitte", 1, 12, "66480.00"),
        position("Ascheberg", "Case-Management Süd 1", 1, 12, "64912.36"),
        position("Ascheberg", "Case-Management Süd 2", 1, 12, "61480.13"),
        position("Ascheberg", "Case-Management Süd 3", "0.5", "7.5", "19875.40"),
    ]
    form.material = [
        material("Coesfeld", "Technische Ausstattung", "Laptops, Diensthandys", "3500.00"),
        material("Coesfeld", "Stellenbesetzung und Ausschreibung", "Stellenanzeigen", "1000.00"),
        material("Coesfeld", "Personalverwaltung (Pauschale)", "Pauschale", "2500.00"),
        material("Dülmen", "Technische Ausstattung", "Laptop, Software", "1850.00"),
        material("Dülmen", "Personalverwaltung (Pauschale)", "Pauschale", "1000.00"),
        material("Ascheberg", "Technische Ausstattung", "Arbeitsplätze", "4213.87"),
        material("Ascheberg", "Stellenbesetzung und Ausschreibung", "Anzeigen, Verfahren",
                 "1245.00"),
        material("Ascheberg", "Personalverwaltung (Pauschale)", "Pauschale", "3000.00"),
    ]
    form.advances = [
        {"Kommune": "Olfen", "Datum": date(2024, 7, 15), "Betrag": D("2500.00")},
        {"Kommune": "Nordkirchen", "Datum": date(2024, 7, 15), "Betrag": D("5000.00")},
    ]
    return form


def position(employer, label, vzae, months, costs) -> dict[str, object]:
    return {"Anstellungskörperschaft": employer, "Stelle": label, "VZÄ": D(str(vzae)),
            "Monate": D(str(months)), "Personalkosten": D(costs)}


def material(employer, kind, label, amount) -> dict[str, object]:
    return {"Anstellungskörperschaft": employer, "Kostenart": kind, "Bezeichnung": label,
            "Betrag": D(amount)}


def council_paper_form() -> FormContent:
    """Region Nord as planned in the 2023 council paper: 55,000 per VZÄ, one region."""
    form = coesfeld_form(2023, **{"Förderbetrag je VZÄ": 55000})
    form.positions = [position("Coesfeld", "Case-Management Nord", "0.5", 12, "32600.00")
                      for _ in range(5)]
    form.positions = [dict(p, Stelle=f"Case-Management Nord {i}")
                      for i, p in enumerate(form.positions, start=1)]
    form.material = [material("Coesfeld", "Technische Ausstattung", "Ausstattung", "7000.00")]
    return form


def write(form: FormContent, path: Path) -> Path:
    from kim_excel.documents.template import write_form

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_form(path, form)


def clone(form: FormContent) -> FormContent:
    return copy.deepcopy(form)


def per_employer(form: FormContent, employer: str) -> FormContent:
    """The workbook one employer's staff fills in: only its own costs (and Süd's advances)."""
    part = clone(form)
    part.positions = [p for p in part.positions if p["Anstellungskörperschaft"] == employer]
    part.material = [m for m in part.material if m["Anstellungskörperschaft"] == employer]
    part.advances = [] if employer != "Ascheberg" else part.advances
    return part


def settled(form: FormContent, folder: Path, today: date = date(2025, 1, 10)):
    """The settlement of ``form``, read back from a real workbook: read, validate, calculate
    (without the pipeline's writing), for tests of one writer."""
    from kim_excel.input.validation import load_input
    from kim_excel.ledger.life import settle_dated

    write(form, folder / "input" / "Abrechnung.xlsx")
    inp, _ = load_input(folder / "input", today)
    return settle_dated(inp, None, today)  # no year folder: an empty date is today


def leitweg_id(coarse: str, fine: str = "0001") -> str:
    """A Leitweg-ID with correct check digits (ISO 7064 MOD 97-10, as in an IBAN).

    >>> leitweg_id("05558016")
    '05558016-0001-35'
    """
    body = f"{coarse}-{fine}"
    digits = "".join(str(int(c, 36)) for c in body.replace("-", ""))
    return f"{body}-{98 - int(digits + '00') % 97:02d}"


NO_LEITWEG_ID = "Rosendahl"  # the partner that keeps getting letters only


def einvoice_example(lapsed: bool = False) -> dict[str, FormContent]:
    """The example as each employer's own workbook, with e-invoices: every partner but
    Rosendahl has a Leitweg-ID (from its Gemeindeschlüssel); Mitte bills 19 % VAT and Dülmen
    has a USt-IdNr.; in Süd Nordkirchen's advance exceeds its share (a refund). ``lapsed``:
    the Landesförderung has lapsed (R5)."""
    from kim_excel.core.agreement import GEMEINDESCHLUESSEL

    form = example_2024()
    form.advances[1]["Betrag"] = D("30000.00")  # Nordkirchen: more than its share
    for party in form.parties:
        name = str(party["Kommune"])
        if party["Rolle"] != "Anstellungskörperschaft" and name != NO_LEITWEG_ID:
            party["Leitweg-ID"] = leitweg_id(GEMEINDESCHLUESSEL[name])
        if name == "Dülmen":
            party["USt-IdNr."] = "DE123456789"
    if lapsed:
        form.settings["Landesförderung entfallen"] = "Ja"
    forms = {f"{employer}.xlsx": per_employer(form, employer)
             for employer in ("Coesfeld", "Dülmen", "Ascheberg")}
    forms["Dülmen.xlsx"].settings.update({"Umsatzsteuersatz": 19, "Hinweis Umsatzsteuer": ""})
    return forms

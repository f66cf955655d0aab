"""The input form: ``kim-excel vorlage`` and ``templates/Abrechnung_Vorlage.xlsx``.

One function writes the form, blank (with the Kreis Coesfeld parties filled in) or with
content; the tests build their input workbooks with it too, so the form and the reader
can never drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from kim_excel.core.agreement import COESFELD_PARTIES, GEMEINDESCHLUESSEL
from kim_excel.core.model import KOSTENARTEN, ROLES
from kim_excel.core.schema import (
    ABSCHLAEGE,
    EINSTELLUNGEN,
    FOERDERUNG,
    OPTIONAL_HEADERS,
    PERSONALKOSTEN,
    REQUIRED_HEADERS,
    S_AZ,
    S_BUCHUNG,
    S_DATE,
    S_END,
    S_LAPSED,
    S_NOTICE,
    S_PAYMENT,
    S_PREFIX,
    S_RATE,
    S_VAT,
    S_VAT_NOTE,
    S_YEAR,
    SACHKOSTEN,
    STUNDEN,
    VERTRAGSPARTEIEN,
)
from kim_excel.documents.rows import row_height

# What goes where, shown as Excel's input message while a cell of the column is selected
# (a data validation prompt: it never is a cell value, so the reader cannot take it for data).
INPUT_HINTS: dict[str, dict[str, str]] = {
    PERSONALKOSTEN: {
        "Anstellungskörperschaft": "Die Kommune, bei der die Stelle angesiedelt ist "
                                   "(Auswahlliste), z. B. Coesfeld.",
        "Stelle": "Je Stelle eine Zeile, z. B. „Case-Management Nord 1“.",
        "VZÄ": "Vollzeitäquivalent der Stelle: über 0 bis 1, z. B. 0,5 für eine halbe Stelle.",
        "Monate": "Besetzte Monate im Abrechnungsjahr: 0 bis 12, auch 7,5.",
        "Personalkosten": "Personalkosten des Jahres in Euro einschließlich Arbeitgeberanteil, "
                          "z. B. 65.200,00.",
    },
    SACHKOSTEN: {
        "Anstellungskörperschaft": "Die Kommune, die die Kosten getragen hat (Auswahlliste), "
                                   "z. B. Coesfeld.",
        "Kostenart": "Nur die Kostenarten nach § 2 der Vereinbarung (Auswahlliste).",
        "Bezeichnung": "Wofür, z. B. „Laptops, Diensthandys“.",
        "Betrag": "Betrag in Euro (0 oder mehr), z. B. 3.500,00.",
    },
    FOERDERUNG: {
        "Anstellungskörperschaft": "Nur ausfüllen, wenn die tatsächlich erhaltene "
                                   "Landesförderung vom berechneten Betrag abweicht.",
        "Förderung erhalten": "Tatsächlich erhaltene Landesförderung in Euro, z. B. 142.500,00.",
    },
    STUNDEN: {
        "Kommune": "Tatsächliche Stunden je Kommune; dann für alle Kommunen der Region.",
        "Stunden": "Stunden im Abrechnungsjahr, z. B. 420,5.",
    },
    ABSCHLAEGE: {
        "Kommune": "Partnerkommune, die bereits eine Vorauszahlung geleistet hat.",
        "Datum": "Tag der Zahlung (TT.MM.JJJJ) im Abrechnungsjahr.",
        "Betrag": "Gezahlter Abschlag in Euro, z. B. 2.500,00.",
    },
}

FIXED_CREATED = datetime(2024, 1, 1)  # reproducible files: the same form, the same bytes
INPUT_ROWS = 300  # rows prepared with input formats and drop-downs

SETTING_HELP: dict[str, tuple[object, str]] = {
    S_YEAR: ("", "Jahr, das abgerechnet wird, z. B. 2024 (Pflicht)."),
    S_RATE: (57000, "Landesförderung je Vollzeitstelle und Jahr in EUR. Leer: Satz des Programms "
                    "(bis 2022 55.000, ab 2023 57.000)."),
    S_LAPSED: ("Nein", "Ja, wenn die Landesförderung entfallen ist: dann tragen alle Parteien "
                       "einer Region sämtliche Kosten zu gleichen Teilen (§ 2)."),
    S_VAT: (0, "Umsatzsteuersatz in Prozent (0 oder z. B. 19). Bei 0 erscheint keine "
               "Umsatzsteuerzeile, nur der Hinweis."),
    S_VAT_NOTE: ("", "Text, der auf jeder Abrechnung steht. Leer: bei 0 % der Hinweis, der "
                     "zum Jahr passt (bis 2026 § 2 Abs. 3 UStG a. F., ab 2027 § 2b UStG)."),
    S_PAYMENT: (30, "Zahlungsziel in Tagen ab Datum der Abrechnung; fällt es auf ein Wochenende "
                    "oder einen Feiertag in NRW, gilt der nächste Werktag."),
    S_NOTICE: (18, "Kündigungsfrist in Monaten zum Jahresende (§ 4 Abs. 2; Fassung 2023: 18)."),
    S_DATE: ("", "Datum der Abrechnung (TT.MM.JJJJ). Leer: Tag des Programmlaufs."),
    S_AZ: ("", "Aktenzeichen für das Anschreiben (optional)."),
    S_BUCHUNG: ("", "Buchungsstelle / Produkt der Anstellungskörperschaft (optional)."),
    S_PREFIX: ("", "Steht vor jeder Rechnungsnummer dieser Anstellungskörperschaft, z. B. "
                   "„RE-KIM-“ (optional; Buchstaben, Ziffern und - / _ .)."),
    S_END: ("", "Nur nach einvernehmlicher Beendigung des ganzen Vertrags (§ 4 Abs. 3): "
                "Vertragsende, ein 31.12. (TT.MM.JJJJ)."),
}

INSTRUCTIONS = (
    "Kommunales Case-Management – Abrechnung des Eigenanteils",
    "",
    "So füllen Sie dieses Formular aus:",
    "1. Einstellungen: Abrechnungsjahr eintragen, übrige Werte prüfen (gelbe Zellen).",
    "2. Vertragsparteien: Anschriften, E-Mail-Adressen und – für die Anstellungskörperschaften – "
    "die Bankverbindung prüfen und ergänzen. Eine Kommune, die ausscheidet, erhält in "
    "„Ausgeschieden zum“ den 31.12. des letzten Jahres, in dem sie Partei ist.",
    "3. Personalkosten: je Stelle eine Zeile – VZÄ (über 0 bis 1), besetzte Monate im Jahr "
    "(0 bis 12, auch 7,5) und die Personalkosten einschließlich Arbeitgeberanteil.",
    "4. Sachkosten: nur die Kostenarten nach § 2 der Vereinbarung (Auswahlliste).",
    "5. Optional: Förderung (tatsächlich erhaltene Landesförderung je Anstellungskörperschaft), "
    "Stunden (tatsächliche Stunden je Kommune – dann für alle Kommunen einer Region), "
    "Abschläge (bereits gezahlte Vorauszahlungen).",
    "6. Datei im Ordner „input“ speichern und „kim-excel“ ausführen (oder prüfen: "
    "„kim-excel pruefen“).",
    "",
    "Hinweise:",
    "• Beträge in Euro mit höchstens zwei Nachkommastellen; leere Zeilen werden übersprungen.",
    "• Überschriften in Zeile 1 nicht ändern; zusätzliche Spalten und Blätter sind erlaubt.",
    "• Mehrere Arbeitsmappen (z. B. eine je Anstellungskörperschaft) dürfen im Ordner liegen, "
    "wenn Einstellungen und Vertragsparteien übereinstimmen.",
    "• E-Rechnung (XRechnung): Trägt eine Partnerkommune in „Leitweg-ID“ die Leitweg-ID ein, "
    "die sie für Rechnungen mitgeteilt hat (z. B. 05558016-0001-35), erhält sie ihre "
    "Abrechnung zusätzlich als XRechnung. Ihre Anstellungskörperschaft braucht dann "
    "„Ansprechpartner“, „Telefon“ und „E-Mail“ sowie – ohne Umsatzsteuer – ihren "
    "„Gemeindeschlüssel“ (8 Ziffern, für Kreis Coesfeld vorausgefüllt), mit Umsatzsteuer "
    "ihre „USt-IdNr.“ oder „Steuernummer“.",
    "• Bankverbindung: nötig nur für die Anstellungskörperschaft, die abrechnet; BIC und "
    "Kreditinstitut dürfen leer bleiben, sie werden aus der IBAN ermittelt. Was eine andere "
    "Arbeitsmappe ausfüllt, muss hier nicht wiederholt werden.",
    "• Jede Anstellungskörperschaft erhält die Landesförderung und rechnet den Eigenanteil mit "
    "den Partnerkommunen ihrer Region nach dem Stundenanteil ab (§ 2).",
)


@dataclass
class FormContent:
    """What a form holds: setting name → value, and rows as header → value."""

    settings: dict[str, object] = field(default_factory=dict)
    parties: list[dict[str, object]] = field(default_factory=list)
    positions: list[dict[str, object]] = field(default_factory=list)
    material: list[dict[str, object]] = field(default_factory=list)
    subsidies: list[dict[str, object]] = field(default_factory=list)
    hours: list[dict[str, object]] = field(default_factory=list)
    advances: list[dict[str, object]] = field(default_factory=list)


def coesfeld_parties() -> list[dict[str, object]]:
    rows = []
    for name, kind, region, role, share, street, postcode, city in COESFELD_PARTIES:
        rows.append({"Kommune": name, "Bezeichnung": kind, "Region": region, "Rolle": role,
                     "Stundenanteil": share, "Straße": street, "PLZ": postcode, "Ort": city,
                     "Gemeindeschlüssel": GEMEINDESCHLUESSEL.get(name, "")})
    return rows


def blank_form() -> FormContent:
    return FormContent(
        settings={name: default for name, (default, _) in SETTING_HELP.items()},
        parties=coesfeld_parties(),
    )


TEMPLATE_NAME = "Abrechnung_Vorlage.xlsx"


def form_path(written: str) -> tuple[Path, bool]:
    """Where ``kim-excel vorlage PATH`` writes, and whether the folder is to be created.

    An existing folder, or a path ending with a separator (``input/``, which need not exist
    yet), gets the form under its own name; anything else is the file's path.

    >>> form_path("eingang/")
    (PosixPath('eingang/Abrechnung_Vorlage.xlsx'), True)
    """
    import os

    path = Path(written)
    if written.endswith(("/", os.sep)) or path.is_dir():
        return path / TEMPLATE_NAME, not path.is_dir()
    return path, False


def write_form(path: Path, content: FormContent | None = None) -> Path:
    """Write the form to ``path`` (atomically: a temporary file, then renamed)."""
    import xlsxwriter

    content = content or blank_form()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    wb.set_properties({"title": "Kommunales Case-Management – Eingabeformular",
                       "author": "kim-excel", "created": FIXED_CREATED})
    f = _formats(wb)
    _instructions(wb, f)
    _settings_sheet(wb, f, content.settings)
    parties_headers = REQUIRED_HEADERS[VERTRAGSPARTEIEN] + OPTIONAL_HEADERS[VERTRAGSPARTEIEN]
    widths = {"Kommune": 16, "Bezeichnung": 12, "Region": 10, "Rolle": 24, "Stundenanteil": 14,
              "Ausgeschieden zum": 18, "Straße": 24, "PLZ": 8, "Ort": 16, "E-Mail": 30,
              "IBAN": 28, "BIC": 14, "Kreditinstitut": 28, "Ansprechpartner": 22,
              "Telefon": 18, "Kassenzeichen": 16, "Leitweg-ID": 22, "Gemeindeschlüssel": 16,
              "Steuernummer": 18, "USt-IdNr.": 16}
    kommunen = f"='{VERTRAGSPARTEIEN}'!$A$2:$A${INPUT_ROWS + 1}"
    _data_sheet(wb, f, VERTRAGSPARTEIEN, parties_headers, content.parties, widths,
                kinds={"Stundenanteil": "vzae", "Ausgeschieden zum": "date", "PLZ": "text"},
                lists={"Rolle": list(ROLES), "Bezeichnung": ["Stadt", "Gemeinde"]})
    _data_sheet(wb, f, PERSONALKOSTEN, REQUIRED_HEADERS[PERSONALKOSTEN], content.positions,
                {"Anstellungskörperschaft": 24, "Stelle": 30, "VZÄ": 8, "Monate": 9,
                 "Personalkosten": 18},
                kinds={"VZÄ": "vzae", "Monate": "months", "Personalkosten": "eur"},
                lists={"Anstellungskörperschaft": kommunen})
    _data_sheet(wb, f, SACHKOSTEN, REQUIRED_HEADERS[SACHKOSTEN], content.material,
                {"Anstellungskörperschaft": 24, "Kostenart": 34, "Bezeichnung": 36,
                 "Betrag": 16},
                kinds={"Betrag": "eur"},
                lists={"Anstellungskörperschaft": kommunen, "Kostenart": list(KOSTENARTEN)})
    _data_sheet(wb, f, FOERDERUNG, REQUIRED_HEADERS[FOERDERUNG], content.subsidies,
                {"Anstellungskörperschaft": 24, "Förderung erhalten": 20},
                kinds={"Förderung erhalten": "eur"}, lists={"Anstellungskörperschaft": kommunen})
    _data_sheet(wb, f, STUNDEN, REQUIRED_HEADERS[STUNDEN], content.hours,
                {"Kommune": 18, "Stunden": 12}, kinds={"Stunden": "hours"},
                lists={"Kommune": kommunen})
    _data_sheet(wb, f, ABSCHLAEGE, REQUIRED_HEADERS[ABSCHLAEGE], content.advances,
                {"Kommune": 18, "Datum": 12, "Betrag": 16},
                kinds={"Datum": "date", "Betrag": "eur"}, lists={"Kommune": kommunen})
    wb.close()
    tmp.replace(path)
    return path


def _formats(wb) -> dict:
    input_fill = {"bg_color": "#FFF9D6", "border": 1, "border_color": "#D9D9D9"}
    return {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "header": wb.add_format({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF",
                                 "border": 1, "text_wrap": True, "valign": "vcenter"}),
        "text": wb.add_format({**input_fill, "num_format": "@", "text_wrap": True,
                               "valign": "top"}),
        "general": wb.add_format(input_fill),
        "eur": wb.add_format({**input_fill, "num_format": '#,##0.00 "€"'}),
        "vzae": wb.add_format({**input_fill, "num_format": "0.0##"}),
        "months": wb.add_format({**input_fill, "num_format": "0.0#"}),
        "hours": wb.add_format({**input_fill, "num_format": "#,##0.0#"}),
        "date": wb.add_format({**input_fill, "num_format": "dd.mm.yyyy"}),
        "label": wb.add_format({"bold": True, "border": 1, "border_color": "#D9D9D9"}),
        "help": wb.add_format({"text_wrap": True, "font_color": "#595959", "valign": "top"}),
    }


INSTRUCTIONS_WIDTH = 80


def _instructions(wb, f) -> None:
    ws = wb.add_worksheet("Anleitung")
    ws.hide_gridlines(2)
    ws.set_column(0, 0, INSTRUCTIONS_WIDTH, f["wrap"])
    for row, line in enumerate(INSTRUCTIONS):
        ws.write_string(row, 0, line, f["title"] if row == 0 else f["wrap"])
        ws.set_row(row, 21 if row == 0 else row_height((line, INSTRUCTIONS_WIDTH)))
    _print_setup(ws, landscape=False, last_row=len(INSTRUCTIONS) - 1, last_col=0)


def _settings_sheet(wb, f, values: dict[str, object]) -> None:
    ws = wb.add_worksheet(EINSTELLUNGEN)
    ws.set_column(0, 0, 28, f["label"])
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2, 80, f["help"])
    for col, header in enumerate(("Einstellung", "Wert", "Erläuterung")):
        ws.write_string(0, col, header, f["header"])
    ws.freeze_panes(1, 0)
    kinds = {S_RATE: "eur", S_DATE: "date", S_END: "date", S_VAT_NOTE: "text",
             S_AZ: "text", S_BUCHUNG: "text", S_PREFIX: "text"}
    for row, (name, (_, help_text)) in enumerate(SETTING_HELP.items(), start=1):
        ws.write_string(row, 0, name, f["label"])
        kind = kinds.get(name, "general")
        _write(ws, row, 1, values.get(name, ""), f[kind], kind)
        ws.write_string(row, 2, help_text, f["help"])
        value = str(values.get(name, "")) if kind == "text" else ""
        ws.set_row(row, row_height((help_text, 80), (value, 60)))
        if name == S_LAPSED:
            ws.data_validation(row, 1, row, 1, {"validate": "list", "source": ["Ja", "Nein"]})
    _print_setup(ws, landscape=True, last_row=len(SETTING_HELP), last_col=2)


def _data_sheet(wb, f, name: str, headers: Sequence[str], rows: list[dict[str, object]],
                widths: dict[str, int], kinds: dict[str, str], lists: dict[str, object]) -> None:
    ws = wb.add_worksheet(name)
    for col, header in enumerate(headers):
        kind = kinds.get(header, "text")
        ws.set_column(col, col, widths.get(header, 14), f[kind])
        ws.write_string(0, col, header, f["header"])
        source = lists.get(header)
        hint = INPUT_HINTS.get(name, {}).get(header)
        spec: dict[str, object] = {"validate": "any"}
        if source is not None:
            spec = {"validate": "list", "source": source, "error_type": "warning",
                    "error_title": "Wert aus der Liste wählen",
                    "error_message": "Bitte einen Wert aus der Auswahlliste verwenden."}
        if hint is not None:  # shown while the cell is selected; never a value in a row
            spec.update(input_title=header[:32], input_message=hint)
        if source is not None or hint is not None:
            ws.data_validation(1, col, INPUT_ROWS, col, spec)
    ws.freeze_panes(1, 0)
    ws.set_row(0, 30)
    for r, values in enumerate(rows, start=1):
        for col, header in enumerate(headers):
            kind = kinds.get(header, "text")
            _write(ws, r, col, values.get(header, ""), f[kind], kind)
        height = row_height(*((str(values.get(h, "")), widths.get(h, 14)) for h in headers
                              if kinds.get(h, "text") == "text"))
        if height > 15:
            ws.set_row(r, height)
    # Printed: the rows filled in, or a blank page of rows to fill in by hand.
    _print_setup(ws, landscape=sum(widths.get(h, 14) for h in headers) > 100,
                 last_row=max(len(rows), PRINTED_BLANK_ROWS), last_col=len(headers) - 1)
    ws.repeat_rows(0)


PRINTED_BLANK_ROWS = 25


def _print_setup(ws, landscape: bool, last_row: int, last_col: int) -> None:
    """A4, one page wide, only the part of the sheet that holds the form."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_area(0, 0, last_row, last_col)


def _write(ws, row: int, col: int, value: object, fmt, kind: str) -> None:
    """Numbers as numbers, dates as dates, text as text (never as a formula)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
    elif isinstance(value, (int, float, Decimal)) and kind != "text":
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)

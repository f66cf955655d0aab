"""The form's schema: sheet names, column headers and setting rows (SPEC § 4).

The contract with the finance staff. The form writer (``template.py``), the readers
(``sheets.py``), ``kuendigung`` (``notice.py``) and ``beobachten`` (``watching.py``) all
take the names from here.
"""

from __future__ import annotations

EINSTELLUNGEN = "Einstellungen"
VERTRAGSPARTEIEN = "Vertragsparteien"
PERSONALKOSTEN = "Personalkosten"
SACHKOSTEN = "Sachkosten"
FOERDERUNG = "Förderung"
STUNDEN = "Stunden"
ABSCHLAEGE = "Abschläge"

REQUIRED_HEADERS: dict[str, tuple[str, ...]] = {
    EINSTELLUNGEN: ("Einstellung", "Wert"),
    VERTRAGSPARTEIEN: ("Kommune", "Bezeichnung", "Region", "Rolle", "Stundenanteil",
                       "Ausgeschieden zum", "Straße", "PLZ", "Ort", "E-Mail", "IBAN", "BIC",
                       "Kreditinstitut"),
    PERSONALKOSTEN: ("Anstellungskörperschaft", "Stelle", "VZÄ", "Monate", "Personalkosten"),
    SACHKOSTEN: ("Anstellungskörperschaft", "Kostenart", "Bezeichnung", "Betrag"),
    FOERDERUNG: ("Anstellungskörperschaft", "Förderung erhalten"),
    STUNDEN: ("Kommune", "Stunden"),
    ABSCHLAEGE: ("Kommune", "Datum", "Betrag"),
}
# E-invoice columns (SPEC § 8) are optional: older forms without them still read.
LEITWEG_ID = "Leitweg-ID"
GEMEINDESCHLUESSEL = "Gemeindeschlüssel"
STEUERNUMMER = "Steuernummer"
UST_ID = "USt-IdNr."
OPTIONAL_HEADERS = {VERTRAGSPARTEIEN: ("Ansprechpartner", "Telefon", "Kassenzeichen",
                                       LEITWEG_ID, GEMEINDESCHLUESSEL, STEUERNUMMER, UST_ID)}
PARTY_HEADERS = REQUIRED_HEADERS[VERTRAGSPARTEIEN] + OPTIONAL_HEADERS[VERTRAGSPARTEIEN]
REQUIRED_SHEETS = (EINSTELLUNGEN, VERTRAGSPARTEIEN, PERSONALKOSTEN, SACHKOSTEN)
ALL_SHEETS = tuple(REQUIRED_HEADERS)

# Einstellungen rows (SPEC § 4).
S_YEAR = "Abrechnungsjahr"
S_RATE = "Förderbetrag je VZÄ"
S_LAPSED = "Landesförderung entfallen"
S_VAT = "Umsatzsteuersatz"
S_VAT_NOTE = "Hinweis Umsatzsteuer"
S_PAYMENT = "Zahlungsziel (Tage)"
S_NOTICE = "Kündigungsfrist (Monate)"
S_DATE = "Datum der Abrechnung"
S_AZ = "Aktenzeichen"
S_BUCHUNG = "Buchungsstelle"
S_PREFIX = "Präfix Rechnungsnummer"
S_END = "Vertrag beendet zum"
SETTINGS_ROWS = (S_YEAR, S_RATE, S_LAPSED, S_VAT, S_VAT_NOTE, S_PAYMENT, S_NOTICE, S_DATE,
                 S_AZ, S_BUCHUNG, S_PREFIX, S_END)

SETTING_LABELS = {  # the agreement-wide settings (model.Settings) → their row
    "year": S_YEAR, "subsidy_rate": S_RATE, "subsidy_lapsed": S_LAPSED,
    "notice_months": S_NOTICE, "contract_end": S_END,
}

PARTY_LABELS = {  # model.Party field → its column in Vertragsparteien
    "name": "Kommune", "bezeichnung": "Bezeichnung", "region": "Region", "role": "Rolle",
    "stundenanteil": "Stundenanteil", "exit_date": "Ausgeschieden zum", "street": "Straße",
    "postcode": "PLZ", "city": "Ort", "email": "E-Mail", "iban": "IBAN", "bic": "BIC",
    "bank": "Kreditinstitut", "contact": "Ansprechpartner", "phone": "Telefon",
    "kassenzeichen": "Kassenzeichen", "leitweg_id": LEITWEG_ID,
    "gemeindeschluessel": GEMEINDESCHLUESSEL, "steuernummer": STEUERNUMMER, "ust_id": UST_ID,
}

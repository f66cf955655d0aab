"""Notice (R11, § 4 Abs. 2) and the keys after an exit (R6): ``kim-excel kuendigung``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kim_excel.commands.kuendigung import notice_report
from kim_excel.core.dates import last_day_for_notice, notice_takes_effect
from tests.builders import coesfeld_form, write
from tests.runner import run_kim

D = Decimal


# ------------------------------------------------------------ the dates (R11)


@pytest.mark.parametrize(
    ("received", "months", "effect"),
    [
        # 18 months (2023 text): 31.12.2026 − 18 months = 30.06.2025, the last day in time.
        (date(2025, 6, 30), 18, date(2026, 12, 31)),
        (date(2025, 7, 1), 18, date(2027, 12, 31)),
        # 6 months (2022 text): 31.12.2025 − 6 months = 30.06.2025.
        (date(2025, 6, 30), 6, date(2025, 12, 31)),
        (date(2025, 7, 1), 6, date(2026, 12, 31)),
        # 4 months: 31.12. − 4 months = 31.08. (August has 31 days: no clipping).
        (date(2025, 8, 31), 4, date(2025, 12, 31)),
        (date(2025, 9, 1), 4, date(2026, 12, 31)),
        # 3 months: 31.12. − 3 months = 30.09. (clipped from the 31st).
        (date(2025, 9, 30), 3, date(2025, 12, 31)),
        (date(2025, 10, 1), 3, date(2026, 12, 31)),
        # 10 months: 31.12. − 10 months = the last day of February: 28.02.2025, 29.02.2024.
        (date(2025, 2, 28), 10, date(2025, 12, 31)),
        (date(2025, 3, 1), 10, date(2026, 12, 31)),
        (date(2024, 2, 29), 10, date(2024, 12, 31)),
        (date(2024, 3, 1), 10, date(2025, 12, 31)),
        (date(2024, 2, 28), 10, date(2024, 12, 31)),
        # 12 months: received on 31.12.2025 is in time for 31.12.2026, not for 2025.
        (date(2025, 12, 31), 12, date(2026, 12, 31)),
        (date(2025, 1, 1), 12, date(2026, 12, 31)),
        # 0 months: notice on New Year's Eve takes effect that very day.
        (date(2025, 12, 31), 0, date(2025, 12, 31)),
        # 30 months: 31.12.2027 − 30 months = 30.06.2025.
        (date(2025, 6, 30), 30, date(2027, 12, 31)),
        (date(2025, 7, 1), 30, date(2028, 12, 31)),
    ],
)
def test_notice_takes_effect_on_the_first_31_december_in_time(received, months, effect):
    assert notice_takes_effect(received, months) == effect


@pytest.mark.parametrize(
    ("end", "months", "last_day"),
    [
        (date(2026, 12, 31), 18, date(2025, 6, 30)),
        (date(2025, 12, 31), 6, date(2025, 6, 30)),
        (date(2025, 12, 31), 4, date(2025, 8, 31)),
        (date(2025, 12, 31), 10, date(2025, 2, 28)),  # not a leap year
        (date(2024, 12, 31), 10, date(2024, 2, 29)),  # leap year
        # Month ends of other dates clip too: 31 Aug − 18 months is the end of February.
        (date(2026, 8, 31), 18, date(2025, 2, 28)),
        (date(2025, 8, 31), 18, date(2024, 2, 29)),
    ],
)
def test_last_day_for_notice_clips_to_the_end_of_the_month(end, months, last_day):
    assert last_day_for_notice(end, months) == last_day


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(0, 120))
def test_the_effect_is_the_earliest_year_end_the_notice_reaches_in_time(received, months):
    """In time for E (received ≤ E − N months), too late for the 31 Dec before E."""
    effect = notice_takes_effect(received, months)
    assert (effect.month, effect.day) == (12, 31)
    assert received <= last_day_for_notice(effect, months)
    assert received > last_day_for_notice(date(effect.year - 1, 12, 31), months)


def test_a_negative_notice_period_is_refused():
    with pytest.raises(ValueError):
        notice_takes_effect(date(2025, 1, 1), -1)


# ------------------------------------------------------------ keys after an exit (R6)


def test_billerbeck_leaving_gives_its_share_to_the_three_others_of_nord(tmp_path):
    """Nord: 4 × 0,625 of 2,5 VZÄ. Billerbeck's 0,625 goes in thirds to the others:
    0,625 + 0,625 / 3 = 0,8333… each, 0,8333 / 2,5 = 33,33 %."""
    write(coesfeld_form(2025), tmp_path / "in" / "Abrechnung.xlsx")
    report = notice_report(date(2025, 7, 1), None, tmp_path / "in", kommune="Billerbeck")
    assert report.takes_effect == date(2027, 12, 31)
    assert report.first_year_without == 2028
    keys = {k.party.name: k for k in report.keys}
    assert list(keys) == ["Coesfeld", "Billerbeck", "Havixbeck", "Rosendahl"]
    assert keys["Billerbeck"].after is None
    for name in ("Coesfeld", "Havixbeck", "Rosendahl"):
        assert keys[name].before == D("0.625")
        assert keys[name].before_fraction == D("0.25")
        assert keys[name].after == Fraction(5, 6)  # exact: 0.625 + 0.625 / 3
        assert keys[name].after_fraction == Fraction(1, 3)


def test_an_earlier_exit_is_already_in_the_keys_before_the_notice(tmp_path):
    """Süd: 5 × 0,5. Olfen left on 31.12.2025, so in 2026 the other four hold
    0,5 + 0,5 / 4 = 0,625 each (25 %). Senden's notice of 30.06.2025 takes effect on
    31.12.2026; from 2027 Olfen's and Senden's 1,0 VZÄ go in thirds to the three left:
    0,5 + 1,0 / 3 = 0,8333… (33,33 %). Olfen does not appear: it is no party in 2026."""
    form = coesfeld_form(2025)
    for party in form.parties:
        if party["Kommune"] == "Olfen":
            party["Ausgeschieden zum"] = date(2025, 12, 31)
    write(form, tmp_path / "in" / "Abrechnung.xlsx")
    report = notice_report(date(2025, 6, 30), 18, tmp_path / "in", kommune="senden")
    keys = {k.party.name: k for k in report.keys}
    assert list(keys) == ["Ascheberg", "Lüdinghausen", "Nordkirchen", "Senden"]
    assert [keys[n].before for n in keys] == [D("0.625")] * 4
    assert keys["Senden"].after is None
    assert keys["Ascheberg"].after == Fraction("0.5") + Fraction("1.0") / 3


# ------------------------------------------------------------ the command


DATE_LINES_18 = [
    "Wirksam zum 31.12.2026: 2026 ist das letzte Jahr, für das die Kommune zahlt.",
    "Für den 31.12.2026 reicht ein Eingang bis zum 30.06.2025; für den 31.12.2025 hätte die "
    "Kündigung spätestens am 30.06.2024 eingehen müssen.",
]


def test_without_a_workbook_only_the_dates_are_printed(tmp_path):
    result = run_kim("kuendigung", "--eingang-am", "30.06.2025", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Kündigung eingegangen am 30.06.2025; Kündigungsfrist 18 Monate zum Ende eines "
        "Kalenderjahres (Standard nach § 4 Abs. 2 der Vereinbarung).",
        *DATE_LINES_18,
        "Ab 2027 geht der Stundenanteil der kündigenden Kommune zu gleichen Teilen auf die "
        "übrigen Vertragsparteien ihrer Region über (§ 4 Abs. 2).",
        "Die neuen Schlüssel zeigt kim-excel, wenn in „input“ eine Arbeitsmappe mit dem Blatt "
        "„Vertragsparteien“ liegt (--eingang).",
    ]


def test_the_day_after_the_last_day_costs_a_whole_year_with_six_months(tmp_path):
    """6 months: 30.06.2025 reaches 31.12.2025; 01.07.2025 only 31.12.2026."""
    in_time = run_kim("kuendigung", "--eingang-am", "30.06.2025", "--frist", "6", cwd=tmp_path)
    late = run_kim("kuendigung", "--eingang-am", "1.7.2025", "--frist", "6", cwd=tmp_path)
    assert in_time.stdout.splitlines()[1] == (
        "Wirksam zum 31.12.2025: 2025 ist das letzte Jahr, für das die Kommune zahlt.")
    assert late.stdout.splitlines()[:3] == [
        "Kündigung eingegangen am 01.07.2025; Kündigungsfrist 6 Monate zum Ende eines "
        "Kalenderjahres (angegeben mit --frist).",
        "Wirksam zum 31.12.2026: 2026 ist das letzte Jahr, für das die Kommune zahlt.",
        "Für den 31.12.2026 reicht ein Eingang bis zum 30.06.2026; für den 31.12.2025 hätte die "
        "Kündigung spätestens am 30.06.2025 eingehen müssen.",
    ]


def test_with_the_parties_sheet_the_new_keys_of_the_region_are_shown(tmp_path):
    write(coesfeld_form(2025), tmp_path / "input" / "Abrechnung.xlsx")
    result = run_kim("kuendigung", "--eingang-am", "30.06.2025", "--kommune", "Billerbeck",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Kündigung eingegangen am 30.06.2025; Kündigungsfrist 18 Monate zum Ende eines "
        "Kalenderjahres (Einstellung „Kündigungsfrist (Monate)“ in Abrechnung.xlsx).",
        *DATE_LINES_18,
        "Ab 2027 geht der Stundenanteil von Stadt Billerbeck zu gleichen Teilen auf die übrigen "
        "Vertragsparteien der Region Nord über (§ 4 Abs. 2). Schlüssel (Stundenanteil):",
        "  Kommune             2026                 ab 2027",
        "  Stadt Coesfeld      0,625 VZÄ (25,00 %)  0,8333 VZÄ (33,33 %)",
        "  Stadt Billerbeck    0,625 VZÄ (25,00 %)  ausgeschieden",
        "  Gemeinde Havixbeck  0,625 VZÄ (25,00 %)  0,8333 VZÄ (33,33 %)",
        "  Gemeinde Rosendahl  0,625 VZÄ (25,00 %)  0,8333 VZÄ (33,33 %)",
        "In „Vertragsparteien“ bei Billerbeck unter „Ausgeschieden zum“ den 31.12.2026 "
        "eintragen.",
    ]


@pytest.mark.slow
def test_the_workbooks_notice_period_applies_unless_frist_is_given(tmp_path):
    """The workbook says 6 months: 01.07.2025 → 31.12.2026; --frist 18 → 31.12.2027."""
    write(coesfeld_form(2025, **{"Kündigungsfrist (Monate)": 6}), tmp_path / "in" / "A.xlsx")
    from_workbook = run_kim("kuendigung", "--eingang-am", "01.07.2025", "--eingang", "in",
                            cwd=tmp_path)
    overridden = run_kim("kuendigung", "--eingang-am", "01.07.2025", "--eingang", "in",
                         "--frist", "18", cwd=tmp_path)
    assert from_workbook.stdout.splitlines()[:2] == [
        "Kündigung eingegangen am 01.07.2025; Kündigungsfrist 6 Monate zum Ende eines "
        "Kalenderjahres (Einstellung „Kündigungsfrist (Monate)“ in A.xlsx).",
        "Wirksam zum 31.12.2026: 2026 ist das letzte Jahr, für das die Kommune zahlt.",
    ]
    assert overridden.stdout.splitlines()[1] == (
        "Wirksam zum 31.12.2027: 2027 ist das letzte Jahr, für das die Kommune zahlt.")


def test_an_employer_giving_notice_is_warned_that_a_successor_is_needed(tmp_path):
    write(coesfeld_form(2025), tmp_path / "input" / "Abrechnung.xlsx")
    result = run_kim("kuendigung", "--eingang-am", "30.06.2025", "--kommune", "Stadt Coesfeld",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Warnung: Stadt Coesfeld ist Anstellungskörperschaft der Region Nord. Sie kann nur "
        "ausscheiden, wenn eine Nachfolgerin benannt ist, die das Personal übernimmt und "
        "abrechnet: eine weitere Zeile der Region Nord mit der Rolle „Anstellungskörperschaft“ "
        "in „Vertragsparteien“ (§ 4 Abs. 5).")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--eingang-am", "31.02.2025"], 1,
         "Fehler: --eingang-am: „31.02.2025“ ist kein gültiges Datum; erwartet: TT.MM.JJJJ, "
         "z. B. 30.06.2025."),
        (["--eingang-am", "2025-06-30"], 1,
         "Fehler: --eingang-am: „2025-06-30“ ist kein gültiges Datum; erwartet: TT.MM.JJJJ, "
         "z. B. 30.06.2025."),
        (["--eingang-am", "29.02.2025"], 1,
         "Fehler: --eingang-am: „29.02.2025“ ist kein gültiges Datum; erwartet: TT.MM.JJJJ, "
         "z. B. 30.06.2025."),
        (["--eingang-am", "01.01.1999"], 1,
         "Fehler: --eingang-am: „01.01.1999“ liegt nicht zwischen 2000 und 2100."),
        (["--eingang-am", "01.07.2025", "--frist", "sechs"], 1,
         "Fehler: --frist: „sechs“ ist ungültig; erwartet: die Kündigungsfrist in Monaten, eine "
         "ganze Zahl von 0 bis 120."),
        (["--eingang-am", "01.07.2025", "--frist", "-6"], 1,
         "Fehler: --frist: „-6“ ist ungültig; erwartet: die Kündigungsfrist in Monaten, eine "
         "ganze Zahl von 0 bis 120."),
        ([], 2,
         "Fehler: Bitte den Tag angeben, an dem die Kündigung eingegangen ist: kim-excel "
         "kuendigung --eingang-am TT.MM.JJJJ"),
        (["--eingang-am", "01.07.2025", "--eingang", "fehlt"], 1,
         "Fehler: Eingang „fehlt“ gibt es nicht. Bitte den Ordner anlegen und die ausgefüllte "
         "Vorlage hineinlegen (kim-excel vorlage erzeugt sie), oder mit --eingang einen "
         "anderen Ordner oder eine Datei angeben."),
    ],
)
def test_bad_options_get_a_german_message_and_no_traceback(tmp_path, args, code, message):
    result = run_kim("kuendigung", *args, cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (code, message)
    assert result.stdout == ""


def test_an_unknown_municipality_is_named_with_the_known_ones(tmp_path):
    write(coesfeld_form(2025), tmp_path / "input" / "Abrechnung.xlsx")
    result = run_kim("kuendigung", "--eingang-am", "30.06.2025", "--kommune", "Münster",
                     cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Fehler: „Münster“ ist keine Vertragspartei laut Abrechnung.xlsx (bekannt: Coesfeld, "
        "Billerbeck, Havixbeck, Rosendahl, Dülmen, Nottuln, Ascheberg, Lüdinghausen, "
        "Nordkirchen, Olfen, Senden).")


def test_a_bad_notice_period_in_the_workbook_is_an_input_error(tmp_path):
    """The setting is row 8 of Einstellungen (after the title row and six settings)."""
    write(coesfeld_form(2025, **{"Kündigungsfrist (Monate)": "abc"}),
          tmp_path / "input" / "Abrechnung.xlsx")
    result = run_kim("kuendigung", "--eingang-am", "30.06.2025", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        "Die Eingabe enthält einen Fehler:",
        "  – Abrechnung.xlsx: Einstellungen!B8: „abc“ ist keine Zahl; erwartet: "
        "Kündigungsfrist in Monaten.",
    ]
    assert result.stdout == ""


def test_workbooks_of_two_employers_are_read_like_the_settlement_reads_them(tmp_path):
    """SPEC § 4: a bank cell empty in one employer's workbook and filled in the other's is no
    disagreement, for `kuendigung` as for the settlement; a real difference still is."""
    own = coesfeld_form(2025)
    other = coesfeld_form(2025)
    for party in other.parties:
        if party["Kommune"] == "Coesfeld":
            party["IBAN"] = party["BIC"] = party["Kreditinstitut"] = ""
    write(own, tmp_path / "in" / "Nord.xlsx")
    write(other, tmp_path / "in" / "Sued.xlsx")
    result = run_kim("kuendigung", "--eingang-am", "30.06.2025", "--eingang", "in",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Wirksam zum 31.12.2026" in result.stdout
    for party in other.parties:
        if party["Kommune"] == "Coesfeld":
            party["Telefon"] = "02541 1"
    write(other, tmp_path / "in" / "Sued.xlsx")
    clash = run_kim("kuendigung", "--eingang-am", "30.06.2025", "--eingang", "in",
                    cwd=tmp_path)
    assert clash.returncode == 1
    assert "Sued.xlsx: Vertragsparteien!" in clash.stdout + clash.stderr

"""R12: after the agreement ended by mutual consent (§ 4 Abs. 3), personnel and Sachkosten up
to 12 months past the end are split in equal parts among the parties at the end.

The scenario, used throughout: the agreement ended on 31.12.2025. Region Nord has unequal
Stundenanteile (Coesfeld 1,0; Billerbeck, Havixbeck, Rosendahl 0,5 each; 2,5 in all), so
an equal split and a split by Stundenanteil give different bills. Costs of 2026, rate 57,000:

- Nord 1: 1,0 VZÄ, 8 months (the employment ended on 31.08.2026), 40,000.00;
  subsidy 57,000 × 1,0 × 8 / 12 = 38,000.00
- Nord 2: 0,5 VZÄ, 12 months, 30,000.00; subsidy 57,000 × 0,5 = 28,500.00
- Personalverwaltung (Pauschale) 1,500.00

costs 71,500.00 − subsidy 66,500.00 = Eigenanteil 5,000.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kim_excel.commands.settle import load_settlement
from kim_excel.core.errors import InputError
from kim_excel.core.model import KeyBasis
from tests.builders import coesfeld_form, material, position, write
from tests.runner import run_kim

D = Decimal
END = date(2025, 12, 31)
TODAY = date(2027, 3, 1)
KEYS = {"Coesfeld": "1.0", "Billerbeck": "0.5", "Havixbeck": "0.5", "Rosendahl": "0.5"}


def wind_down_form(year: int = 2026, **settings):
    form = coesfeld_form(year, **{"Vertrag beendet zum": END, "Förderbetrag je VZÄ": 57000,
                                  **settings})
    for party in form.parties:
        if party["Kommune"] in KEYS:
            party["Stundenanteil"] = D(KEYS[party["Kommune"]])
    form.positions = [position("Coesfeld", "Case-Management Nord 1", 1, 8, "40000.00"),
                      position("Coesfeld", "Case-Management Nord 2", "0.5", 12, "30000.00")]
    form.material = [material("Coesfeld", "Personalverwaltung (Pauschale)", "Pauschale",
                              "1500.00")]
    return form


def settle_form(form, tmp_path):
    write(form, tmp_path / "in" / "Abrechnung.xlsx")
    return load_settlement(tmp_path / "in", TODAY)


def nets(settlement) -> dict[str, Decimal]:
    (region,) = settlement.regions
    return {s.party.name: s.net for s in region.shares}


def test_the_year_after_the_end_is_split_in_equal_parts(tmp_path):
    """Eigenanteil 5,000.00 / 4 former parties = 1,250.00 each, whatever the Stundenanteil."""
    settlement, notices = settle_form(wind_down_form(), tmp_path)
    (region,) = settlement.regions
    assert (region.costs, region.subsidy, region.eigenanteil) == (
        D("71500.00"), D("66500.00"), D("5000.00"))
    assert region.wind_down and region.key_basis is KeyBasis.EQUAL
    assert nets(settlement) == {name: D("1250.00") for name in KEYS}


def test_the_end_year_itself_is_still_split_by_stundenanteil(tmp_path):
    """2025 is a normal year: 5,000.00 × 0,5 / 2,5 = 1,000.00 per partner, Coesfeld 2,000.00."""
    settlement, _ = settle_form(wind_down_form(2025), tmp_path)
    (region,) = settlement.regions
    assert not region.wind_down and region.key_basis is KeyBasis.STUNDENANTEIL
    assert nets(settlement) == {"Coesfeld": D("2000.00"), "Billerbeck": D("1000.00"),
                                "Havixbeck": D("1000.00"), "Rosendahl": D("1000.00")}


def test_a_party_that_left_before_the_end_is_no_former_party(tmp_path):
    """Rosendahl left on 31.12.2024, a year before the end: the three parties at the end share
    5,000.00: partners round(5,000 / 3) = 1,666.67, Coesfeld the rest 1,666.66."""
    form = wind_down_form()
    for party in form.parties:
        if party["Kommune"] == "Rosendahl":
            party["Ausgeschieden zum"] = date(2024, 12, 31)
    settlement, _ = settle_form(form, tmp_path)
    assert nets(settlement) == {"Coesfeld": D("1666.66"), "Billerbeck": D("1666.67"),
                                "Havixbeck": D("1666.67")}


def test_the_subsidy_is_deducted_and_the_clerk_is_asked_to_check_it(tmp_path):
    settlement, notices = settle_form(wind_down_form(), tmp_path)
    texts = [str(n) for n in notices]
    assert ("Warnung: 2026 ist Abwicklungsjahr: Der Vertrag endete am 31.12.2025 (§ 4 Abs. 3); "
            "die Kosten werden zu gleichen Teilen auf die bisherigen Vertragsparteien der "
            "Region Nord verteilt (Coesfeld, Billerbeck, Havixbeck, Rosendahl). Abgezogen ist "
            "eine Landesförderung von 66.500,00 €: bitte prüfen, ob sie für diese Monate "
            "tatsächlich gezahlt wird (sonst im Blatt „Förderung“ den erhaltenen Betrag, z. B. 0, "
            "eintragen).") in texts


@pytest.mark.parametrize("how", ["lapsed", "received_zero"])
def test_without_subsidy_all_costs_are_split_in_equal_parts(tmp_path, how):
    """No subsidy paid after the end: 71,500.00 / 4 = 17,875.00 each."""
    if how == "lapsed":
        form = wind_down_form(**{"Landesförderung entfallen": "Ja"})
    else:
        form = wind_down_form()
        form.subsidies = [{"Anstellungskörperschaft": "Coesfeld",
                           "Förderung erhalten": D("0.00")}]
    settlement, _ = settle_form(form, tmp_path)
    (region,) = settlement.regions
    assert region.subsidy == D("0.00")
    assert nets(settlement) == {name: D("17875.00") for name in KEYS}


def test_actual_hours_do_not_change_the_equal_split(tmp_path):
    """Hours would give Coesfeld 5,000 × 400 / 1,000 = 2,000; R12 still gives 1,250 each."""
    form = wind_down_form()
    form.hours = [{"Kommune": n, "Stunden": D(h)} for n, h in
                  (("Coesfeld", 400), ("Billerbeck", 200), ("Havixbeck", 200),
                   ("Rosendahl", 200))]
    settlement, notices = settle_form(form, tmp_path)
    assert nets(settlement) == {name: D("1250.00") for name in KEYS}
    assert any("Die angegebenen Stunden werden dabei nicht berücksichtigt." in str(n)
               for n in notices)


def test_costs_more_than_twelve_months_after_the_end_are_input_errors(tmp_path):
    """2027 lies wholly beyond 31.12.2026 (end + 12 months): every cost row is named —
    a position with months (the Monate cell), one with 0 months but costs, the Sachkosten."""
    form = wind_down_form(2027)
    form.positions = [position("Coesfeld", "Case-Management Nord 1", 1, 3, "12000.00"),
                      position("Coesfeld", "Case-Management Nord 2", "0.5", 0, "500.00")]
    write(form, tmp_path / "input" / "Abrechnung.xlsx")
    result = run_kim("pruefen", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Die Eingabe enthält 3 Fehler:",
        "  – Abrechnung.xlsx: Personalkosten!D2: Stelle „Case-Management Nord 1“: 3 Monate in "
        "2027, aber nach dem Vertragsende am 31.12.2025 werden Kosten höchstens 12 Monate lang "
        "geteilt (§ 4 Abs. 3); in 2027 sind das 0 Monate.",
        "  – Abrechnung.xlsx: Personalkosten!D3: Stelle „Case-Management Nord 2“: 0 Monate in "
        "2027, aber nach dem Vertragsende am 31.12.2025 werden Kosten höchstens 12 Monate lang "
        "geteilt (§ 4 Abs. 3); in 2027 sind das 0 Monate.",
        "  – Abrechnung.xlsx: Sachkosten!A2: Sachkosten „Pauschale“ in 2027: nach dem "
        "Vertragsende am 31.12.2025 werden Kosten höchstens 12 Monate lang geteilt "
        "(§ 4 Abs. 3), also längstens bis zum 31.12.2026; für 2027 sind keine Kosten mehr "
        "abzurechnen.",
        "Es wurde nichts geschrieben. Bitte die genannten Zellen korrigieren und erneut starten.",
    ]


def test_a_year_beyond_the_window_without_costs_is_no_error(tmp_path):
    """2028 with a position of 0 months and 0 costs only: nothing to split, no error."""
    form = wind_down_form(2028)
    form.positions = [position("Coesfeld", "Case-Management Nord 1", 1, 0, "0.00")]
    form.material = []
    settlement, _ = settle_form(form, tmp_path)
    assert nets(settlement) == {name: D("0.00") for name in KEYS}


def test_an_end_that_is_not_31_december_is_refused(tmp_path):
    """Costs are yearly, so the months of 2025 after a 30.06.2025 end cannot be told apart
    (Einstellungen row 13 is „Vertrag beendet zum“, after „Präfix Rechnungsnummer“)."""
    form = wind_down_form(**{"Vertrag beendet zum": date(2025, 6, 30)})
    write(form, tmp_path / "in" / "Abrechnung.xlsx")
    with pytest.raises(InputError) as caught:
        load_settlement(tmp_path / "in", TODAY)
    assert [str(p) for p in caught.value.problems] == [
        "Abrechnung.xlsx: Einstellungen!B13: 30.06.2025: als Vertragsende kann nur der 31.12. "
        "eines Jahres eingetragen werden, weil die Kosten je Kalenderjahr erfasst werden. Die "
        "Monate nach einem Ende im Laufe des Jahres (§ 4 Abs. 3) bitte gesondert abrechnen."]


@pytest.mark.slow
def test_the_wind_down_run_bills_every_former_partner_a_quarter(tmp_path):
    """The whole run: Buchungsliste rows with Anteil 0,25 and 1.250,00 for each party."""
    write(wind_down_form(), tmp_path / "input" / "Abrechnung.xlsx")
    result = run_kim("abrechnen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "output" / "2026" / "Buchungsliste_2026.csv").read_text("utf-8-sig")
    rows = [line.split(";") for line in text.splitlines()[1:]]
    assert [(r[3], r[5], r[7]) for r in rows] == [
        (name, "0,25", "1250,00") for name in KEYS]
    assert "Schlüssel: zu gleichen Teilen" in result.stdout

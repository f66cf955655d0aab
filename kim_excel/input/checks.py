"""Checks across sheets and workbooks, each a function that returns its problems.

``validate()`` runs every function of :data:`CHECKS` on the merged input, so all problems of
a run — structural ones (two employers in a region, hours for part of a region) and those of
single cells — are reported together (beancount's ``ops/validation.py`` pattern). The
checks never restate the calculation's decisions: which parties are active, whether a year
is a wind-down year and which key a region uses come from ``calculation.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from kim_excel.core.calculation import active_parties, is_wind_down, parties_by_region, split_keys
from kim_excel.core.model import EMPLOYER, CellRef, KeyBasis, Party, Problem, SettlementInput
from kim_excel.core.money import format_decimal
from kim_excel.core.names import normalise, unknown_party
from kim_excel.core.references import file_name_clashes
from kim_excel.core.schema import (
    FOERDERUNG,
    GEMEINDESCHLUESSEL,
    STEUERNUMMER,
    STUNDEN,
    UST_ID,
    VERTRAGSPARTEIEN,
)
from kim_excel.input.cells import describe
from kim_excel.input.merging import Trail

Check = Callable[[SettlementInput, Trail], list[Problem]]


def validate(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """Every check of :data:`CHECKS`, all problems in one list."""
    return [problem for check in CHECKS for problem in check(inp, trail)]


def is_active(inp: SettlementInput, party: Party) -> bool:
    """R6 and R12 as the calculation decides them: does ``party`` carry costs this run?"""
    return bool(active_parties(inp, party.region, [party]))


def billing_employers(inp: SettlementInput) -> list[tuple[Party, list[Party]]]:
    """Each employer that bills in this run (its region has costs and active partners),
    with those partners."""
    result = []
    for region, members in parties_by_region(inp.parties).items():
        active = active_parties(inp, region, members)
        employers = [p for p in active if p.is_employer]
        partners = [p for p in active if not p.is_employer]
        if len(employers) != 1 or not partners:
            continue
        employer = employers[0]
        if any(c.employer == employer.name for c in (*inp.positions, *inp.material_costs)):
            result.append((employer, partners))
    return result


def cost_file(inp: SettlementInput, employer: str) -> str:
    """The workbook that holds ``employer``'s costs (its own staff fills it in)."""
    return next((c.where.file for c in (*inp.positions, *inp.material_costs)
                 if c.employer == employer and c.where is not None), "")


# ------------------------------------------------------------------- regions


def check_employers(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """Exactly one active Anstellungskörperschaft per region (R6)."""
    problems = []
    year = inp.settings.year
    for region, members in parties_by_region(inp.parties).items():
        active = active_parties(inp, region, members)
        employers = [p for p in active if p.is_employer]
        left = [p for p in members if p.is_employer and p not in active]
        if len(employers) > 1:
            problems.append(Problem(
                f"Region {region} hat {year} mehrere Anstellungskörperschaften "
                f"({', '.join(p.name for p in employers)}); erlaubt ist genau eine. "
                f"Eine Nachfolgerin setzt voraus, dass die bisherige ausgeschieden ist "
                f"(„Ausgeschieden zum“ 31.12. eines früheren Jahres).",
                trail.party(employers[1].name, "Rolle")))
        elif employers or normalise(region) in trail.incomplete:
            continue
        elif left:
            problems.append(Problem(
                f"Anstellungskörperschaft {left[0].name} ist zum "
                f"{describe(left[0].exit_date)} ausgeschieden, für Region "
                f"{region} ist aber keine neue benannt (eine weitere Zeile der Region "
                f"mit der Rolle {EMPLOYER}). Ohne Anstellungskörperschaft kann die "
                f"Region nicht abgerechnet werden.", trail.party(left[0].name)))
        else:
            problems.append(Problem(
                f"Region {region} hat keine Anstellungskörperschaft; genau eine Partei "
                f"der Region braucht die Rolle {EMPLOYER} (geschrieben wie in der "
                f"Vorlage, auch die Region).", trail.party(members[0].name, "Region")))
    return problems


def check_key(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """A region keyed by Stundenanteil needs one above 0 (R4)."""
    problems = []
    for region, members in parties_by_region(inp.parties).items():
        active = active_parties(inp, region, members)
        if normalise(region) in trail.incomplete or not any(p.is_employer for p in active) \
                or not hours_complete(inp, active):
            continue
        basis, keys, _ = split_keys(inp, region, active, members)
        if basis is KeyBasis.STUNDENANTEIL and not any(keys.values()):
            problems.append(Problem(
                f"Region {region}: alle Stundenanteile sind 0, so lässt sich der "
                f"Eigenanteil nicht verteilen; erlaubt ist ein Stundenanteil über 0 "
                f"(z. B. 0,5) für mindestens eine Partei.",
                trail.party(active[0].name, "Stundenanteil")))
    return problems


def hours_complete(inp: SettlementInput, active: list[Party]) -> bool:
    """Hours for all active parties of a region or for none (else ``check_hours`` says so)."""
    given = [p.name in inp.hours for p in active]
    return all(given) or not any(given)


# ------------------------------------------------------------ names in the sheets


def check_cost_employers(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """Costs and subsidies only of active Anstellungskörperschaften."""
    by_name = {normalise(p.name): p for p in inp.parties}
    first = inp.sources[0] if inp.sources else ""
    rows = [(c.employer, c.where) for c in (*inp.positions, *inp.material_costs)] + [
        (name, trail.subsidies.get(normalise(name), CellRef(first, FOERDERUNG)))
        for name in inp.subsidies_received]
    problems = []
    for name, where in rows:
        party = by_name.get(normalise(name))
        if party is None and normalise(name) not in trail.incomplete:
            problems.append(Problem(unknown_party(
                name, inp.parties, f"erlaubt sind die Anstellungskörperschaften aus dem Blatt "
                f"„{VERTRAGSPARTEIEN}“ ({', '.join(p.name for p in inp.parties if p.is_employer)})"
                f"."), where))
        elif party is not None and not party.is_employer:
            problems.append(Problem(
                f"{name} ist keine Anstellungskörperschaft, sondern {party.role}; Kosten "
                f"rechnen nur die Anstellungskörperschaften ab.", where))
        elif party is not None and not is_active(inp, party):
            problems.append(Problem(
                f"{name} ist zum {describe(party.exit_date)} ausgeschieden und kann für "
                f"{inp.settings.year} keine Kosten abrechnen.", where))
    return problems


def check_advances(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """Advances only of active Partnerkommunen."""
    by_name = {normalise(p.name): p for p in inp.parties}
    problems = []
    for advance in inp.advances:
        party = by_name.get(normalise(advance.party))
        if party is None and normalise(advance.party) not in trail.incomplete:
            problems.append(Problem(unknown_party(
                advance.party, inp.parties, f"Abschläge zahlen nur die Partnerkommunen aus dem "
                                            f"Blatt „{VERTRAGSPARTEIEN}“."), advance.where))
        elif party is not None and party.is_employer:
            problems.append(Problem(f"{advance.party} ist Anstellungskörperschaft; Abschläge "
                                    f"zahlen nur Partnerkommunen.", advance.where))
        elif party is not None and not is_active(inp, party):
            problems.append(Problem(
                f"{advance.party} ist zum {describe(party.exit_date)} ausgeschieden und ist "
                f"{inp.settings.year} keine Partnerkommune mehr.", advance.where))
    return problems


def check_hours(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """Hours (R4) only for active parties, and then for every party of the region."""
    by_name = {normalise(p.name): p for p in inp.parties}
    sheet = CellRef(inp.sources[0] if inp.sources else "", STUNDEN)

    def where(name: str) -> CellRef:
        return trail.hours.get(normalise(name), sheet)

    problems = []
    for name in inp.hours:
        party = by_name.get(normalise(name))
        if party is None and normalise(name) not in trail.incomplete:
            problems.append(Problem(unknown_party(
                name, inp.parties, f"Stunden gibt es nur für die Kommunen aus dem Blatt "
                                   f"„{VERTRAGSPARTEIEN}“."), where(name)))
        elif party is not None and not is_active(inp, party):
            problems.append(Problem(f"{name} ist zum {describe(party.exit_date)} "
                                    f"ausgeschieden; für {inp.settings.year} sind keine "
                                    f"Stunden anzugeben.", where(name)))
    if inp.hours:
        problems += check_hours_per_region(inp, where)
    return problems


def check_hours_per_region(inp: SettlementInput, where) -> list[Problem]:
    given = {normalise(n): n for n in inp.hours}
    problems = []
    for region, members in parties_by_region(inp.parties).items():
        active = active_parties(inp, region, members)
        with_hours = [p for p in active if normalise(p.name) in given]
        if not with_hours:
            continue
        first = where(given[normalise(with_hours[0].name)])
        if len(with_hours) < len(active):
            missing = ", ".join(p.name for p in active if p not in with_hours)
            problems.append(Problem(
                f"Region {region}: Stunden fehlen für {missing}. Stunden "
                f"gelten als Schlüssel nur für alle Parteien einer Region zugleich "
                f"(oder für keine): bitte für {missing} ergänzen oder die "
                f"Stunden der Region löschen.", first))
        elif sum(inp.hours[given[normalise(p.name)]] for p in active) == 0:
            problems.append(Problem(f"Region {region}: die Summe der Stunden ist 0; erlaubt "
                                    f"sind Stunden ab 0, zusammen über 0.", first))
    return problems


def check_file_names(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """Two partners must not get the same file after transliteration (``a/b`` and ``a_b``;
    ``Lüdinghausen`` and ``Luedinghausen``), or one bill would overwrite the other."""

    partners = [p.name for p in inp.parties if not p.is_employer and is_active(inp, p)]
    return [Problem(f"„{partner}“ und „{earlier}“ ergäben denselben Dateinamen {file}; bitte "
                    f"einen der Namen eindeutig machen (Buchstaben und Ziffern genügen).",
                    trail.party(partner))
            for partner, earlier, file in file_name_clashes(inp.settings.year, partners)]


# ------------------------------------------------------------------ wind-down


def wind_down_months(end: date, year: int) -> int:
    """R12: how many months of ``year`` lie within 12 months after the end (31 Dec).

    >>> wind_down_months(date(2025, 12, 31), 2026), wind_down_months(date(2025, 12, 31), 2027)
    (12, 0)
    """
    from dateutil.relativedelta import relativedelta

    limit = end + relativedelta(months=12)
    return sum(1 for m in range(1, 13) if end < date(year, m, 1) and
               (date(year, m, 1) + relativedelta(months=1, days=-1)) <= limit)


def check_wind_down(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """R12: costs after the end count for at most 12 months past the end date; a year
    wholly beyond that has no shared costs at all."""
    if not is_wind_down(inp):
        return []
    end = inp.settings.contract_end
    year = inp.settings.year
    months = wind_down_months(end, year)
    rule = (f"nach dem Vertragsende am {describe(end)} werden Kosten höchstens 12 Monate lang "
            f"geteilt (§ 4 Abs. 3)")
    problems = [
        Problem(f"Stelle „{p.label}“: {format_decimal(p.months)} Monate in {year}, aber "
                f"{rule}; in {year} sind das {months} Monate.", p.months_where or p.where)
        for p in inp.positions if p.months > months or (months == 0 and p.personnel_costs > 0)]
    if months == 0:
        problems += [
            Problem(f"Sachkosten „{c.label or c.kind}“ in {year}: {rule}, also längstens bis "
                    f"zum {describe(date(end.year + 1, 12, 31))}; für {year} sind keine "
                    f"Kosten mehr abzurechnen.", c.where)
            for c in inp.material_costs if c.amount > 0]
    return problems


# ------------------------------------------------------------ who bills needs


def check_bank_details(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """An employer that bills in this run needs its IBAN (BIC and Kreditinstitut come from
    it when empty); nobody else needs bank details."""
    problems = []
    for employer, _ in billing_employers(inp):
        file = cost_file(inp, employer.name)
        name = employer.name
        if not employer.iban:
            problems.append(Problem(
                f"IBAN fehlt für die Anstellungskörperschaft {name}: sie steht auf jeder "
                f"Abrechnung als Zahlungsverbindung.", trail.party(name, "IBAN", file)))
            continue
        if not employer.bic:
            problems.append(Problem(f"BIC fehlt für die Anstellungskörperschaft {name}.",
                                    trail.party(name, "BIC", file)))
        if not employer.bank:
            problems.append(Problem(f"Kreditinstitut fehlt für die Anstellungskörperschaft "
                                    f"{name}.", trail.party(name, "Kreditinstitut", file)))
    return problems


def check_einvoice_sellers(inp: SettlementInput, trail: Trail) -> list[Problem]:
    """SPEC § 8: an employer that writes e-invoices (a partner of its region has a
    Leitweg-ID) needs a contact, and an identifier: its Gemeindeschlüssel at 0 %, above
    0 % its USt-IdNr. or Steuernummer."""

    problems = []
    for employer, partners in billing_employers(inp):
        buyers = [p.name for p in partners if p.leitweg_id]
        if not buyers:
            continue
        file = cost_file(inp, employer.name)
        because = (f"für die E-Rechnung (XRechnung) an {', '.join(buyers)}, die eine "
                   f"Leitweg-ID hat" + ("ben" if len(buyers) > 1 else ""))
        for header, value in (("Ansprechpartner", employer.contact),
                              ("Telefon", employer.phone), ("E-Mail", employer.email)):
            if not value:
                problems.append(Problem(
                    f"„{header}“ fehlt für die Anstellungskörperschaft {employer.name}; "
                    f"erforderlich {because}.", trail.party(employer.name, header, file)))
        terms = inp.terms.get(employer.name)
        vat = terms.vat_rate if terms is not None else Decimal(0)
        if vat == 0 and not employer.gemeindeschluessel:
            problems.append(Problem(
                f"„{GEMEINDESCHLUESSEL}“ fehlt für die Anstellungskörperschaft "
                f"{employer.name}; erforderlich {because} ohne Umsatzsteuer (8 Ziffern, "
                f"z. B. 05558012).", trail.party(employer.name, GEMEINDESCHLUESSEL, file)))
        elif vat > 0 and not (employer.ust_id or employer.steuernummer):
            problems.append(Problem(
                f"„{UST_ID}“ oder „{STEUERNUMMER}“ fehlt für die Anstellungskörperschaft "
                f"{employer.name}; erforderlich {because} mit Umsatzsteuer.",
                trail.party(employer.name, UST_ID, file)))
    return problems


CHECKS: tuple[Check, ...] = (
    check_employers, check_key, check_cost_employers, check_hours, check_advances,
    check_file_names, check_wind_down, check_bank_details, check_einvoice_sellers,
)

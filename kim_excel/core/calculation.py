"""The settlement rules R1–R10 and R12 of SPEC § 3, as a pure function of plain data.

``settle(SettlementInput) -> Settlement`` never opens a file, reads the clock or the
environment; :func:`check_settlement` proves the result's invariants after every run.
The input is assumed valid (see ``validation.py``), so nothing here talks to users.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from kim_excel.core.dates import due_date, programme_rate
from kim_excel.core.errors import InvariantViolation
from kim_excel.core.model import (
    Advance,
    KeyBasis,
    Notice,
    Party,
    PositionResult,
    RegionResult,
    Settlement,
    SettlementInput,
    Severity,
    Share,
)
from kim_excel.core.money import CENT, ZERO, format_decimal, format_eur, round_cents, round_cents_of

MIN_ELIGIBLE_VZAE = Decimal("0.5")


def settle(inp: SettlementInput) -> Settlement:
    """Settle one year: per region costs → subsidy → Eigenanteil → shares → bills."""
    settings = inp.settings
    rate = settings.subsidy_rate if settings.subsidy_rate is not None else programme_rate(
        settings.year
    )
    notices: list[Notice] = []
    if settings.subsidy_rate is None:
        notices.append(
            Notice(
                f"Förderbetrag je VZÄ nicht angegeben: verwendet wird der Satz des "
                f"Programms für {settings.year}, {format_eur(rate)}.",
                Severity.INFO,
            )
        )
    regions = []
    members = parties_by_region(inp.parties)  # once: a country has thousands of parties
    advances = advances_by_party(inp)
    items = advance_items_by_party(inp)
    skipped = []
    for region in members:
        result = settle_region(inp, region, rate, notices, members[region], advances, items)
        if result is not None:
            regions.append(result)
        else:
            skipped.append(region)
    settlement = Settlement(
        settings=settings,
        subsidy_rate=rate,
        subsidy_rate_is_default=settings.subsidy_rate is None,
        regions=tuple(regions),
        notices=tuple(notices),
        skipped_regions=tuple(skipped),
    )
    check_settlement(settlement, inp)
    return settlement


def regions_of(parties: Iterable[Party]) -> list[str]:
    """Region names in the order they first appear in the parties sheet."""
    return list(dict.fromkeys(p.region for p in parties))


def is_wind_down(inp: SettlementInput) -> bool:
    """R12: the year lies after the mutually agreed end of the whole agreement."""
    end = inp.settings.contract_end
    return end is not None and inp.settings.year > end.year


def parties_by_region(parties: Iterable[Party]) -> dict[str, list[Party]]:
    """Every party under its region, regions in the order of the parties sheet."""
    groups: dict[str, list[Party]] = {}
    for party in parties:
        groups.setdefault(party.region, []).append(party)
    return groups


def active_parties(inp: SettlementInput, region: str,
                   members: list[Party] | None = None) -> list[Party]:
    """The parties that carry the region's costs in the year (R6; R12: those at the end).

    ``members``: the region's parties, if the caller has grouped them already.
    """
    year = inp.settings.contract_end.year if is_wind_down(inp) else inp.settings.year
    if members is None:
        members = [p for p in inp.parties if p.region == region]
    return [p for p in members if p.is_active_in(year)]


def settle_region(
    inp: SettlementInput, region: str, rate: Decimal, notices: list[Notice],
    members: list[Party] | None = None, advances: dict[str, Decimal] | None = None,
    items: dict[str, tuple[Advance, ...]] | None = None,
) -> RegionResult | None:
    settings = inp.settings
    if members is None:
        members = [p for p in inp.parties if p.region == region]
    parties = active_parties(inp, region, members)
    employer = next(p for p in parties if p.is_employer)
    positions = [p for p in inp.positions if p.employer == employer.name]
    material = tuple(c for c in inp.material_costs if c.employer == employer.name)
    if not positions and not material:
        notices.append(
            Notice(
                f"Region {region} übersprungen: keine Kosten für die Anstellungskörperschaft "
                f"{employer.full_name} angegeben.",
                Severity.INFO,
            )
        )
        return None

    position_results = tuple(subsidise(p, rate) for p in positions)
    notices.extend(small_position_notices(positions, employer))
    personnel = sum((p.personnel_costs for p in positions), ZERO)
    material_total = sum((c.amount for c in material), ZERO)
    costs = personnel + material_total
    computed = sum((r.subsidy for r in position_results), ZERO)
    received = inp.subsidies_received.get(employer.name)

    subsidy = deducted_subsidy(settings, region, computed, received, notices)
    eigenanteil = costs - subsidy
    if eigenanteil < 0:
        notices.append(
            Notice(
                f"Region {region}: die Förderung übersteigt die Kosten; der Eigenanteil ist "
                f"negativ ({format_eur(eigenanteil)}) und wird den Partnern erstattet."
            )
        )

    terms = inp.terms_of(employer.name)
    if terms.settlement_date is None:  # the ledger decides it first (life.settle_dated)
        raise InvariantViolation(f"no settlement date for {employer.name}")
    due = due_date(terms.settlement_date, terms.payment_days)
    if is_wind_down(inp):
        notices.append(wind_down_notice(inp, region, parties, subsidy))
    basis, keys, inherited = split_keys(inp, region, parties, members)
    total = exact_sum(keys.values())  # exact: no row order can change a cent
    shares = split_eigenanteil(eigenanteil, parties, keys, total)
    if advances is None:
        advances = advances_by_party(inp)
    if items is None:
        items = advance_items_by_party(inp)
    billed = bill_shares(shares, keys, total, inherited, eigenanteil, terms.vat_rate, due,
                         advances, items)
    active = {p.name for p in parties}  # names are unique (validation)
    exited = tuple(p for p in members if p.name not in active)
    return RegionResult(
        region=region,
        employer=employer,
        positions=position_results,
        material_costs=material,
        personnel_costs=personnel,
        material_costs_total=material_total,
        costs=costs,
        subsidy_computed=computed,
        subsidy_received=received,
        subsidy=subsidy,
        eigenanteil=eigenanteil,
        key_basis=basis,
        key_total=total,
        shares=tuple(billed),
        terms=terms,
        due_date=due,
        exited=exited,
        wind_down=is_wind_down(inp),
    )


def small_position_notices(positions, employer: Party) -> list[Notice]:
    """R2: positions under 0.5 VZÄ are not eligible in the programme; their costs count."""
    return [
        Notice(
            f"Stelle „{p.label}“ ({employer.full_name}) hat {format_decimal(p.vzae)} VZÄ: "
            f"Stellen unter 0,5 VZÄ werden im Landesprogramm nicht gefördert. "
            f"Ihre Kosten zählen mit, die berechnete Förderung bitte prüfen.",
            where=p.where,
        )
        for p in positions if p.vzae < MIN_ELIGIBLE_VZAE
    ]


def deducted_subsidy(settings, region: str, computed: Decimal, received: Decimal | None,
                     notices: list[Notice]) -> Decimal:
    """What R3 deducts: 0 if lapsed (R5), the received subsidy if stated, else the computed."""
    if settings.subsidy_lapsed:
        if received:
            notices.append(Notice(
                f"Region {region}: Landesförderung ist als entfallen markiert; die "
                f"angegebene erhaltene Förderung von {format_eur(received)} wird nicht "
                f"abgezogen (R5)."))
        return ZERO
    if received is None:
        return computed
    if received != computed:
        notices.append(Notice(
            f"Region {region}: erhaltene Förderung {format_eur(received)} weicht von "
            f"der berechneten {format_eur(computed)} ab "
            f"(Differenz {format_eur(received - computed)}); abgerechnet wird die "
            f"erhaltene."))
    return received


def bill_shares(shares, keys: dict[str, Fraction], total: Fraction,
                inherited: dict[str, Fraction], eigenanteil: Decimal, vat_rate: Decimal, due,
                advances: dict[str, Decimal], items: dict[str, tuple[Advance, ...]],
                ) -> list[Share]:
    """R8–R10 on each split share: the employer carries its own, the partners get bills."""
    billed = []
    for party, net in shares:
        if party.is_employer:
            billed.append(
                Share(party, keys[party.name], keys[party.name] / total, net, gross=net,
                      balance=net, inherited=inherited.get(party.name, Fraction(0)))
            )
            continue
        vat = round_cents(net * vat_rate)
        gross = net + vat
        paid = advances.get(party.name, ZERO)
        billed.append(
            Share(
                party=party,
                key=keys[party.name],
                fraction=keys[party.name] / total,
                net=net,
                vat=vat,
                gross=gross,
                advances=paid,
                balance=gross - paid,
                due_date=due,
                inherited=inherited.get(party.name, Fraction(0)),
                cent_correction=net - exact_share(eigenanteil, keys[party.name], total),
                advance_items=items.get(party.name, ()),
            )
        )
    return billed


def wind_down_notice(inp: SettlementInput, region: str, parties: list[Party],
                     subsidy: Decimal) -> Notice:
    """R12 says what is split (personnel and Sachkosten), not whether the subsidy still
    comes: it is deducted as in every year (§ 2 uses it to cover the costs), so the clerk
    is asked to state what was actually received."""
    end = inp.settings.contract_end
    text = (f"{inp.settings.year} ist Abwicklungsjahr: Der Vertrag endete am "
            f"{end:%d.%m.%Y} (§ 4 Abs. 3); die Kosten werden zu gleichen Teilen auf die "
            f"bisherigen Vertragsparteien der Region {region} verteilt "
            f"({', '.join(p.name for p in parties)}). ")
    if inp.settings.subsidy_lapsed:
        text += "Landesförderung ist als entfallen markiert: nichts abgezogen."
    else:
        text += (f"Abgezogen ist eine Landesförderung von {format_eur(subsidy)}: bitte prüfen, "
                 f"ob sie für diese Monate tatsächlich gezahlt wird (sonst im Blatt "
                 f"„Förderung“ den erhaltenen Betrag, z. B. 0, eintragen).")
    if any(p.name in inp.hours for p in parties):
        text += " Die angegebenen Stunden werden dabei nicht berücksichtigt."
    return Notice(text)


def subsidise(position, rate: Decimal) -> PositionResult:
    """R2: ``min(rate × VZÄ × months / 12, personnel costs)``, rounded to cents.

    2.5 VZÄ are usually several positions: 1.0 VZÄ for 12 months at 57,000 → 57,000.00;
    0.5 VZÄ for 7.5 months → 57,000 × 0.5 × 7.5 / 12 = 17,812.50; capped at costs of 15,000.
    """
    uncapped = round_cents(rate * position.vzae * position.months / 12)
    return PositionResult(position, min(uncapped, position.personnel_costs), uncapped)


def split_keys(
    inp: SettlementInput, region: str, parties: list[Party], members: list[Party] | None = None
) -> tuple[KeyBasis, dict[str, Fraction], dict[str, Fraction]]:
    """R4–R6 and R12: the exact key of each active party, and the Stundenanteil it inherited.

    Keys are fractions (R7): Rosendahl's 0.625 shared by three is 5/24, not 0.2083…3 cut
    after 28 digits, so a share on exactly half a cent still rounds up.
    """
    if inp.settings.subsidy_lapsed or is_wind_down(inp):
        return KeyBasis.EQUAL, {p.name: Fraction(1) for p in parties}, {}
    if any(p.name in inp.hours for p in parties):
        return KeyBasis.HOURS, {p.name: Fraction(inp.hours[p.name]) for p in parties}, {}
    if members is None:
        members = [p for p in inp.parties if p.region == region]
    active = {p.name for p in parties}  # names are unique (validation)
    left = [p for p in members if p.name not in active]
    freed = exact_sum(Fraction(p.stundenanteil) for p in left)
    inherited = freed / len(parties)
    keys = {p.name: plus(p.stundenanteil, inherited) for p in parties}
    return KeyBasis.STUNDENANTEIL, keys, ({p.name: inherited for p in parties} if left else {})


def plus(stundenanteil: Decimal, inherited: Fraction) -> Fraction:
    """``stundenanteil + inherited``, exact, normalised once (a country has 5,000 parties)."""
    numerator, denominator = stundenanteil.as_integer_ratio()
    return Fraction(numerator * inherited.denominator + inherited.numerator * denominator,
                    denominator * inherited.denominator)


def exact_sum(values: Iterable[Fraction]) -> Fraction:
    """The sum of fractions over their common denominator, normalised once."""
    values = list(values)
    common = math.lcm(*(v.denominator for v in values)) if values else 1
    return Fraction(sum(v.numerator * (common // v.denominator) for v in values), common)


def exact_share(eigenanteil: Decimal, key: Fraction, total: Fraction) -> Decimal:
    """R7 for one partner: ``round(Eigenanteil × key / total, 2)``, with nothing rounded
    before the cent (the letter's ``ROUND`` formula): 1,717.56 × (1 + 0.625/3) / 2.6 is
    exactly 798.225 and gives 798.23. Integers scaled so that the one division is the
    rounding itself."""
    numerator, denominator = eigenanteil.as_integer_ratio()
    return round_cents_of(100 * numerator * key.numerator * total.denominator,
                          denominator * key.denominator * total.numerator)


def split_eigenanteil(
    eigenanteil: Decimal, parties: list[Party], keys: dict[str, Fraction], total: Fraction
) -> list[tuple[Party, Decimal]]:
    """R7: each partner pays ``round(Eigenanteil × key / total, 2)``; the employer the rest.

    Five equal partners of 100.00: 20.00 each. Three equal parties of 100.00 (one the
    employer): partners 33.33 each, the employer 33.34, so the parts add up to the cent.

    A tiny Eigenanteil can make the partners' rounding take more than the employer's whole
    share: 0.03 in six equal parts is 0.005 each, five partners would pay 0.01 and the
    employer's rest would be −0.02 (the partners overpaying). Then the partners rounded
    furthest give back one cent each (ties by name) until the rest is 0, so no share has
    the opposite sign of the Eigenanteil: here three partners pay 0.01, two 0.00.
    """
    rounded = {p.name: exact_share(eigenanteil, keys[p.name], total)
               for p in parties if not p.is_employer}
    rest = eigenanteil - sum(rounded.values(), ZERO)
    sign = 1 if eigenanteil >= 0 else -1
    if rest * sign < 0:
        exact = {name: Fraction(eigenanteil) * keys[name] / total for name in rounded}
        overshoot = sorted(rounded,
                           key=lambda n: (-(Fraction(rounded[n]) - exact[n]) * sign, n))
        for name in overshoot:
            if rest * sign >= 0:
                break
            rounded[name] -= sign * CENT
            rest += sign * CENT
    partners = [(p, rounded[p.name]) for p in parties if not p.is_employer]
    employer = next(p for p in parties if p.is_employer)
    return [(employer, rest), *partners]


def advances_by_party(inp: SettlementInput) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for advance in inp.advances:
        totals[advance.party] = totals.get(advance.party, ZERO) + advance.amount
    return totals


def advance_items_by_party(inp: SettlementInput) -> dict[str, tuple[Advance, ...]]:
    """Each partner's rows of ``Abschläge``, in sheet order (itemised in the trail)."""
    items: dict[str, list[Advance]] = {}
    for advance in inp.advances:
        items.setdefault(advance.party, []).append(advance)
    return {party: tuple(rows) for party, rows in items.items()}


def check_bill(share: Share, year: int, wind_down: bool, fail) -> None:
    """One party's amounts: whole cents, gross = net + VAT, balance = gross − advances."""
    amounts = (share.net, share.vat, share.gross, share.advances, share.balance)
    if any(a != round_cents(a) for a in amounts):
        fail(f"{share.party.name}: amount not in whole cents")
    if share.gross != share.net + share.vat or share.balance != share.gross - share.advances:
        fail(f"{share.party.name}: gross or balance inconsistent")
    if not share.party.is_active_in(year) and not wind_down:
        fail(f"{share.party.name} has left and must not be billed")

def check_split(region: RegionResult, fail) -> None:
    """R7 recalculated from the stored keys, as the letter's formulas do."""
    keys = [s.key for s in region.shares]
    if not all(isinstance(k, Fraction) for k in keys):
        fail(f"{region.region}: keys must be exact fractions")
    if region.key_total != exact_sum(keys):
        fail(f"{region.region}: the key total is not the sum of the keys")
    sign = (region.eigenanteil > 0) - (region.eigenanteil < 0)
    for share in region.shares:
        name = share.party.name
        if share.net * sign < 0:
            fail(f"{name}: share has the opposite sign of the Eigenanteil")
        if (share.fraction.numerator * region.key_total.numerator * share.key.denominator
                != share.key.numerator * region.key_total.denominator
                * share.fraction.denominator):  # fraction == key / key total, without a gcd
            fail(f"{name}: fraction != key / key total")
        if (region.key_basis is KeyBasis.STUNDENANTEIL
                and share.key != plus(share.party.stundenanteil, share.inherited)):
            fail(f"{name}: key != Stundenanteil + inherited")
        if share.is_employer:
            continue  # the remainder: the sum check covers it
        if share.cent_correction not in (ZERO, -sign * CENT):
            fail(f"{name}: gives back {share.cent_correction}, at most one cent is allowed")
        formula = exact_share(region.eigenanteil, share.key, region.key_total)
        if share.net != formula + share.cent_correction:
            fail(f"{name}: share {share.net} != its formula {formula} "
                 f"+ give-back {share.cent_correction}")


def check_settlement(settlement: Settlement, inp: SettlementInput) -> None:
    """Invariants that hold for every settlement, or kim-excel has a bug.

    - per region: costs = personnel + material; Eigenanteil = costs − subsidy;
      the shares add up to the Eigenanteil to the cent;
    - R7 exactly: the keys are fractions adding up to the key total; every partner's share
      is what its formula ``ROUND(Eigenanteil × key / total; 2)`` recalculates to (half away
      from zero, nothing cut off before), plus its give-back of at most one cent; no share
      has the opposite sign of the Eigenanteil;
    - exactly one employer per region; every active party of a settled region appears
      exactly once in all of the settlement; no party that has left is billed;
    - every amount is whole cents; gross = net + VAT; balance = gross − advances.
    """
    seen: set[str] = set()
    members = parties_by_region(inp.parties)

    def fail(message: str) -> None:
        raise InvariantViolation(message)

    for region in settlement.regions:
        if region.costs != region.personnel_costs + region.material_costs_total:
            fail(f"{region.region}: costs do not add up")
        if region.eigenanteil != region.costs - region.subsidy:
            fail(f"{region.region}: Eigenanteil != costs - subsidy")
        if sum((s.net for s in region.shares), ZERO) != region.eigenanteil:
            fail(f"{region.region}: shares do not add up to the Eigenanteil")
        if sum(1 for s in region.shares if s.is_employer) != 1:
            fail(f"{region.region}: not exactly one employer")
        check_split(region, fail)
        expected = {p.name for p in active_parties(inp, region.region,
                                                   members.get(region.region, []))}
        names = [s.party.name for s in region.shares]
        if sorted(names) != sorted(expected):
            fail(f"{region.region}: parties {names} != active {sorted(expected)}")
        for share in region.shares:
            if share.party.name in seen:
                fail(f"{share.party.name} appears twice")
            seen.add(share.party.name)
            check_bill(share, settlement.year, region.wind_down, fail)

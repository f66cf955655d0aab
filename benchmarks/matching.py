"""Benchmark of the matching (``core/matching.py``): does it grow linearly?

Generates M bills (letters and corrections of partners with umlaut names, Kassenzeichen,
refunds, three employer accounts, one with a number prefix) and N bank entries with the texts
partners really send: the Verwendungszweck cut into lines of 27 or 35 characters (MT940 and
some banks cut inside words and numbers), names written with umlauts where the number has
``ue``, Kassenzeichen only, several bills in one payment, payments without any reference,
refunds paid out, and salaries, rent and fees that concern no bill. Then it times
:func:`match` and prints ``entries × bills → seconds`` for 1k×1k, 10k×10k and 20k×20k.

    python3 benchmarks/matching.py              # median of 3 per size
    python3 benchmarks/matching.py --repeat 1
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kim_excel.core.bank import BankEntry  # noqa: E402
from kim_excel.core.german import thousands  # noqa: E402
from kim_excel.core.matching import Matching, OpenItem, match  # noqa: E402
from kim_excel.core.references import invoice_number, payment_reference  # noqa: E402

YEAR = 2024
SIZES = ((1_000, 1_000), (10_000, 10_000), (20_000, 20_000))
STEMS = ("Aach", "Alten", "Bier", "Borg", "Brück", "Buch", "Dör", "Eich", "Elms", "Fall",
         "Frei", "Fürsten", "Gold", "Grün", "Hag", "Hassel", "Heil", "Herz", "Hoh", "Holz",
         "Horn", "Kalk", "Kirch", "Königs", "Lauter", "Lich", "Lüding", "Mar", "Mühl", "Nord",
         "Oster", "Pader", "Rade", "Rosen", "Salz", "Schön", "See", "Sonn", "Stein", "Sülz",
         "Tann", "Vier", "Wald", "Weiß", "Zell")
ENDINGS = ("hausen", "heim", "berg", "bach", "dorf", "feld", "hagen", "rode", "stedt", "beck",
           "brück", "büren", "ingen", "kirchen", "lohe", "münster", "au", "tal", "werth", "horst")
ACCOUNTS = ("DE02120300000000202051", "DE89370400440532013000", "DE75512108001245126199")
PREFIX = {ACCOUNTS[2]: "RE-KIM-"}  # one employer prefixes its numbers
NOISE = ("Gehalt {m}/2024 Personalnr. {n}", "Miete Buero {m}/2024", "Telefon Rechnung {n}",
         "Abschlag Strom Vertrag {n}", "Kontofuehrung {m}/2024", "Erstattung Reisekosten {n}")


@dataclass
class Partner:
    name: str
    account: str
    kassenzeichen: str
    iban: str
    bills: list[OpenItem]


def partner_names(count: int, rng: random.Random) -> list[str]:
    """Unique names like ``Mühlsteinhausen`` (45 × 45 × 20 = 40,500 of them)."""
    names = [f"{a}{b.lower()}{c}" for a in STEMS for b in STEMS if a != b for c in ENDINGS]
    if count > len(names):
        names += [f"{n} {i}" for i in range(2, 2 + count // len(names)) for n in names]
    return rng.sample(names, count)


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def make_bills(count: int, rng: random.Random) -> list[Partner]:
    """Partners with a letter each, two in three also a correction: ``count`` bills."""
    partners: list[Partner] = []
    bills = 0
    for name in partner_names(count, rng):
        if bills >= count:
            break
        account = rng.choice(ACCOUNTS)
        partner = Partner(name, account, f"KZ {rng.randint(10**7, 10**8 - 1)}",
                          f"DE{rng.randint(10**19, 10**20 - 1)}", [])
        for correction in range(2 if rng.random() < 0.67 and bills + 1 < count else 1):
            amount = cents(rng, 1_000, 90_000) * (-1 if rng.random() < 0.1 else 1)
            number = PREFIX.get(account, "") + invoice_number(YEAR, name, correction)
            partner.bills.append(OpenItem(
                number=number, partner=name, kassenzeichen=partner.kassenzeichen,
                amount=amount, paid=Decimal("0.00"),
                due=date(2025, 3, 1) + timedelta(days=120 * correction + rng.randint(0, 30)),
                account=account, partner_ibans=frozenset({partner.iban})))
            bills += 1
        partners.append(partner)
    return partners


def cut(text: str, rng: random.Random) -> tuple[str, ...]:
    """Lines of 27 (MT940) or 35 characters, cut anywhere, even inside a number."""
    width = rng.choice((27, 35))
    return tuple(text[i:i + width] for i in range(0, len(text), width))


def umlauts(text: str, partner: str, rng: random.Random) -> str:
    """The payer sometimes writes the name as it is spelled (``Lüdinghausen``)."""
    return text.replace(invoice_number(YEAR, partner).split("-", 1)[1], partner) \
        if rng.random() < 0.3 else text


def entry_text(partner: Partner, rng: random.Random) -> tuple[Decimal, tuple[str, ...], str]:
    """(amount, Verwendungszweck lines, payer IBAN) of one payment a partner might send."""
    bill = rng.choice(partner.bills)
    kind = rng.random()
    if kind < 0.55:  # the Verwendungszweck as printed on the letter (or without Kassenzeichen)
        kz = partner.kassenzeichen if rng.random() < 0.5 else ""
        text = umlauts(payment_reference(YEAR, bill.number, kz), partner.name, rng)
        amount = bill.amount if rng.random() < 0.8 else bill.amount - cents(rng, 1, 500)
    elif kind < 0.75:  # the Kassenzeichen only
        text, amount = f"{partner.kassenzeichen} Eigenanteil KIM {YEAR}", bill.amount
    elif kind < 0.85 and len(partner.bills) > 1:  # both bills in one payment
        text = "Rechnungen " + " und ".join(b.number for b in partner.bills)
        amount = sum(b.amount for b in partner.bills)
    else:  # no reference at all: a proposal at best
        text, amount = f"Zahlung Stadt {partner.name}", bill.amount
    return amount, cut(text, rng), partner.iban


def make_entries(count: int, partners: list[Partner], rng: random.Random) -> list[BankEntry]:
    entries = []
    for n in range(count):
        booked = date(2025, 1, 1) + timedelta(days=rng.randint(0, 364))
        if rng.random() < 0.25:  # salaries, rent, fees: nothing to do with the bills
            text = rng.choice(NOISE).format(m=rng.randint(1, 12), n=rng.randint(1000, 99999))
            entries.append(BankEntry(f"E{n}", rng.choice(ACCOUNTS), -cents(rng, 20, 5_000),
                                     booked, name="Max Mustermann", iban="DE" + "1" * 20,
                                     remittance=cut(text, rng)))
            continue
        partner = rng.choice(partners)
        amount, lines, iban = entry_text(partner, rng)
        entries.append(BankEntry(f"E{n}", partner.account, amount, booked,
                                 name=f"Stadtkasse {partner.name}", iban=iban,
                                 remittance=lines))
    return entries


def scenario(entries: int, bills: int, seed: int = 2024) -> tuple[list[BankEntry],
                                                                   list[OpenItem]]:
    rng = random.Random(seed)
    partners = make_bills(bills, rng)
    return (make_entries(entries, partners, rng),
            [bill for partner in partners for bill in partner.bills])


def timed(entries: list[BankEntry], items: list[OpenItem]) -> tuple[float, float, Matching]:
    """Wall time and CPU time (less disturbed by other load on the machine) of one match."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = match(entries, items)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def comma(number: float) -> str:
    return f"{number:.2f}".replace(".", ",")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for n, m in SIZES:
        entries, items = scenario(n, m)
        runs = [timed(entries, items) for _ in range(args.repeat)]
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        result = runs[0][2]
        allocated = len({a.entry for a in result.allocations})
        print(f"{thousands(n)} × {thousands(m)} → {comma(wall)} s (CPU {comma(cpu)} s, "
              f"{cpu / n * 1e6:.0f} µs je Buchung; zugeordnet {thousands(allocated)}, "
              f"Vorschläge {len(result.proposals)}, ungeklärt {len(result.unexplained)}, "
              f"fremd {len(result.unrelated)})")


if __name__ == "__main__":
    main()

"""Synthetic agreements for the benchmark, written through the real input form.

A region is one agreement: an Anstellungskörperschaft and its partners, with one to three
positions, Sachkosten of every kind, and the occasional complication of a real county
(a party that left last year, actual hours as key, a stated subsidy, advances). Everything
is drawn from a seeded generator, so the same scenario gives the same bytes every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.core.files import ascii_name
from kim_excel.core.model import EMPLOYER, KOSTENARTEN, PARTNER
from kim_excel.documents.template import FormContent

YEAR = 2024
BLZ = "40154530"  # Sparkasse Westmünsterland
BIC = "WELADE3WXXX"

STEMS = (
    "Aach", "Alten", "Bier", "Borg", "Brück", "Buch", "Dör", "Eich", "Elms", "Fall", "Frei",
    "Fürsten", "Gold", "Grün", "Hag", "Hassel", "Heil", "Herz", "Hoh", "Holz", "Horn", "Iser",
    "Kalk", "Kirch", "Königs", "Lauter", "Lich", "Lin", "Mar", "Mühl", "Nord", "Oster", "Pader",
    "Rade", "Rhein", "Rosen", "Salz", "Schön", "See", "Sonn", "Stein", "Sülz", "Tann", "Vier",
    "Wald", "Warm", "Weiß", "Wester", "Wies", "Wolfs",
)
SUFFIXES = (
    "bach", "berg", "born", "brück", "burg", "dorf", "feld", "furt", "hagen", "hausen", "heim",
    "hof", "holz", "horst", "kirchen", "lohe", "münster", "rode", "stadt", "stedt", "tal",
    "walde", "weiler", "werth",
)
PREFIXES = ("", "Alt", "Neu", "Ober", "Nieder", "Groß", "Klein", "Bad ", "Sankt ", "Hohen",
            "Unter", "Mittel", "West", "Ost", "Süd")
STREETS = ("Markt", "Rathausplatz", "Hauptstraße", "Kirchplatz", "Am Rathaus", "Schloßstraße")


@dataclass(frozen=True)
class Scenario:
    """What a benchmark run settles: partner counts per region, in one workbook."""

    name: str
    description: str
    partners_per_region: tuple[int, ...]
    seed: int = 2024

    @property
    def regions(self) -> int:
        return len(self.partners_per_region)

    @property
    def parties(self) -> int:
        return sum(self.partners_per_region) + self.regions


def uniform(name: str, description: str, regions: int, low: int, high: int,
            seed: int) -> Scenario:
    """Regions with ``low``..``high`` partners each, plus the employer."""
    rng = random.Random(seed)
    return Scenario(name, description,
                    tuple(rng.randint(low, high) for _ in range(regions)), seed)


def fixed(name: str, description: str, partners: int, per_region: int = 10) -> Scenario:
    """``partners`` partners in regions of ``per_region`` partners and one employer each."""
    full, rest = divmod(partners, per_region)
    return Scenario(name, description, (per_region,) * full + ((rest,) if rest else ()))


def municipality_names(count: int, seed: int) -> list[str]:
    """``count`` distinct German-looking names, distinct as file names too."""
    rng = random.Random(seed)
    combos = [f"{p}{s.lower() if p and not p.endswith(' ') else s}{x}"
              for p in PREFIXES for s in STEMS for x in SUFFIXES]
    rng.shuffle(combos)
    names, taken = [], set()
    round_ = 0
    while len(names) < count:
        for combo in combos:
            name = combo if round_ == 0 else f"{combo} {round_ + 1}"
            key = ascii_name(name).lower()
            if key not in taken:
                taken.add(key)
                names.append(name)
                if len(names) == count:
                    break
        round_ += 1
    return names


def german_iban(account: int) -> str:
    """A valid German IBAN (check digits per ISO 13616) for a ``BLZ`` account number."""
    bban = f"{BLZ}{account:010d}"
    check = 98 - int(f"{bban}131400") % 97  # "DE" = 13 14, then "00"
    return f"DE{check:02d}{bban}"


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def scenario_form(scenario: Scenario) -> FormContent:
    """The filled-in form for a scenario: settings, parties, costs and the extras."""
    rng = random.Random(scenario.seed)
    names = iter(municipality_names(scenario.parties, scenario.seed))
    form = FormContent(settings={
        "Abrechnungsjahr": YEAR, "Förderbetrag je VZÄ": 57000, "Landesförderung entfallen": "Nein",
        "Umsatzsteuersatz": 0,
        "Zahlungsziel (Tage)": 30, "Kündigungsfrist (Monate)": 18,
        "Datum der Abrechnung": date(YEAR + 1, 3, 2), "Aktenzeichen": f"50.31-KIM/{YEAR}",
    })
    for index, partners in enumerate(scenario.partners_per_region, start=1):
        region = f"{index:03d} {rng.choice(STEMS)}{rng.choice(SUFFIXES)}"
        members = [next(names) for _ in range(partners + 1)]
        add_region(form, rng, region, members, account=index)
    return form


def add_region(form: FormContent, rng: random.Random, region: str, members: list[str],
               account: int) -> None:
    employer = members[0]
    positions = rng.randint(1, 3)
    vzae_total = Decimal(0)
    for number in range(1, positions + 1):
        vzae = rng.choice((Decimal(1), Decimal(1), Decimal("0.5")))
        months = rng.choice((Decimal(12), Decimal(12), Decimal(12), Decimal("7.5")))
        vzae_total += vzae
        form.positions.append({
            "Anstellungskörperschaft": employer, "Stelle": f"Case-Management {region} {number}",
            "VZÄ": vzae, "Monate": months,
            "Personalkosten": (cents(rng, 55000, 72000) * vzae * months / 12).quantize(
                Decimal("0.01")),
        })
    for kind in KOSTENARTEN:
        form.material.append({"Anstellungskörperschaft": employer, "Kostenart": kind,
                              "Bezeichnung": kind, "Betrag": cents(rng, 500, 5000)})
    share = (vzae_total / len(members)).quantize(Decimal("0.001"))
    for position, name in enumerate(members):
        party = {
            "Kommune": name, "Bezeichnung": rng.choice(("Stadt", "Gemeinde")), "Region": region,
            "Rolle": EMPLOYER if position == 0 else PARTNER, "Stundenanteil": share,
            "Straße": f"{rng.choice(STREETS)} {rng.randint(1, 40)}",
            "PLZ": f"{rng.randint(10000, 99999)}", "Ort": name,
            "E-Mail": f"kaemmerei@{ascii_name(name).lower()}.example",
        }
        if position == 0:
            party.update({"IBAN": german_iban(account), "BIC": BIC,
                          "Kreditinstitut": "Sparkasse Westmünsterland",
                          "Ansprechpartner": "Kämmerei", "Telefon": "02541 939-0"})
        else:
            party["Kassenzeichen"] = f"KIM-{YEAR}-{account:03d}-{position:02d}"
            if rng.random() < 0.02:  # left at the end of last year (R6)
                party["Ausgeschieden zum"] = date(YEAR - 1, 12, 31)
            elif rng.random() < 0.1:
                form.advances.append({"Kommune": name, "Datum": date(YEAR, 7, 15),
                                      "Betrag": cents(rng, 500, 3000)})
        form.parties.append(party)
    if rng.random() < 0.1:  # actual hours as key (R4)
        for party in form.parties[-len(members):]:
            if "Ausgeschieden zum" not in party:
                form.hours.append({"Kommune": party["Kommune"],
                                   "Stunden": Decimal(rng.randint(200, 900))})
    if rng.random() < 0.05:  # the subsidy actually received (R2)
        form.subsidies.append({"Anstellungskörperschaft": employer,
                               "Förderung erhalten": cents(rng, 40000, 120000)})


def write_scenario(scenario: Scenario, folder: Path) -> Path:
    """Write the scenario's input workbook into ``folder`` (once; kept for later runs)."""
    from kim_excel.documents.template import write_form

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Abrechnung_{scenario.name}.xlsx"
    if not path.exists():
        write_form(path, scenario_form(scenario))
    return path

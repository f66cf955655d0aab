"""Fuzz: corrupt valid workbooks at random and run the real command on them.

Every run must end with exit status 0 or 1 and a German message, never a traceback. The
corruptions are what workbooks meet on their way through offices: values and types in
cells replaced, rows, columns and sheets deleted (through the form's content and through
openpyxl), bytes in the zip flipped or cut off, members deleted, XML inside damaged or
retyped. The seed is fixed (``--fuzz-seed``), the count modest in CI; run longer with
``pytest tests/test_fuzz.py --fuzz-iterations 5000``.
"""

from __future__ import annotations

import random
import re
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from tests.builders import clone, example_2024, write
from tests.oddfiles import edited_with_openpyxl, rezip

pytestmark = pytest.mark.slow  # 150 corrupted workbooks through the real command

ODD_VALUES = (
    "", " ", "abc", "-1", "0", "1,5", "1.234,56 €", "12,345", "31.02.2024", "31.12.2023",
    "=1+1", "=SUMME(A1:A3)", "#DIV/0!", "Ja", "Nein", "x" * 300, "日本語", "Lüdinghausen",
    "Anstellungskörperschaft", "Partnerkommune", "Technische Ausstattung", "Nord", "1E+50",
    "Coesfeld", "coesfeld ", "Olfen", "DE00 1234", "NaN", "inf", "\t", "0,001",
    -1, 0, 1, 13, 2024, 1.5, 0.125, 1e300, -1e-9, 123456.789, 10**15, True, False,
    Decimal("0.005"), Decimal("-0.01"), date(2024, 12, 31), date(1899, 1, 1),
    date(2099, 6, 30), datetime(2024, 2, 29, 13, 45),
)
LISTS = ("parties", "positions", "material", "subsidies", "hours", "advances")
SHEETS = ("Einstellungen", "Vertragsparteien", "Personalkosten", "Sachkosten", "Förderung",
          "Stunden", "Abschläge")


# ------------------------------------------------------- corruptions of the content


def replace_value(form, rnd: random.Random) -> str:
    if rnd.random() < 0.25:
        key = rnd.choice(list(form.settings))
        form.settings[key] = rnd.choice(ODD_VALUES)
        return f"Einstellungen[{key}]"
    rows = getattr(form, rnd.choice(LISTS))
    if not rows:
        return "nothing"
    row = rnd.choice(rows)
    key = rnd.choice(list(row))
    row[key] = rnd.choice(ODD_VALUES)
    return f"cell {key}={row[key]!r:.40}"


def delete_row(form, rnd: random.Random) -> str:
    name = rnd.choice(LISTS)
    rows = getattr(form, name)
    if rows:
        rows.pop(rnd.randrange(len(rows)))
    return f"row of {name} deleted"


def duplicate_row(form, rnd: random.Random) -> str:
    name = rnd.choice(LISTS)
    rows = getattr(form, name)
    if rows:
        rows.append(dict(rnd.choice(rows)))
    return f"row of {name} duplicated"


def empty_column(form, rnd: random.Random) -> str:
    name = rnd.choice(LISTS)
    rows = getattr(form, name)
    if rows:
        key = rnd.choice(list(rows[0]))
        for row in rows:
            row[key] = ""
    return f"column of {name} emptied"


def mix_regions(form, rnd: random.Random) -> str:
    a, b = rnd.sample(form.parties, 2)
    a["Region"], b["Region"] = b["Region"], a["Region"]
    return "regions swapped"


CONTENT = (replace_value, replace_value, replace_value, delete_row, duplicate_row,
           empty_column, mix_regions)


# ---------------------------------------------------------- corruptions of the file


def flip_bytes(path: Path, rnd: random.Random) -> str:
    data = bytearray(path.read_bytes())
    for _ in range(rnd.randint(1, 8)):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    path.write_bytes(bytes(data))
    return "bytes flipped"


def truncate(path: Path, rnd: random.Random) -> str:
    data = path.read_bytes()
    path.write_bytes(data[: rnd.randrange(len(data))])
    return "file cut off"


def delete_member(path: Path, rnd: random.Random) -> str:
    with zipfile.ZipFile(path) as archive:
        name = rnd.choice(archive.namelist())
    rezip(path, path.with_suffix(".tmp"), {name: lambda _: None}).replace(path)
    return f"member {name} deleted"


def damage_xml(path: Path, rnd: random.Random) -> str:
    """Change the XML inside a member and re-zip it with valid checksums."""
    with zipfile.ZipFile(path) as archive:
        name = rnd.choice([n for n in archive.namelist() if n.endswith((".xml", ".rels"))])

    def edit(xml: bytes) -> bytes:
        text = xml.decode("utf-8", "replace")
        choice = rnd.randrange(7)
        if choice == 0:  # a numeric cell claims to be a shared string (index out of range)
            return text.replace('t="n"', 't="s"', rnd.randint(1, 5)).encode()
        if choice == 1:  # a value that is no number
            return re.sub(r"<v>[^<]*</v>", "<v>abc</v>", text, count=rnd.randint(1, 5)).encode()
        if choice == 2:  # a cell address that makes no sense
            return re.sub(r'r="[A-Z]+\d+"', 'r="XFZ99999999"', text, count=1).encode()
        if choice == 3:  # an error value
            return re.sub(r'(<c [^>]*?)(?: t="\w+")?>(<v>)[^<]*(</v>)', r'\1 t="e">\2#N/A\3',
                          text, count=rnd.randint(1, 3)).encode()
        if choice == 4:  # a closing tag lost
            return text.replace("</row>", "", 1).encode()
        if choice == 5:  # a sheet renamed or a relationship broken
            return text.replace('name="', 'name="X', 1).replace('Target="', 'Target="x', 1).encode()
        cut = rnd.randrange(len(xml) + 1)
        return xml[:cut] + bytes([rnd.randrange(256)]) + xml[cut + 1:]

    rezip(path, path.with_suffix(".tmp"), {name: edit}).replace(path)
    return f"XML of {name} damaged"


def with_openpyxl(path: Path, rnd: random.Random) -> str:
    sheet = rnd.choice(SHEETS)
    action = rnd.randrange(6)

    def edit(book) -> None:
        ws = book[sheet]
        if action == 0:
            book.remove(ws)
        elif action == 1:
            ws.delete_rows(rnd.randint(1, 6), rnd.randint(1, 3))
        elif action == 2:
            ws.delete_cols(rnd.randint(1, 5))
        elif action == 3:
            ws.merge_cells(f"A{rnd.randint(1, 5)}:B{rnd.randint(5, 8)}")
        elif action == 4:
            ws.cell(rnd.randint(1, 8), rnd.randint(1, 5), "=A1*2")
        else:
            ws.cell(rnd.randint(1, 8), rnd.randint(1, 5), time(12, 30))

    edited_with_openpyxl(path, edit)
    return f"openpyxl action {action} on {sheet}"


FILE = (flip_bytes, truncate, delete_member, damage_xml, damage_xml, with_openpyxl,
        with_openpyxl)


# ----------------------------------------------------------------------------- run


def corrupt(folder: Path, rnd: random.Random) -> list[str]:
    """One or two workbooks in ``folder`` with one to three corruptions in all."""
    steps = []
    form = example_2024()
    for _ in range(rnd.randint(0, 3)):
        steps.append(rnd.choice(CONTENT)(form, rnd))
    path = write(form, folder / "Abrechnung.xlsx")
    if rnd.random() < 0.2:  # a second workbook, perhaps with the same costs
        second = clone(form)
        if rnd.random() < 0.5:
            second.positions, second.material, second.advances = [], [], []
        write(second, folder / "Abrechnung_2.xlsx")
        steps.append("second workbook")
    if not steps or rnd.random() < 0.6:
        steps.append(rnd.choice(FILE)(path, rnd))
    return steps


def run_one(tmp: Path, iteration: int, rnd: random.Random) -> str | None:
    """Corrupt, run, and return a description of what went wrong, or None."""
    folder = tmp / f"case{iteration}"
    eingang = folder / "input"
    eingang.mkdir(parents=True)
    steps = corrupt(eingang, rnd)
    command = "pruefen" if rnd.random() < 0.2 else "abrechnen"
    args = [command, "--eingang", str(eingang)]
    if command == "abrechnen":
        args += ["--ausgabe", str(folder / "output")]
    result = CliRunner().invoke(main, args)
    output = result.output
    problem = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problem = f"{type(result.exception).__name__}: {result.exception}"
    elif result.exit_code not in (0, 1):
        problem = f"exit status {result.exit_code}"
    elif "Traceback" in output:
        problem = "traceback in the output"
    elif result.exit_code == 1 and not output.startswith(("Die Eingabe enthält", "Fehler: ")):
        problem = "exit 1 without a German message"
    elif result.exit_code == 0 and not (
        "Dateien geschrieben nach" in output or "Keine Fehler gefunden" in output):
        problem = "exit 0 without the German summary"
    elif result.exit_code == 0 and command == "abrechnen":
        written = list((folder / "output").glob("*/Buchungsliste_*.csv"))
        if len(written) != 1:
            problem = "exit 0 but no Buchungsliste"
    if problem is None:
        import shutil

        shutil.rmtree(folder)
        return None
    return f"case{iteration} ({'; '.join(steps)}; {command}): {problem}\n{output[-600:]}"


def test_corrupted_workbooks_end_in_a_german_message_never_a_traceback(tmp_path, request):
    iterations = request.config.getoption("--fuzz-iterations")
    seed = request.config.getoption("--fuzz-seed")
    rnd = random.Random(seed)
    failures = [f for i in range(iterations) if (f := run_one(tmp_path, i, rnd))]
    request.node.user_properties.append(("fuzz_iterations", iterations))
    print(f"\nfuzz: {iterations} iterations, seed {seed}, {len(failures)} failures")
    assert failures == [], "\n\n".join(failures[:10])


@pytest.mark.parametrize("seed", range(3))
def test_the_fuzzer_really_produces_both_outcomes(tmp_path, seed):
    """A fuzzer whose corruptions are always refused (or never) would prove little: over a
    few dozen cases both exit statuses occur."""
    rnd = random.Random(seed)
    codes = []
    for i in range(25):
        folder = tmp_path / f"c{i}"
        (folder / "input").mkdir(parents=True)
        corrupt(folder / "input", rnd)
        codes.append(CliRunner().invoke(main, ["pruefen", "--eingang",
                                               str(folder / "input")]).exit_code)
    assert 0 in codes and 1 in codes

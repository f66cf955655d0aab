"""What e-invoices and GiroCodes add to a whole run: this tree against another (e.g. main).

    git archive main | tar -x -C /tmp/main-src
    python3 benchmarks/einvoice_run.py --before /tmp/main-src [--repeat 3]

Inputs (written once, untimed): the shipped example, the example with a Leitweg-ID for every
partner, the 31-region scenario (NRW) as is, and NRW with a Leitweg-ID for every partner.
Each repeat runs ``python -m kim_excel abrechnen`` as a fresh process with the other tree's
code and with this tree's, side by side; the medians and the increase are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import SCENARIOS  # noqa: E402
from benchmarks.scenarios import scenario_form  # noqa: E402


def leitweg_id(coarse: str) -> str:
    """A Leitweg-ID ``<coarse>-0001-<check>`` with MOD 97-10 check digits."""
    body = f"{coarse}-0001"
    return f"{body}-{98 - int(body.replace('-', '') + '00') % 97:02d}"


def with_leitweg_ids(form) -> object:
    """Every partner gets a Leitweg-ID, every employer a Gemeindeschlüssel (and a contact)."""
    for number, party in enumerate(form.parties, start=1):
        key = f"05{number:06d}"
        if party["Rolle"] == "Partnerkommune":
            party["Leitweg-ID"] = leitweg_id(key)
        else:
            party["Gemeindeschlüssel"] = key
            party.setdefault("Ansprechpartner", "Kämmerei")
            party.setdefault("Telefon", "02541 939-0")
    return form


def inputs(folder: Path) -> dict[str, Path]:
    from kim_excel.documents.template import write_form
    from tests.builders import example_2024

    made = {"Beispiel": ROOT / "input"}
    forms = {"Beispiel mit Leitweg-IDs": with_leitweg_ids(example_2024()),
             "NRW": scenario_form(SCENARIOS["NRW"]),
             "NRW mit Leitweg-IDs": with_leitweg_ids(scenario_form(SCENARIOS["NRW"]))}
    for name, form in forms.items():
        path = folder / name.replace(" ", "_")
        path.mkdir()
        write_form(path / "input.xlsx", form)
        made[name] = path
    return made


def run(code: Path, eingang: Path, ausgabe: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the run's processes: user + system)."""
    import resource

    env = {**os.environ, "PYTHONPATH": str(code)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kim_excel", "abrechnen", "--eingang", str(eingang),
                    "--ausgabe", str(ausgabe)], env=env, check=True, capture_output=True,
                   cwd=code)  # the -m module comes from the cwd first
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other tree's code")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("| Eingabe | vorher (s) | nachher (s) | Zuwachs | CPU vorher (s) | CPU nachher (s) "
              "| Zuwachs CPU | XML-Dateien |")
        print("|---|--:|--:|--:|--:|--:|--:|--:|")
        for name, eingang in inputs(folder).items():
            before, after = [], []
            for index in range(args.repeat):
                out = folder / f"out-{name}-{index}".replace(" ", "_")
                before.append(run(args.before, eingang, out / "before"))
                after.append(run(ROOT, eingang, out / "after"))
            xml = len(list((folder / f"out-{name}-0".replace(" ", "_") / "after").glob(
                "*/*.xml")))
            b, a = (statistics.median(w for w, _ in before),
                    statistics.median(w for w, _ in after))
            cb, ca = (statistics.median(c for _, c in before),
                      statistics.median(c for _, c in after))
            print(f"| {name} | {b:.2f} | {a:.2f} | {(a / b - 1) * 100:+.0f} % | {cb:.2f} | "
                  f"{ca:.2f} | {(ca / cb - 1) * 100:+.0f} % | {xml} |")


if __name__ == "__main__":
    main()

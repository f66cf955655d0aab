"""Benchmark: the real settlement run at every scale, side by side with the floor.

For each scenario the input workbook is generated through the real form (untimed), the
run is recorded once for the floor (see ``floor.py``), and then, ``--repeat`` times in
turn: our run as a fresh process (``python -m kim_excel abrechnen``, automatic number of
processes), our run with ``--prozesse 1``, and the floor. Medians are printed as a
markdown table, then the time per partner at 100, 1,000 and 10,000 partners and the
targets of issue 7.

    python3 benchmarks/run.py                 # everything (about 20 min on 2 cores)
    python3 benchmarks/run.py --quick         # Beispiel, NRW and 1.000 Partner
    python3 benchmarks/run.py --only NRW,Deutschland --repeat 5
    python3 benchmarks/run.py --break-even    # from how many workbooks a pool pays off
    python3 benchmarks/run.py --gegen e3e74bb --only Beispiel --repeat 6
                                              # this tree against a commit, interleaved
                                              # (see compare.py): the ratio in one run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import de, load_average, machine  # noqa: E402
from benchmarks.compare import CompareError, compare  # noqa: E402
from benchmarks.floor import same_workbook  # noqa: E402
from benchmarks.scenarios import Scenario, fixed, uniform, write_scenario  # noqa: E402

EXAMPLE = ROOT / "input"
SCENARIOS: dict[str, Scenario | None] = {
    "Beispiel": None,  # the shipped example in input/
    "NRW": uniform("NRW", "31 Kreise mit je 8–15 Partnerkommunen, eine Arbeitsmappe", 31, 8,
                   15, seed=5),
    "Deutschland": uniform("Deutschland", "400 Regionen mit je 13–40 Partnerkommunen, "
                           "eine Arbeitsmappe", 400, 13, 40, seed=5),
    "100": fixed("100", "100 Partnerkommunen in Regionen zu 10", 100),
    "1000": fixed("1000", "1.000 Partnerkommunen in Regionen zu 10", 1000),
    "10000": fixed("10000", "10.000 Partnerkommunen in Regionen zu 10", 10000),
}
QUICK = ("Beispiel", "NRW", "1000")
SCALING = ("100", "1000", "10000")
FIDELITY_SAMPLE = 40  # files compared byte by byte between our run and the floor


@dataclass
class Measurement:
    seconds: float
    max_rss_mb: float  # the largest single process (kernel's ru_maxrss)
    total_pss_mb: float  # all processes of the run together, sampled every 20 ms
    cpu_seconds: float = 0.0  # user + system, all processes of the run


@dataclass
class Result:
    name: str
    description: str
    regions: int
    partners: int  # partner workbooks written
    files: int
    auto: list[Measurement] = field(default_factory=list)
    single: list[Measurement] = field(default_factory=list)
    floor: list[Measurement] = field(default_factory=list)
    fidelity: str = ""

    def median(self, runs: list[Measurement], attr: str = "seconds") -> float:
        return statistics.median(getattr(m, attr) for m in runs)

    @property
    def auto_s(self) -> float:
        return self.median(self.auto)

    @property
    def single_s(self) -> float:
        return self.median(self.single) if self.single else self.auto_s

    @property
    def floor_s(self) -> float:
        return self.median(self.floor)

    def cpu_ratio(self) -> float:
        """One process ÷ floor in CPU seconds: what other load on the machine blurs least."""
        return self.median(self.single or self.auto, "cpu_seconds") / self.median(
            self.floor, "cpu_seconds")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return pids


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def measure(command: list[str], capture: bool = False) -> tuple[Measurement, str]:
    """Run ``command`` as a fresh process: wall time, peak RSS, peak PSS of its tree.

    Output goes to files, not pipes: a full pipe would stall the process being timed.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile() as rss:
        timed = [GNU_TIME, "-f", "%M", "-o", rss.name, *command] if GNU_TIME else command
        m = _measure(timed, out if capture else subprocess.DEVNULL, err)
        out.seek(0)
        err.seek(0)
        if m is None:
            raise RuntimeError(f"{' '.join(command)} ist fehlgeschlagen:\n"
                               f"{err.read().decode(errors='replace')}")
        if GNU_TIME:
            m.max_rss_mb = int(Path(rss.name).read_text().split()[-1]) / 1024
        return m, out.read().decode()


# The kernel passes the peak RSS of a parent on to a child it starts (fork, then exec),
# so a child of this growing script would report this script's size. GNU time is a
# small parent of its own and reports the child's true peak.
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def _measure(command: list[str], stdout, stderr) -> Measurement | None:
    peak = [0]
    stop = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=child_env(), stdout=stdout, stderr=stderr, cwd=ROOT)

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], sum(pss_kb(p) for p in process_tree(proc.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc/self/smaps_rollup").exists():
        sampler.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # Ctrl+C: take the run down with us
        proc.kill()
        proc.wait()
        raise
    finally:
        stop.set()
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return None
    rss_kb = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return Measurement(seconds, rss_kb / 1024, peak[0] / 1024,
                       usage.ru_utime + usage.ru_stime)


def our_run(source: Path, target: Path, workers: int | None) -> Measurement:
    command = [sys.executable, "-m", "kim_excel", "abrechnen", "--eingang", str(source),
               "--ausgabe", str(target)]
    if workers is not None:
        command += ["--prozesse", str(workers)]
    try:
        return measure(command)[0]
    finally:
        shutil.rmtree(target, ignore_errors=True)


def floor_run(recording: Path, target: Path) -> Measurement:
    """The floor: the fresh process minus loading the recorded calls."""
    command = [sys.executable, str(ROOT / "benchmarks" / "floor.py"), "replay", str(recording),
               str(target)]
    try:
        m, out = measure(command, capture=True)
    finally:
        shutil.rmtree(target, ignore_errors=True)
    loading = json.loads(out)["load_seconds"]
    return Measurement(m.seconds - loading, m.max_rss_mb, m.total_pss_mb,
                       m.cpu_seconds - loading)


def record_floor(source: Path, work: Path) -> tuple[Path, Path, int, int]:
    """Run once with the recorder (untimed): the calls for the floor, and our files."""
    recording, ours = work / "aufzeichnung.pkl", work / "aufgezeichnet"
    shutil.rmtree(ours, ignore_errors=True)
    command = [sys.executable, str(ROOT / "benchmarks" / "floor.py"), "record", str(source),
               str(ours), str(recording)]
    subprocess.run(command, env=child_env(), check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    year_folder = next(p for p in ours.iterdir() if p.is_dir())
    partners = len(list(year_folder.glob("Abrechnung_*.xlsx")))
    files = len(list(year_folder.iterdir()))
    return recording, year_folder, partners, files


def check_fidelity(recording: Path, ours: Path, work: Path) -> str:
    """Replay a sample (the first letters and the overview) and compare it with our files,
    byte by byte; the recording must hold every workbook we wrote."""
    replayed = work / "boden"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor.py"), "replay",
                           str(recording), str(replayed), str(FIDELITY_SAMPLE)],
                          env=child_env(), check=True, capture_output=True, text=True)
    recorded = json.loads(done.stdout)["records"]
    ours_files = sorted(ours.glob("*.xlsx"))
    sample = sorted(replayed.glob("*.xlsx"))
    same = sum(same_workbook(ours / p.name, p) for p in sample if (ours / p.name).exists())
    shutil.rmtree(replayed, ignore_errors=True)
    verdict = "gleich" if same == len(sample) and recorded == len(ours_files) else \
        "ABWEICHEND"
    return f"{same}/{len(sample)} Stichproben {verdict}, {recorded} Dateien aufgezeichnet"


def scenario_input(name: str, work: Path) -> Path:
    """The scenario's input (written once into ``work``; the example is shipped)."""
    scenario = SCENARIOS[name]
    return EXAMPLE if scenario is None else write_scenario(scenario, work / name / "eingang")


def run_scenario(name: str, work: Path, repeat: int, log) -> Result:
    scenario = SCENARIOS[name]
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    source = scenario_input(name, work)
    if scenario is None:
        description, regions = "das mitgelieferte Beispiel (input/)", 3
    else:
        description, regions = scenario.description, scenario.regions
    recording, ours, partners, files = record_floor(source, folder)
    result = Result(name, description, regions, partners, files)
    result.fidelity = check_fidelity(recording, ours, folder)
    shutil.rmtree(ours.parent, ignore_errors=True)
    pooled = partners >= parallel_from()
    for i in range(repeat):
        result.auto.append(our_run(source, folder / f"aus-{i}", None))
        if pooled:
            result.single.append(our_run(source, folder / f"aus1-{i}", 1))
        result.floor.append(floor_run(recording, folder / f"boden-{i}"))
        log(f"  {name} Durchgang {i + 1}/{repeat}: Lauf {result.auto[-1].seconds:.2f} s"
            + (f", 1 Prozess {result.single[-1].seconds:.2f} s" if pooled else "")
            + f", Boden {result.floor[-1].seconds:.2f} s")
    recording.unlink(missing_ok=True)
    return result


def parallel_from() -> int:
    from kim_excel.commands.settle import PARALLEL_FROM

    return PARALLEL_FROM


def table(results: list[Result]) -> list[str]:
    lines = [
        "| Szenario | Regionen | Abrechnungen | Lauf (s) | je Abrechnung (ms) | RSS größter "
        "Prozess (MB) | PSS alle Prozesse (MB) | 1 Prozess (s) | Boden (s) | 1 Prozess ÷ Boden "
        "| 1 Prozess ÷ Boden (CPU-Zeit) | Lauf ÷ Boden | 1 Prozess ÷ Lauf |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        rss = max(m.max_rss_mb for m in r.auto + r.single)
        pss = max(m.total_pss_mb for m in r.auto)
        lines.append(
            f"| {r.name} | {de(r.regions, 0)} | {de(r.partners, 0)} | {de(r.auto_s)} | "
            f"{de(1000 * r.auto_s / r.partners)} | {de(rss, 0)} | {de(pss, 0)} | "
            f"{de(r.single_s)} | {de(r.floor_s)} | {de(r.single_s / r.floor_s)} | "
            f"{de(r.cpu_ratio())} | {de(r.auto_s / r.floor_s)} | {de(r.single_s / r.auto_s)} |")
    return lines


def scaling(results: dict[str, Result]) -> list[str]:
    points = [results[n] for n in SCALING if n in results]
    if len(points) < 2:
        return []
    lines = ["", "Zeit je Abrechnung (Gesamtzeit ÷ Abrechnungen; Zuwachs = Mehrzeit je "
                 "zusätzlicher Abrechnung gegenüber dem vorigen Punkt):", ""]
    previous = None
    for r in points:
        text = (f"- {de(r.partners, 0)} Abrechnungen: 1 Prozess "
                f"{de(1000 * r.single_s / r.partners)}"
                f" ms, Standard {de(1000 * r.auto_s / r.partners)} ms, Boden "
                f"{de(1000 * r.floor_s / r.partners)} ms")
        if previous is not None:
            extra = r.partners - previous.partners
            text += (f"; Zuwachs 1 Prozess {de(1000 * (r.single_s - previous.single_s) / extra)}"
                     f" ms, Boden {de(1000 * (r.floor_s - previous.floor_s) / extra)} ms")
        lines.append(text)
        previous = r
    return lines


def targets(results: dict[str, Result]) -> list[str]:
    checks = []

    def check(label: str, ok: bool, value: str) -> None:
        checks.append(f"- {'erfüllt' if ok else 'VERFEHLT'}: {label} — gemessen {value}")

    if "Beispiel" in results:
        s = results["Beispiel"].auto_s
        check("Beispiel als frischer Prozess unter 0,6 s", s < 0.6, f"{de(s)} s")
    if "NRW" in results:
        s = results["NRW"].auto_s
        check(f"NRW ({results['NRW'].partners} Abrechnungen) unter 2 s", s < 2, f"{de(s)} s")
    if "Deutschland" in results:
        r = results["Deutschland"]
        rss = max(m.total_pss_mb for m in r.auto)
        check("Deutschland unter 40 s", r.auto_s < 40, f"{de(r.auto_s)} s")
        check("Deutschland unter 500 MB (alle Prozesse zusammen, PSS)", rss < 500,
              f"{de(rss, 0)} MB")
    for r in results.values():
        if r.partners >= 300:  # below, the start of a fresh process is most of the run
            check(f"{r.name}: 1 Prozess höchstens 1,3 × Boden", r.single_s <= 1.3 * r.floor_s,
                  f"{de(r.single_s / r.floor_s)} × (CPU-Zeit {de(r.cpu_ratio())} ×)")
    for r in results.values():
        if r.single and r.partners >= 1000:
            check(f"{r.name}: beide Kerne mindestens 1,6 × schneller als einer",
                  r.single_s / r.auto_s >= 1.6, f"{de(r.single_s / r.auto_s)} ×")
    return ["", "Ziele (Issue 7):", "", *checks]


BREAK_EVEN_POINTS = (10, 20, 30, 50, 100, 200, 400)


def break_even(work: Path, repeat: int, log) -> list[str]:
    """One process against two for small runs: where the pool starts to pay off."""
    lines = ["| Abrechnungen | 1 Prozess (s) | 2 Prozesse (s) | Gewinn (s) |",
             "|--:|--:|--:|--:|"]
    first_gain = None
    for partners in BREAK_EVEN_POINTS:
        source = write_scenario(fixed(str(partners), "", partners), work / f"be-{partners}")
        one, two = [], []
        for i in range(repeat):
            one.append(our_run(source, work / f"be1-{i}", 1).seconds)
            two.append(our_run(source, work / f"be2-{i}", 2).seconds)
        gain = statistics.median(one) - statistics.median(two)
        log(f"  {partners}: 1 Prozess {statistics.median(one):.3f} s, 2 Prozesse "
            f"{statistics.median(two):.3f} s")
        lines.append(f"| {partners} | {de(statistics.median(one), 3)} | "
                     f"{de(statistics.median(two), 3)} | {de(gain, 3)} |")
        if gain > 0 and first_gain is None:
            first_gain = partners
        elif gain <= 0:
            first_gain = None
    lines += ["", f"Der Pool lohnt sich ab etwa {first_gain} Abrechnungen (PARALLEL_FROM ist "
                  f"{parallel_from()})." if first_gain else "Der Pool lohnt sich hier nicht."]
    return lines


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"nur {', '.join(QUICK)}")
    parser.add_argument("--only", help=f"Szenarien, mit Komma getrennt: {', '.join(SCENARIOS)}")
    parser.add_argument("--repeat", type=int, default=3, help="Durchgänge je Szenario "
                                                              "(Median; Standard 3)")
    parser.add_argument("--break-even", action="store_true",
                        help="statt der Szenarien: 1 gegen 2 Prozesse bei 10 bis 400 "
                             "Abrechnungen")
    parser.add_argument("--gegen", metavar="REV",
                        help="statt gegen den Boden: im Wechsel gegen diesen Commit messen "
                             "(temporärer git worktree), Verhältnis aktuell ÷ REV")
    parser.add_argument("--workdir", type=Path, help="Arbeitsordner (Standard: temporär); "
                                                     "erzeugte Eingaben bleiben dort liegen")
    args = parser.parse_args(argv)
    names = list(QUICK) if args.quick else list(SCENARIOS)
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            parser.error(f"unbekannte Szenarien: {', '.join(unknown)}")

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kim-bench-"))
    lines = [machine()]
    results: dict[str, Result] = {}
    try:
        if args.break_even:
            lines += ["", *break_even(work, args.repeat, log)]
            print("\n".join(lines))
            return lines
        if args.gegen:
            inputs = {name: scenario_input(name, work) for name in names}
            try:
                lines += ["", *compare(args.gegen, inputs, args.repeat, work, log)]
            except CompareError as error:
                parser.exit(1, f"FEHLER: {error}\n")
            print("\n".join(lines))
            return lines
        for name in names:
            log(f"{name} …")
            results[name] = run_scenario(name, work, args.repeat, log)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    lines += [f"Median aus {args.repeat} Durchgängen je Messung; jede Messung ein frischer "
              f"Prozess.", ""]
    lines += table(list(results.values()))
    lines += ["", "Boden gleich unserer Ausgabe: " + "; ".join(
        f"{r.name} {r.fidelity}" for r in results.values())]
    lines += scaling(results)
    lines += targets(results)
    lines += ["", f"Last danach (1/5/15 min): {load_average()}"]
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Abgebrochen.")

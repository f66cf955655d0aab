"""``abrechnen --pdf``: a PDF of each settlement workbook, made by LibreOffice.

All letters go through ONE ``soffice`` call (starting LibreOffice costs about a second; each
further file little). It runs with its own throw-away profile, so it neither disturbs nor
waits for a LibreOffice the user has open, and that profile sets the German locale: the PDF
shows ``1.234,56 €`` even on a machine whose system locale is English or ``C``. The whole
workbook is exported: the letter (page 1) and the trail ``Berechnung`` it refers to.
A missing LibreOffice, a failure or a hang become a German notice, never a traceback: the
workbooks are written either way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from kim_excel.core.german import count
from kim_excel.core.model import Notice, Severity

TIMEOUT_SECONDS = 60 + 5  # start-up, plus per-file time added in convert_letters
SECONDS_PER_FILE = 3
# Every sheet: the letter and the trail the letter refers to (SPEC: the trail is part of
# the bill). PDF/A-3b, so that a letter with an e-invoice can carry it (ZUGFeRD, SPEC § 8).
PDF_FILTER = 'pdf:calc_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"3"}}'
INSTALL_HINT = ("Unter Debian/Ubuntu: „apt-get install libreoffice-calc-nogui“; unter Windows "
                "LibreOffice installieren und „soffice“ in den Suchpfad (PATH) aufnehmen.")

PROFILE_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
                'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n')
L10N = "/org.openoffice.Setup/L10N"
RECALC = "/org.openoffice.Office.Calc/Formula/Load"


def profile_item(path: str, name: str, value: str) -> str:
    return (f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse">'
            f"<value>{value}</value></prop></item>\n")


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def write_profile(directory: Path, recalculate: bool = False) -> str:
    """A LibreOffice user profile in ``directory``; returns its ``-env:`` URL.

    ``recalculate``: recalculate every formula on load (0 = always); otherwise never (1),
    so the PDF shows exactly the values the workbook carries.
    """
    user = directory / "user"
    user.mkdir(parents=True, exist_ok=True)
    mode = "0" if recalculate else "1"  # 0: always recalculate on load, 1: never
    items = (profile_item(L10N, "ooSetupSystemLocale", "de-DE")
             + profile_item(RECALC, "OOXMLRecalcMode", mode)
             + profile_item(RECALC, "ODFRecalcMode", mode))
    (user / "registrymodifications.xcu").write_text(PROFILE_HEAD + items + "</oor:items>\n",
                                                    encoding="utf-8")
    return directory.resolve().as_uri()


def german_environment() -> dict[str, str]:
    """The environment for soffice: a German locale where the system has one."""
    env = dict(os.environ)
    try:
        locales = subprocess.run(["locale", "-a"], capture_output=True, text=True,
                                 timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        locales = []
    german = next((name for name in locales
                   if name.lower().replace("-", "") in ("de_de.utf8", "de_de.utf-8")), None)
    if german:
        env["LC_ALL"] = german
    return env


def run_soffice(args: list[str], timeout: float) -> tuple[int | None, str]:
    """Run soffice in its own process group; on timeout kill that group. (code, output)."""
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=german_environment(), start_new_session=True) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return None, ""
    return process.returncode, output.decode("utf-8", "replace")


def convert(paths: list[Path], folder: Path, target: str, recalculate: bool = False,
            timeout: float | None = None) -> tuple[int | None, str]:
    """``soffice --convert-to target`` for all ``paths`` in one call, into ``folder``."""
    soffice = find_soffice()
    if soffice is None:
        raise FileNotFoundError("soffice")
    timeout = timeout or TIMEOUT_SECONDS + SECONDS_PER_FILE * len(paths)
    with tempfile.TemporaryDirectory(prefix="kim-excel-lo-") as profile:
        url = write_profile(Path(profile), recalculate)
        return run_soffice([soffice, f"-env:UserInstallation={url}", "--headless",
                            "--norestore", "--nolockcheck", "--convert-to", target,
                            "--outdir", str(folder), *(str(p) for p in paths)], timeout)


def convert_letters(paths: list[Path], folder: Path) -> list[Notice]:
    """Write ``Abrechnung_<J>_<Kommune>.pdf`` into ``folder`` for every letter workbook."""
    if not paths:
        return []
    if find_soffice() is None:
        return [Notice("LibreOffice (soffice) ist nicht installiert: Es wurden keine "
                       "PDF-Dateien erstellt; die Arbeitsmappen sind vollständig geschrieben. "
                       + INSTALL_HINT)]
    try:
        code, output = convert(paths, folder, PDF_FILTER)
    except OSError as exc:
        return [Notice(f"LibreOffice konnte nicht gestartet werden ({exc.strerror or exc}): "
                       f"Es wurden keine PDF-Dateien erstellt; die Arbeitsmappen sind "
                       f"vollständig geschrieben.")]
    if code is None:
        return [Notice("LibreOffice hat die PDF-Dateien nicht rechtzeitig erstellt und wurde "
                       "abgebrochen; die Arbeitsmappen sind vollständig geschrieben. Bitte "
                       "erneut versuchen oder die Abrechnungen aus Excel drucken.")]
    missing = [p for p in paths if not (folder / f"{p.stem}.pdf").is_file()]
    if missing:
        names = ", ".join(p.name for p in missing)
        detail = output.strip().splitlines()[-1] if output.strip() else f"Exit-Status {code}"
        return [Notice(f"LibreOffice hat für {names} keine PDF-Datei erstellt ({detail}); die "
                       f"Arbeitsmappen sind vollständig geschrieben.")]

    return [Notice(f"{count(len(paths), 'PDF-Datei', 'PDF-Dateien')} der Abrechnungen erstellt.",
                   Severity.INFO)]

"""What every benchmark table prints: German numbers and the machine it was measured on."""

from __future__ import annotations

import os
import platform

import xlsxwriter


def de(number: float, places: int = 2) -> str:
    """German notation: 1234.5 → 1.234,50."""
    return f"{number:,.{places}f}".replace(",", "X").replace(".", ",").replace("X", ".")


def machine() -> str:
    """Cores, processor, Python and xlsxwriter, and the load before the measurement."""
    model = "unbekannt"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next(line.split(":", 1)[1].strip() for line in handle
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"Rechner: {os.cpu_count()} Kerne ({model}), Python {platform.python_version()}, "
            f"xlsxwriter {xlsxwriter.__version__}, {platform.system()}; Last vorher (1/5/15 "
            f"min): {load_average()}")


def load_average() -> str:
    return " / ".join(de(x) for x in os.getloadavg()) if hasattr(os, "getloadavg") else "–"

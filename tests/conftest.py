"""Shared pytest options, the tools some tests need, and what CI refuses to skip.

- ``--fuzz-iterations N`` / ``--fuzz-seed N`` run the fuzz test longer or elsewhere.
- ``--update-golden`` rewrites the content snapshots in ``tests/golden/`` (see its README).
- A test marked ``libreoffice`` needs ``soffice`` (and poppler's ``pdfinfo``); without them
  it is skipped, and the reason is the one line that installs them.
- ``smtp_server`` (tests/smtp_fixture.py) starts a real SMTP server on 127.0.0.1 for any test
  that sends.
- With ``CI`` set (CI runs ``CI=true .ci/run``), a skipped test of a marker in
  :data:`NEVER_SKIP_IN_CI` is a failure: CI must prove those features, not skip them.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.smtp_fixture import smtp_server  # noqa: F401 (a fixture for every module)

INSTALL_LINE = ("apt-get install -y --no-install-recommends libreoffice-calc-nogui "
                "poppler-utils fonts-liberation2")
# marker -> (programs it needs, the line that installs them)
TOOLS = {"libreoffice": (("soffice", "pdfinfo"), INSTALL_LINE)}
NEVER_SKIP_IN_CI = ("libreoffice", "einvoice")


def pytest_addoption(parser):
    parser.addoption("--fuzz-iterations", type=int, default=150,
                     help="corrupted workbooks the fuzz test runs (CI: 150)")
    parser.addoption("--fuzz-seed", type=int, default=20250302,
                     help="seed of the fuzz test (fixed, so CI runs are repeatable)")
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.json from the current output")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_runtest_setup(item):
    for marker, (programs, install) in TOOLS.items():
        if item.get_closest_marker(marker) is None:
            continue
        missing = [p for p in programs if shutil.which(p) is None]
        if missing:
            pytest.skip(f"{', '.join(missing)} fehlt – installieren mit: {install}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and in_ci()):
        return
    markers = [m for m in NEVER_SKIP_IN_CI if item.get_closest_marker(m) is not None]
    if markers and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        reason = str(reason).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = (f"In CI darf ein Test mit Markierung {', '.join(markers)} nicht "
                           f"übersprungen werden: {reason}")

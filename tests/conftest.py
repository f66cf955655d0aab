"""Shared pytest options. ``--fuzz-iterations N`` runs the fuzz test longer than in CI."""

from __future__ import annotations


def pytest_addoption(parser):
    parser.addoption("--fuzz-iterations", type=int, default=150,
                     help="corrupted workbooks the fuzz test runs (CI: 150)")
    parser.addoption("--fuzz-seed", type=int, default=20250302,
                     help="seed of the fuzz test (fixed, so CI runs are repeatable)")

"""Benchmarks: synthetic agreements at every scale, timed against a bare-xlsxwriter floor."""

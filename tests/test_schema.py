"""schema.py: the form's names, one home for writer, reader and messages."""

from __future__ import annotations

from dataclasses import fields

from openpyxl import load_workbook

from kim_excel.core.model import Party
from kim_excel.core.schema import PARTY_HEADERS, PARTY_LABELS, REQUIRED_HEADERS
from kim_excel.documents.template import write_form


def test_every_party_field_read_from_a_cell_has_its_column():
    read_from_cells = {f.name for f in fields(Party) if f.compare} - {"bank_from_iban"}
    assert set(PARTY_LABELS) == read_from_cells
    assert set(PARTY_LABELS.values()) == set(PARTY_HEADERS)


def test_the_form_has_every_column_of_the_schema(tmp_path):
    book = load_workbook(write_form(tmp_path / "v.xlsx"))
    assert [c.value for c in book["Vertragsparteien"][1]] == list(PARTY_HEADERS)
    for sheet, headers in REQUIRED_HEADERS.items():
        row = [c.value for c in book[sheet][1]]
        assert all(h in row for h in headers), sheet

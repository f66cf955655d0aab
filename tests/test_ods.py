"""LibreOffice users: .ods workbooks are read directly, with the same cell addresses."""

from __future__ import annotations

import shutil
import zipfile

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.core.errors import InputError
from kim_excel.documents.pdf import convert
from kim_excel.input.validation import load_input
from tests.builders import example_2024, write


def as_ods(xlsx, folder):
    folder.mkdir(parents=True, exist_ok=True)
    code, output = convert([xlsx], folder, "ods", timeout=180)
    assert code == 0, output
    ods = folder / f"{xlsx.stem}.ods"
    assert ods.is_file(), output
    with zipfile.ZipFile(ods) as archive:  # really LibreOffice's format, not a renamed xlsx
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    return ods


def settle(eingang, ausgabe):
    result = CliRunner().invoke(main, ["abrechnen", "--eingang", str(eingang),
                                       "--ausgabe", str(ausgabe)])
    return result


@pytest.mark.slow
def test_an_ods_written_by_libreoffice_settles_like_the_xlsx(tmp_path):
    xlsx = write(example_2024(), tmp_path / "xlsx" / "Abrechnung.xlsx")
    ods = as_ods(xlsx, tmp_path / "ods")
    (tmp_path / "xlsx-in").mkdir()
    shutil.copy(xlsx, tmp_path / "xlsx-in")
    from_xlsx = settle(tmp_path / "xlsx-in", tmp_path / "out-xlsx")
    from_ods = settle(ods.parent, tmp_path / "out-ods")
    assert from_xlsx.exit_code == 0, from_xlsx.output
    assert from_ods.exit_code == 0, from_ods.output
    booking = "2024/Buchungsliste_2024.csv"
    assert (tmp_path / "out-ods" / booking).read_bytes() == (
        tmp_path / "out-xlsx" / booking).read_bytes()


@pytest.mark.slow
def test_a_bad_cell_in_an_ods_gets_the_same_sheet_and_cell(tmp_path):
    form = example_2024()
    form.positions[1]["Personalkosten"] = "abc"
    form.material[2]["Kostenart"] = "Bewirtung"
    xlsx = write(form, tmp_path / "xlsx" / "Abrechnung.xlsx")
    ods = as_ods(xlsx, tmp_path / "ods")
    with pytest.raises(InputError) as from_xlsx:
        load_input(xlsx, __import__("datetime").date(2026, 1, 1))
    with pytest.raises(InputError) as from_ods:
        load_input(ods, __import__("datetime").date(2026, 1, 1))
    cells = [(str(p.where), p.message) for p in from_xlsx.value.problems]
    assert [(str(p.where), p.message) for p in from_ods.value.problems] == cells
    assert ("Personalkosten!E3" in [c for c, _ in cells]
            and "Sachkosten!B4" in [c for c, _ in cells])
    result = settle(ods.parent, tmp_path / "out")
    assert result.exit_code == 1
    assert "Abrechnung.ods: Personalkosten!E3:" in result.output


def far_reaching_ods(path, rows):
    """An .ods whose Personalkosten has one value repeated over ``rows`` rows (a bomb for a
    reader that expands repeats) — tiny on disk."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
        '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table='
        '"urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text='
        '"urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        '<table:table table:name="Personalkosten"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>Stelle</text:p></table:table-cell>'
        f'</table:table-row><table:table-row table:number-rows-repeated="{rows}">'
        '<table:table-cell table:number-columns-repeated="4" office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
        '</table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
            'manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'))
        archive.writestr("content.xml", content)
    return path


def test_an_ods_with_a_row_repeated_a_million_times_is_refused_before_reading(tmp_path):
    ods = far_reaching_ods(tmp_path / "Abrechnung.ods", 1_000_000)
    with pytest.raises(InputError) as refused:
        load_input(ods, __import__("datetime").date(2026, 1, 1))
    [problem] = refused.value.problems
    assert str(problem.where) == "Personalkosten!A1000001"
    assert "so groß ist kein Abrechnungsformular" in problem.message

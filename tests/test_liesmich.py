"""``output/<J>/LIESMICH.txt``: what each file is and what the clerk does next."""

from __future__ import annotations

from datetime import date

from kim_excel.commands.settle import run_settlement
from tests.builders import D, example_2024, write

TODAY = date(2025, 3, 2)


def test_liesmich_names_every_file_the_run_wrote_and_the_next_steps(tmp_path):
    """Region Nord of the example: 170,000 costs − 2.5 VZÄ × 57,000 = 142,500 subsidy →
    Eigenanteil 27,500; Billerbeck's key 0.625 of 2.5 → 6,875.00, due 02.03.2025 + 30 days =
    Tuesday 01.04.2025."""
    source = write(example_2024(), tmp_path / "input" / "a.xlsx")
    result = run_settlement(source, tmp_path / "output", today=TODAY)
    readme = tmp_path / "output" / "2024" / "LIESMICH.txt"

    assert readme in result.files
    raw = readme.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\n" not in raw.replace(
        b"\r\n", b"")
    text = raw.decode("utf-8-sig")
    for path in result.files:
        if path.name != "LIESMICH.txt":
            assert path.name in text
    assert "Abrechnung an Stadt Billerbeck: zu zahlen 6.875,00 €, fällig am 01.04.2025." in text
    assert "kim-excel versenden --jahr 2024" in text
    assert "Prüfen" in text and "Zeichnen" in text and "Versenden" in text


def test_liesmich_shows_the_runs_warnings_and_is_the_same_on_a_rerun(tmp_path):
    form = example_2024()
    form.subsidies = [{"Anstellungskörperschaft": "Coesfeld", "Förderung erhalten": D("140000")}]
    source = write(form, tmp_path / "input" / "a.xlsx")
    result = run_settlement(source, tmp_path / "output", today=TODAY)
    readme = tmp_path / "output" / "2024" / "LIESMICH.txt"
    first = readme.read_bytes()
    text = first.decode("utf-8-sig")
    assert "Hinweise zu dieser Abrechnung" in text
    assert result.settlement.notices
    for notice in result.settlement.notices:
        assert f"- {notice}" in text

    run_settlement(source, tmp_path / "output", today=TODAY)
    assert readme.read_bytes() == first

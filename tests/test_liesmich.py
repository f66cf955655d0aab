"""``output/<J>/LIESMICH.txt`` (kim_excel/documents/liesmich.py): every file of the folder with
its state — each bill with its number, amount, due date and state, every correction, the
clerk's own files — and what the clerk does next. Written from the ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kim_excel.commands.issue import issue_folder
from kim_excel.commands.settle import RunResult, run_settlement
from kim_excel.documents.liesmich import liesmich_text
from tests.builders import D, einvoice_example, example_2024, write

TODAY = date(2025, 3, 2)


def readme_of(folder: Path) -> str:
    return (folder / "LIESMICH.txt").read_text(encoding="utf-8-sig")


def corrected(tmp_path: Path) -> RunResult:
    """Nord posted on 05.03.2025 (festschreiben), then 4,000.00 more personnel costs: a
    correction of + 1,000.00 for each Nord partner, written on 02.06.2025; the clerk has put
    a signed scan beside Nottuln's letter."""
    form = example_2024()
    write(form, tmp_path / "input" / "a.xlsx")
    run_settlement(tmp_path / "input", tmp_path / "output", TODAY)
    issue_folder(tmp_path / "output", 2024, "Nord", date(2025, 3, 5))
    form.positions[0]["Personalkosten"] += 4000
    write(form, tmp_path / "input" / "a.xlsx")
    scan = tmp_path / "output" / "2024" / "Abrechnung_2024_Nottuln_unterschrieben.pdf"
    scan.write_bytes(b"%PDF-1.4 scan")
    return run_settlement(tmp_path / "input", tmp_path / "output", date(2025, 6, 2))


def test_liesmich_names_every_file_the_run_wrote_and_the_next_steps(tmp_path):
    """Region Nord of the example: 170,000 costs − 2.5 VZÄ × 57,000 = 142,500 subsidy →
    Eigenanteil 27,500; Billerbeck's key 0.625 of 2.5 → 6,875.00, due 02.03.2025 + 30 days =
    Tuesday 01.04.2025. Nordkirchen is refunded 417.15."""
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
    assert ("  Abrechnung_2024_Billerbeck.xlsx\r\n"
            "      Abrechnung 2024-Billerbeck an Stadt Billerbeck: zu zahlen 6.875,00 €, fällig "
            "am 01.04.2025.\r\n"
            "      Stand: Entwurf\r\n") in raw.decode("utf-8-sig")
    assert ("Abrechnung 2024-Nordkirchen an Gemeinde Nordkirchen: Erstattung von 417,15 €, "
            "fällig am 01.04.2025.") in text
    assert text.count("Stand: Entwurf") == 8
    assert "Region Nord – Anstellungskörperschaft Stadt Coesfeld (Entwurf):" in text
    assert "Datum der Abrechnung 02.03.2025" in text
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


def test_after_issue_and_a_correction_every_bill_shows_its_state(tmp_path):
    result = corrected(tmp_path)
    text = readme_of(result.folder)

    assert "Region Nord – Anstellungskörperschaft Stadt Coesfeld (festgeschrieben am " \
           "05.03.2025):" in text
    assert ("  Abrechnung_2024_Billerbeck.xlsx\n"
            "      Abrechnung 2024-Billerbeck an Stadt Billerbeck: zu zahlen 6.875,00 €, fällig "
            "am 01.04.2025.\n"
            "      Stand: festgeschrieben, per Post am 05.03.2025\n") in text
    assert "  Korrektur Nr. 1 vom 02.06.2025 (Entwurf):" in text
    assert ("  Korrektur_2024_Billerbeck_1.xlsx\n"
            "      Korrektur 2024-Billerbeck-K1 an Stadt Billerbeck: zu zahlen 1.000,00 €, "
            "fällig am 02.07.2025.\n"
            "      berichtigt 2024-Billerbeck vom 02.03.2025\n"
            "      Stand: Entwurf\n") in text
    assert text.count("Stand: festgeschrieben, per Post am 05.03.2025") == 3
    assert "Eigene Dateien (kim-excel ändert und verwaltet sie nicht):\n" \
           "  Abrechnung_2024_Nottuln_unterschrieben.pdf\n" in text
    assert "Region Nord ist festgeschrieben; ihre Zahlen haben sich geändert" in text


def test_the_run_that_writes_a_correction_lists_its_buchungsliste(tmp_path):
    result = corrected(tmp_path)
    text = readme_of(result.folder)

    assert result.folder / "Buchungsliste_2024_Korrektur_1.csv" in result.files
    for path in result.files:
        if path.name != "LIESMICH.txt":
            assert path.name in text, path.name


def test_the_run_that_writes_e_invoices_lists_each_beside_its_letter(tmp_path):
    for name, form in einvoice_example().items():
        write(form, tmp_path / "input" / name)
    result = run_settlement(tmp_path / "input", tmp_path / "output", TODAY)
    text = readme_of(result.folder)

    assert ("Abrechnung 2024-Olfen an Stadt Olfen: zu zahlen 2.082,85 €, fällig am 01.04.2025."
            "\n      Stand: Entwurf\n      Abrechnung_2024_Olfen.xml: E-Rechnung (XRechnung)"
            in text)
    assert "Abrechnung_2024_Rosendahl.xml" not in text


def test_when_everything_went_out_it_says_so(tmp_path):
    write(example_2024(), tmp_path / "input" / "a.xlsx")
    run_settlement(tmp_path / "input", tmp_path / "output", TODAY)

    issue_folder(tmp_path / "output", 2024, None, date(2025, 3, 5))

    text = readme_of(tmp_path / "output" / "2024")
    assert "Alles ist festgeschrieben und versandt." in text
    assert "Versenden:" not in text
    assert text.count("Stand: festgeschrieben, per Post am 05.03.2025") == 8


def test_the_same_ledger_gives_the_same_text(tmp_path):
    """No clock in LIESMICH: written from the ledger alone."""
    write(example_2024(), tmp_path / "input" / "a.xlsx")
    ledger = run_settlement(tmp_path / "input", tmp_path / "output", TODAY).ledger

    text = liesmich_text(ledger, ["Hinweis: eins"], ["Notiz.txt"])

    assert text == liesmich_text(ledger, ["Hinweis: eins"], ["Notiz.txt"])
    assert text.endswith("- Hinweis: eins\n")
    assert "  Notiz.txt\n" in text

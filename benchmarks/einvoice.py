"""What an e-invoice and a GiroCode cost per letter (one process, milliseconds).

    python3 benchmarks/einvoice.py [--letters 300] [--pdf LETTER_PDFA3.pdf]

Builds and writes ``--letters`` different XRechnungen and GiroCode PNGs (amounts vary, so
nothing is cached) and prints the median and the total. With ``--pdf`` also the ZUGFeRD embedding.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.documents.girocode import epc_png
from kim_excel.documents.xrechnung import Buyer, InvoiceData, Seller, build_xrechnung, embed_in_pdf

SELLER = Seller(
    name="Stadt Coesfeld", street="Markt 8", postcode="48653", city="Coesfeld",
    contact_name="Frau Beispiel", contact_phone="+49 2541 939-0",
    contact_email="kim@coesfeld.example", electronic_address="rechnung@coesfeld.example",
    iban="DE26401545300000123456", account_name="Stadt Coesfeld", bic="WELADED1MST",
    gemeindeschluessel="05558012")


def invoice(index: int) -> InvoiceData:
    net = Decimal(5000 + index * 37) + Decimal("0.25")
    prepaid = Decimal("3000.00")
    return InvoiceData(
        number=f"2025-{index:04d}", issue_date=date(2026, 3, 16), year=2025, seller=SELLER,
        buyer=Buyer(name=f"Gemeinde Nr. {index}", street="Markt 1", postcode="48329",
                    city="Havixbeck", leitweg_id="05558016-0001-35"),
        line_name="Eigenanteil Kommunales Case-Management 2025", vat_rate=Decimal(0),
        vat_note="Nicht steuerbar (§ 2b UStG).", net=net, vat=Decimal("0.00"), gross=net,
        prepaid=prepaid, amount_due=net - prepaid, due_date=date(2026, 4, 15),
        remittance=f"KIM 2025 Gemeinde Nr. {index} 2025-{index:04d}")


def measure(letters: int, pdf: Path | None) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"xml": [], "girocode": [], "zugferd": []}
    data = [invoice(i) for i in range(letters)]
    with tempfile.TemporaryDirectory() as folder:
        for item in data:
            started = time.perf_counter()
            xml = build_xrechnung(item)
            (Path(folder) / f"{item.number}.xml").write_bytes(xml)
            times["xml"].append(time.perf_counter() - started)
            started = time.perf_counter()
            png = epc_png(item.seller.name, item.seller.iban, item.seller.bic,
                          item.amount_due, item.remittance)
            (Path(folder) / f"{item.number}.png").write_bytes(png)
            times["girocode"].append(time.perf_counter() - started)
            if pdf is not None:
                started = time.perf_counter()
                (Path(folder) / f"{item.number}.pdf").write_bytes(
                    embed_in_pdf(pdf.read_bytes(), xml))
                times["zugferd"].append(time.perf_counter() - started)
    return {key: value for key, value in times.items() if value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=300)
    parser.add_argument("--pdf", type=Path)
    args = parser.parse_args()
    build_xrechnung(invoice(0))  # imports and the schema, once per process
    for name, values in measure(args.letters, args.pdf).items():
        print(f"{name:9} median {statistics.median(values) * 1000:6.2f} ms, "
              f"total {sum(values):6.2f} s for {len(values)} letters")


if __name__ == "__main__":
    main()

"""The e-invoice's and the GiroCode's share of writing a letter, interleaved per letter.

    python3 benchmarks/einvoice_share.py INPUT_FOLDER

On a busy machine the wall clock of whole runs says little; here each partner's letter
workbook (without its GiroCode), its GiroCode and its XRechnung are timed one after the
other in ONE process, so load hits all three alike. Prints medians per letter and the sums.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from unittest import mock


def main() -> None:
    from kim_excel.commands.settle import load_settlement
    from kim_excel.documents import einvoices, workbooks
    from kim_excel.documents.xlsx import letter

    settlement, _ = load_settlement(Path(sys.argv[1]), date(2025, 3, 10))
    einvoices.prepare()
    times: dict[str, list[float]] = {"letter": [], "girocode": [], "xml": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for region in settlement.regions:
            for share in region.partner_shares:
                path = folder / f"{share.party.name}.xlsx"
                with mock.patch.object(letter, "girocode", lambda *a: None):
                    started = time.process_time()
                    workbooks.write_partner_workbook(path, settlement, region, share)
                    times["letter"].append(time.process_time() - started)
                started = time.process_time()
                reference = "Rechnung " + share.party.name
                letter.girocode(region.employer, share.balance, reference)
                times["girocode"].append(time.process_time() - started)
                started = time.process_time()
                einvoices.write_einvoice(folder, settlement, region, share, path.stem)
                times["xml"].append(time.process_time() - started)
    for name, values in times.items():
        print(f"{name:9} median {statistics.median(values) * 1000:6.2f} ms, "
              f"sum {sum(values):6.2f} s over {len(values)} letters")


if __name__ == "__main__":
    main()

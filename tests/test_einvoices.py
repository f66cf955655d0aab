"""E-invoices of the settlement (SPEC § 8): the adapter on a real settlement, and the real
command on real workbooks.

The adapter (``einvoices.py``) is run on the example read from real workbooks, changed so that
every case occurs: letters at 0 % and at 19 % with advances (the contained VAT shown), a refund
to the partner's account and one without a known account, a zero balance; and corrections of
every kind (increase, decrease, 0 → 19 %, 19 → 0 %, 19 → 7 %, same rate and net). Two runs of
the real command (with the Landesförderung and with it lapsed) and a real correction add their
XMLs. EVERY XML goes through the official validator in ONE call, with no error and no warning.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from kim_excel.commands.settle import load_settlement
from kim_excel.core.calculation import contained_vat
from kim_excel.core.money import round_cents
from kim_excel.core.references import STORNO_NUMBER
from kim_excel.documents.einvoices import (
    Amounts,
    CorrectionDocument,
    correction_effect,
    correction_einvoices,
    einvoice_attachments,
    einvoice_lines,
    embed_einvoices,
    invoice_data,
    write_correction_einvoices,
)
from kim_excel.documents.xrechnung import build_xrechnung, remove_attachments
from tests.builders import NO_LEITWEG_ID, einvoice_example, example_2024, write
from tests.external_tools import errors, validate, zbarimg
from tests.runner import run_kim

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
      "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"}
SUM = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
MEANS = "//ram:SpecifiedTradeSettlementPaymentMeans/"
TODAY = date(2025, 3, 10)
NORDKIRCHEN_IBAN = "DE81400501500000654321"  # a valid IBAN (BR-DE-19), made up
AGREEMENT = ("Kooperationsvereinbarung Kommunales Case-Management in den kreisangehörigen "
             "Kommunen des Kreises Coesfeld")
CORRECTED_ON, CORRECTION_DUE = date(2025, 9, 1), date(2025, 10, 1)


def every_case() -> dict:
    """The e-invoice example, changed so that every letter case occurs: Nordkirchen's refund
    goes to its known account, Lüdinghausen's (advance above its share) to an unknown one,
    Senden's advance equals its share (nothing to pay), Nottuln (19 %) paid an advance."""
    forms = einvoice_example()
    for form in forms.values():
        for party in form.parties:
            if party["Kommune"] == "Nordkirchen":
                party["IBAN"] = NORDKIRCHEN_IBAN
    forms["Ascheberg.xlsx"].advances += [
        {"Kommune": "Lüdinghausen", "Datum": date(2024, 7, 15), "Betrag": Decimal("5000.00")},
        {"Kommune": "Senden", "Datum": date(2024, 7, 15), "Betrag": Decimal("4582.85")}]
    forms["Dülmen.xlsx"].advances = [
        {"Kommune": "Nottuln", "Datum": date(2024, 7, 15), "Betrag": Decimal("6000.00")}]
    return forms


@pytest.fixture(scope="module")
def settlement(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every_case")
    for name, form in every_case().items():
        write(form, folder / "in" / name)
    return load_settlement(folder / "in", TODAY)[0]


def at_rate(region, share, rate: str):
    """``region`` and ``share`` as if the region billed ``rate`` (R8: VAT rounded per share)."""
    terms = dataclasses.replace(region.terms, vat_rate=Decimal(rate))
    vat = round_cents(share.net * Decimal(rate))
    share = dataclasses.replace(share, vat=vat, gross=share.net + vat,
                                balance=share.net + vat - share.advances)
    return dataclasses.replace(region, terms=terms), share


def corrected(share, difference: str):
    net = share.net + Decimal(difference)
    return dataclasses.replace(share, net=net, gross=net + share.vat,
                               balance=net + share.vat - share.advances)


def correct(settlement, name: str, after_rate: str | None = None, before_rate: str | None = None,
            difference: str = "0.00") -> tuple[CorrectionDocument, ...]:
    """The e-invoices of a correction of ``name``'s bill: its net changed by ``difference``,
    billed before at ``before_rate`` and corrected to ``after_rate`` (default: the region's)."""
    region, share = settlement.share_of(name)
    before_region, before = (at_rate(region, share, before_rate) if before_rate
                             else (region, share))
    after_region, after = at_rate(region, share, after_rate) if after_rate else (region, share)
    after = corrected(after, difference)
    if after.vat:  # VAT of the corrected net
        vat = round_cents(after.net * after_region.terms.vat_rate)
        after = dataclasses.replace(after, vat=vat, gross=after.net + vat)
    return correction_einvoices(
        2024, after_region, before, before_region.terms, after, number=f"2024-{name}-K1",
        corrects=f"2024-{name}", corrects_date=date(2025, 3, 2), issue_date=CORRECTED_ON,
        due_date=CORRECTION_DUE)


CORRECTIONS = {  # name → (partner, after rate, before rate, difference of the net)
    "increase": ("Olfen", None, None, "200.00"),
    "decrease": ("Olfen", None, None, "-312.50"),
    "increase_19": ("Nottuln", None, None, "100.00"),
    "decrease_to_nothing": ("Havixbeck", None, None, "-6875.00"),
    "from_0_to_19": ("Nottuln", None, "0", "250.00"),
    "from_19_to_0": ("Nottuln", "0", None, "-100.00"),
    "from_19_to_7": ("Nottuln", "0.07", None, "0.00"),
    "rate_only_0_to_19": ("Nottuln", None, "0", "0.00"),
    "rate_only_19_to_0": ("Nottuln", "0", None, "0.00"),
}
LETTERS = ("Billerbeck", "Nottuln", "Nordkirchen", "Luedinghausen", "Senden", "Olfen")


@pytest.fixture(scope="module")
def adapter_xmls(settlement, tmp_path_factory) -> dict[str, Path]:
    """Every letter case and every correction case as XML files, named by case."""
    folder = tmp_path_factory.mktemp("adapter")
    paths = {}
    for name in LETTERS:
        region, share = settlement.share_of(name.replace("ue", "ü"))
        paths[name] = folder / f"letter_{name}.xml"
        paths[name].write_bytes(build_xrechnung(invoice_data(2024, region, share)))
    for case, (partner, after, before, difference) in CORRECTIONS.items():
        documents = correct(settlement, partner, after, before, difference)
        for path in write_correction_einvoices(folder, f"correction_{case}", documents):
            paths[path.stem.removeprefix("correction_")] = path
    return paths


def settle(folder: Path, forms: dict, *options: str) -> Path:
    """Write the workbooks into ``folder``/input and run ``kim-excel abrechnen`` on them."""
    for name, form in forms.items():
        write(form, folder / "input" / name)
    done = run_kim("abrechnen", "--eingang", folder / "input", "--ausgabe", folder / "output",
                   *options, cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "output" / "2024"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    return {"funded": settle(tmp_path_factory.mktemp("funded"), einvoice_example()),
            "lapsed": settle(tmp_path_factory.mktemp("lapsed"), einvoice_example(lapsed=True))}


@pytest.fixture(scope="module")
def correction(tmp_path_factory) -> Path:
    """A real correction (SPEC § 7, § 8): Süd is issued with `festschreiben`, then a late
    Sachkosten invoice of 1,000 € arrives and `abrechnen` runs again; Olfen's correction
    K1 is an invoice 380 over the difference and names the invoice it corrects."""
    folder = tmp_path_factory.mktemp("correction")
    forms = einvoice_example()
    settle(folder, forms)
    done = run_kim("festschreiben", "--jahr", 2024, "--region", "Süd", "--ausgabe",
                   folder / "output", "--ja", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    forms["Ascheberg.xlsx"].material.append(
        {"Anstellungskörperschaft": "Ascheberg", "Kostenart": "Technische Ausstattung",
         "Bezeichnung": "Nachberechnung Laptop", "Betrag": Decimal("1000.00")})
    out = settle(folder, forms)
    return out / "Korrektur_2024_Olfen_1.xml"


@pytest.fixture(scope="module")
def validated(runs, correction, adapter_xmls, tmp_path_factory) -> dict[str, dict]:
    """The official validator's verdict on every XML of this module, from ONE call (the
    validator names results by file name, so the lapsed run's copies get a prefix)."""
    folder = tmp_path_factory.mktemp("lapsed_copies")
    lapsed = []
    for xml in sorted(runs["lapsed"].glob("*.xml")):
        lapsed.append(folder / f"lapsed_{xml.name}")
        lapsed[-1].write_bytes(xml.read_bytes())
    return validate([*sorted(runs["funded"].glob("*.xml")), *lapsed, correction,
                     *adapter_xmls.values()])


def warnings(result: dict) -> list[str]:
    return [f"{m['rule']}: {m['text']}" for m in result["messages"] if m["level"] == "warning"]


@pytest.mark.slow
def test_every_xml_passes_the_official_rules_without_a_warning(runs, adapter_xmls, validated):
    names = sorted(p.name for p in runs["funded"].glob("*.xml"))
    assert names == [f"Abrechnung_2024_{n}.xml" for n in (
        "Billerbeck", "Havixbeck", "Luedinghausen", "Nordkirchen", "Nottuln", "Olfen", "Senden")]
    assert len(validated) == 2 * 7 + 1 + len(adapter_xmls)
    for name, result in validated.items():
        assert errors(result) == [], name
        assert warnings(result) == [], name
        assert result["valid"] is True, name


def parsed(path: Path):
    return etree.parse(str(path))


def text(tree, path: str) -> str:
    found = tree.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, found)
    return found[0] if isinstance(found[0], str) else found[0].text


def texts(tree, path: str) -> list[str]:
    return [e if isinstance(e, str) else e.text for e in tree.xpath(path, namespaces=NS)]


def amounts(tree) -> tuple[Decimal, ...]:
    """(net, VAT, gross, prepaid, amount due) as the document states them."""
    prepaid = texts(tree, SUM + "ram:TotalPrepaidAmount")
    return tuple(Decimal(text(tree, SUM + f"ram:{n}")) for n in (
        "TaxBasisTotalAmount", "TaxTotalAmount", "GrandTotalAmount")) + (
        Decimal(prepaid[0]) if prepaid else Decimal("0.00"),
        Decimal(text(tree, SUM + "ram:DuePayableAmount")))


def payment(tree) -> tuple[str, str | None]:
    """(payment means code, IBAN that receives the money or None)."""
    ibans = texts(tree, MEANS + "ram:PayeePartyCreditorFinancialAccount/ram:IBANID")
    return text(tree, MEANS + "ram:TypeCode"), (ibans[0] if ibans else None)


def terms_of(tree) -> str:
    return text(tree, "//ram:SpecifiedTradePaymentTerms/ram:Description")


def notes(tree) -> list[str]:
    return texts(tree, "//ram:IncludedNote/ram:Content")


# ------------------------------------------------------------------ letters


def test_letter_at_0_percent_is_an_invoice_to_the_employers_account(settlement, adapter_xmls):
    tree = parsed(adapter_xmls["Billerbeck"])
    region, share = settlement.share_of("Billerbeck")
    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert amounts(tree) == (share.net, Decimal("0.00"), share.net, Decimal("0.00"), share.net)
    assert payment(tree) == ("58", region.employer.iban)
    assert text(tree, MEANS + "ram:PayeePartyCreditorFinancialAccount/ram:AccountName") == (
        "Stadt Coesfeld")
    assert terms_of(tree) == "Zahlbar bis zum 01.04.2025 ohne Abzug: 6.875,00 €."
    assert text(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
                      "/ram:CategoryCode") == "O"


def test_every_xml_names_the_agreement_and_the_buyers_gemeindeschluessel(adapter_xmls):
    for name, path in adapter_xmls.items():
        tree = parsed(path)
        assert text(tree, "//ram:ContractReferencedDocument/ram:IssuerAssignedID") == (
            AGREEMENT), name
        assert len(text(tree, "//ram:BuyerTradeParty/ram:ID")) == 8, name
    assert text(parsed(adapter_xmls["Senden"]), "//ram:BuyerTradeParty/ram:ID") == "05558044"


def test_letter_at_19_percent_deducts_the_advances_and_the_vat_they_contain(settlement,
                                                                            adapter_xmls):
    tree = parsed(adapter_xmls["Nottuln"])
    _, share = settlement.share_of("Nottuln")
    assert share.advances == Decimal("6000.00") and share.vat > 0
    assert amounts(tree) == (share.net, share.vat, share.gross, Decimal("6000.00"),
                             share.balance)
    assert text(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
                      "/ram:RateApplicablePercent") == "19.00"
    assert ("Abzüglich geleisteter Abschläge: 6.000,00 €, darin enthaltene Umsatzsteuer 19 %: "
            "957,98 € (Entgelt 5.042,02 €); § 14 Abs. 5 Satz 2 UStG.") in notes(tree)


def test_contained_vat_is_one_function_rounded_commercially():
    assert contained_vat(Decimal("6000.00"), Decimal("0.19")) == Decimal("957.98")
    assert contained_vat(Decimal("119.00"), Decimal("0.19")) == Decimal("19.00")
    assert contained_vat(Decimal("1.07"), Decimal("0.07")) == Decimal("0.07")
    # 0.535 × 0.07 / 1.07 = 0.035 exactly: half a cent rounds up (binary floats: 0.03)
    assert contained_vat(Decimal("0.535"), Decimal("0.07")) == Decimal("0.04")
    assert contained_vat(Decimal("5000.00"), Decimal("0")) == Decimal("0.00")


def test_refund_names_the_partners_account_never_the_employers(settlement, adapter_xmls):
    tree = parsed(adapter_xmls["Nordkirchen"])
    region, share = settlement.share_of("Nordkirchen")
    assert share.balance < 0
    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert amounts(tree)[-1] == share.balance
    assert payment(tree) == ("58", NORDKIRCHEN_IBAN)
    assert region.employer.iban not in etree.tostring(tree).decode()
    assert text(tree, MEANS + "ram:PayeePartyCreditorFinancialAccount/ram:AccountName") == (
        "Gemeinde Nordkirchen")
    assert terms_of(tree) == ("Der Betrag von 25.417,15 € wird Ihnen bis zum 01.04.2025 "
                              "erstattet.")


def test_refund_without_the_partners_iban_names_no_account(settlement, adapter_xmls):
    tree = parsed(adapter_xmls["Luedinghausen"])
    region, share = settlement.share_of("Lüdinghausen")
    assert share.balance < 0 and not share.party.iban
    assert payment(tree) == ("1", None)
    assert text(tree, MEANS + "ram:Information") == "Überweisung an Stadt Lüdinghausen"
    assert region.employer.iban not in etree.tostring(tree).decode()


def test_zero_balance_says_nothing_is_to_be_paid(settlement, adapter_xmls):
    tree = parsed(adapter_xmls["Senden"])
    assert settlement.share_of("Senden")[1].balance == 0
    assert amounts(tree)[-1] == 0
    assert terms_of(tree) == "Es ist nichts zu zahlen."
    assert payment(tree) == ("1", None)
    assert text(tree, MEANS + "ram:Information") == "Keine Zahlung"


def test_a_negative_share_is_a_credit_note_with_positive_amounts(settlement):
    """A stated subsidy above the costs makes the Eigenanteil negative (R3): the partner
    gets money, so its e-invoice is a credit note 381, advances as negative prepaid."""
    region, share = settlement.share_of("Olfen")
    negative = dataclasses.replace(share, net=-share.net, gross=-share.net,
                                   balance=-share.net - share.advances)
    data = invoice_data(2024, region, negative)
    assert data.type_code == "381"
    assert (data.net, data.gross, data.prepaid, data.amount_due) == (
        share.net, share.net, -share.advances, share.net + share.advances)
    assert data.payment.means == "1"  # the partner's account is unknown


def test_invoice_data_takes_the_settlements_figures(settlement):
    region, share = settlement.share_of("Nottuln")
    data = invoice_data(2024, region, share)
    assert (data.number, data.net, data.vat, data.gross, data.amount_due) == (
        "2024-Nottuln", share.net, share.vat, share.gross, share.balance)
    assert data.vat_category == "S" and data.seller.vat_id == "DE123456789"
    assert data.issue_date == region.terms.settlement_date == date(2025, 3, 2)
    assert data.due_date == region.due_date and data.year == 2024
    assert data.buyer.leitweg_id == share.party.leitweg_id


# ------------------------------------------------------------------ corrections


def documents_of(settlement, case: str) -> tuple[CorrectionDocument, ...]:
    partner, after, before, difference = CORRECTIONS[case]
    return correct(settlement, partner, after, before, difference)


def test_an_increase_is_one_invoice_380_over_the_difference(settlement, adapter_xmls):
    (document,) = documents_of(settlement, "increase")
    assert (document.kind, document.type_code, document.suffix) == ("Nachberechnung", "380", "")
    tree = parsed(adapter_xmls["increase"])
    assert text(tree, "//rsm:ExchangedDocument/ram:ID") == "2024-Olfen-K1"
    assert amounts(tree) == (Decimal("200.00"), Decimal("0.00"), Decimal("200.00"),
                             Decimal("0.00"), Decimal("200.00"))
    assert text(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "2024-Olfen"
    assert text(tree, "//ram:InvoiceReferencedDocument//qdt:DateTimeString") == "20250302"
    assert notes(tree)[0] == ("Korrektur der Rechnung 2024-Olfen vom 02.03.2025: bisher "
                              "abgerechnet 4.582,85 €, berichtigt 4.782,85 €; Differenz: "
                              "200,00 € nachzuzahlen.")
    _, share = settlement.share_of("Olfen")
    assert payment(tree) == ("58", settlement.share_of("Olfen")[0].employer.iban)
    assert text(tree, "//ram:PaymentReference").startswith(
        f"{share.party.kassenzeichen} Rechnung 2024-Olfen-K1")


def test_a_decrease_is_one_credit_note_381_with_positive_amounts(adapter_xmls):
    tree = parsed(adapter_xmls["decrease"])
    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert amounts(tree) == (Decimal("312.50"), Decimal("0.00"), Decimal("312.50"),
                             Decimal("0.00"), Decimal("312.50"))
    assert text(tree, "//ram:BilledQuantity") == "1"
    assert payment(tree) == ("1", None)  # Olfen's account is unknown: no account named
    assert terms_of(tree) == "Der Betrag von 312,50 € wird Ihnen bis zum 01.10.2025 erstattet."
    assert notes(tree)[0].endswith("Differenz: 312,50 € zu erstatten.")


def test_a_difference_at_19_percent_keeps_the_vat_of_the_difference(settlement,
                                                                    adapter_xmls):
    tree = parsed(adapter_xmls["increase_19"])
    _, share = settlement.share_of("Nottuln")
    vat = round_cents((share.net + 100) * Decimal("0.19")) - share.vat
    assert amounts(tree) == (Decimal("100.00"), vat, 100 + vat, Decimal("0.00"), 100 + vat)
    assert "19 % Umsatzsteuer" in notes(tree)[0]


def test_a_partner_that_owes_nothing_gets_its_whole_bill_credited(adapter_xmls):
    tree = parsed(adapter_xmls["decrease_to_nothing"])
    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert amounts(tree)[2] == Decimal("6875.00")


def test_same_rate_and_same_net_is_no_document(settlement):
    assert documents_of(settlement, "increase")  # the helper does make documents
    region, share = settlement.share_of("Olfen")
    assert correction_einvoices(
        2024, region, share, region.terms, share, number="2024-Olfen-K1", corrects="2024-Olfen",
        corrects_date=date(2025, 3, 2), issue_date=CORRECTED_ON, due_date=CORRECTION_DUE) == ()


@pytest.mark.parametrize("case", ["from_0_to_19", "from_19_to_0", "from_19_to_7",
                                  "rate_only_0_to_19", "rate_only_19_to_0"])
def test_a_change_of_the_vat_rate_is_a_storno_and_a_new_invoice(settlement, adapter_xmls, case):
    storno, rebill = documents_of(settlement, case)
    assert (storno.kind, storno.type_code, storno.number) == (
        "Storno", "381", f"2024-Nottuln-K1{STORNO_NUMBER}")
    assert (rebill.kind, rebill.type_code, rebill.number) == (
        "Neuberechnung", "380", "2024-Nottuln-K1")
    old, new = parsed(adapter_xmls[f"{case}_Storno"]), parsed(adapter_xmls[case])
    for tree in (old, new):
        assert text(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == (
            "2024-Nottuln")
        assert notes(tree)[0].startswith("Korrektur der Rechnung 2024-Nottuln vom 02.03.2025: "
                                         "bisher abgerechnet ")
        categories = texts(tree, "//ram:CategoryCode")
        assert len(set(categories)) == 1  # BR-O-11 … 14: one category per document
        if categories[0] == "O":  # BR-O-02
            assert texts(tree, "//ram:SpecifiedTaxRegistration/ram:ID") == []
        assert not any(a.is_signed() for a in amounts(tree)[:3])
        assert texts(tree, "//ram:PaymentReference") == texts(new, "//ram:PaymentReference")
    # the storno cancels the bill as billed, with its advances; the new one bills it anew
    assert amounts(old) == (storno.data.net, storno.data.vat, storno.data.gross,
                            Decimal("6000.00"), storno.data.gross - 6000)
    assert amounts(new)[3] == Decimal("6000.00")


def test_storno_and_new_invoice_together_ask_exactly_the_difference(settlement):
    for case in ("from_0_to_19", "from_19_to_0", "from_19_to_7", "rate_only_19_to_0"):
        storno, rebill = documents_of(settlement, case)
        partner, after, before, difference = CORRECTIONS[case]
        region, share = settlement.share_of(partner)
        old_region, old = at_rate(region, share, before) if before else (region, share)
        new_region, new = at_rate(region, share, after) if after else (region, share)
        new = corrected(new, difference)
        if new.vat:
            vat = round_cents(new.net * new_region.terms.vat_rate)
            new = dataclasses.replace(new, vat=vat, gross=new.net + vat)
        change = correction_effect((storno, rebill))
        assert change == Amounts(new.net - old.net, new.vat - old.vat, new.gross - old.gross,
                                 Decimal("0.00"), new.gross - old.gross), case
        assert (-storno.data.amount_due + rebill.data.amount_due) == change.gross, case


def test_storno_and_new_invoice_say_what_is_paid_in_the_end(settlement, adapter_xmls):
    new = parsed(adapter_xmls["rate_only_19_to_0"])
    old = parsed(adapter_xmls["rate_only_19_to_0_Storno"])
    _, share = settlement.share_of("Nottuln")
    expected = ("Verrechnet (Gutschrift 2024-Nottuln-K1-S und Rechnung 2024-Nottuln-K1): "
                "1.171,35 € werden Ihnen bis zum 01.10.2025 erstattet.")
    assert share.vat == Decimal("1171.35")
    assert terms_of(new) == terms_of(old) == expected
    assert "Zahlbar" not in terms_of(new)
    assert ("Abzüglich geleisteter Abschläge: 6.000,00 €, darin enthaltene Umsatzsteuer 19 %: "
            "957,98 € (Entgelt 5.042,02 €); § 14 Abs. 5 Satz 2 UStG.") in notes(old)
    assert "Abzüglich geleisteter Abschläge: 6.000,00 €." in notes(new)  # 0 %: no VAT in it


def test_correction_effect_is_the_difference_for_one_document_too(settlement):
    (increase,) = documents_of(settlement, "increase")
    (decrease,) = documents_of(settlement, "decrease")
    assert correction_effect((increase,)).gross == Decimal("200.00")
    assert correction_effect((decrease,)).gross == Decimal("-312.50")
    assert decrease.data.gross == Decimal("312.50")  # the XML states it positive


def test_the_storno_goes_beside_the_correction_and_is_sent_with_it(settlement, tmp_path):
    documents = documents_of(settlement, "from_19_to_0")
    paths = write_correction_einvoices(tmp_path, "Korrektur_2024_Nottuln_1", documents)
    assert [p.name for p in paths] == ["Korrektur_2024_Nottuln_1_Storno.xml",
                                       "Korrektur_2024_Nottuln_1.xml"]
    (tmp_path / "Korrektur_2024_Nottuln_1.pdf").write_bytes(blank_pdf())
    assert einvoice_attachments(tmp_path, "Korrektur_2024_Nottuln_1") == [
        tmp_path / "Korrektur_2024_Nottuln_1.xml", tmp_path / "Korrektur_2024_Nottuln_1_Storno.xml",
        tmp_path / "Korrektur_2024_Nottuln_1.pdf"]


def blank_pdf() -> bytes:
    from pypdf import PdfWriter  # only these tests make a PDF without LibreOffice

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": "Korrektur", "/CreationDate": "D:20250901100000Z"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_with_pdf_the_xml_carries_the_letter_and_the_pdf_carries_the_plain_xml(settlement,
                                                                                tmp_path):
    """``--pdf``: BG-24 in the XMLs beside the letter (the storno's too), never in the XML
    embedded in the PDF (or the two would contain each other)."""
    import base64

    from pypdf import PdfReader  # see blank_pdf

    documents = documents_of(settlement, "from_19_to_0")
    write_correction_einvoices(tmp_path, "Korrektur_2024_Nottuln_1", documents)
    pdf = tmp_path / "Korrektur_2024_Nottuln_1.pdf"
    pdf.write_bytes(blank_pdf())
    assert embed_einvoices(tmp_path) == [pdf]
    embedded = PdfReader(pdf).attachments["xrechnung.xml"][0]
    assert parsed_bytes(embedded).xpath("//ram:AdditionalReferencedDocument", namespaces=NS) == []
    assert text(parsed_bytes(embedded), "//rsm:ExchangedDocument/ram:ID") == "2024-Nottuln-K1"
    for name, number in (("Korrektur_2024_Nottuln_1", "2024-Nottuln-K1"),
                         ("Korrektur_2024_Nottuln_1_Storno", "2024-Nottuln-K1-S")):
        tree = parsed(tmp_path / f"{name}.xml")
        binary = "//ram:AdditionalReferencedDocument/ram:AttachmentBinaryObject"
        assert text(tree, binary + "/@filename") == "Korrektur_2024_Nottuln_1.pdf"
        assert text(tree, binary + "/@mimeCode") == "application/pdf"
        assert text(tree, "//ram:AdditionalReferencedDocument/ram:TypeCode") == "916"
        assert text(tree, "//ram:AdditionalReferencedDocument/ram:IssuerAssignedID") == number
        assert base64.b64decode(text(tree, binary)) == pdf.read_bytes()


def canonical(xml: bytes) -> bytes:
    """The XML by meaning (C14N): serializers differ in ``<a/>`` and ``<a />``."""
    return etree.tostring(etree.fromstring(xml), method="c14n")


def parsed_bytes(xml: bytes):
    return etree.fromstring(xml).getroottree()


# ------------------------------------------------------------------ the real command


def letter_values(path: Path) -> dict[str, str]:
    """Label → value of the letter (info block in B:C, payment details in A:B)."""
    sheet = load_workbook(path, data_only=True)["Abrechnung"]
    values = {}
    for row in sheet.iter_rows(values_only=True):
        for label, value in ((row[1], row[2]), (row[0], row[1])):
            if isinstance(label, str) and value is not None:
                values.setdefault(label, value)
    return values


def booking(folder: Path) -> dict[str, dict[str, str]]:
    text_ = (folder / "Buchungsliste_2024.csv").read_bytes().decode("utf-8-sig")
    return {row["Kommune"]: row for row in csv.DictReader(io.StringIO(text_), delimiter=";")}


def eur(value: str) -> str:
    return value.replace(",", ".")


@pytest.mark.slow
@pytest.mark.parametrize("run", ["funded", "lapsed"])
def test_the_xml_says_what_the_letter_and_the_buchungsliste_say(runs, run):
    folder = runs[run]
    rows = booking(folder)
    leitweg = {p["Kommune"]: p.get("Leitweg-ID") for p in einvoice_example()[
        "Coesfeld.xlsx"].parties}
    for xml in folder.glob("*.xml"):
        tree = parsed(xml)
        letter = letter_values(xml.with_suffix(".xlsx"))
        partner = next(k for k in rows if xml.stem.endswith(k.replace("ü", "ue")))
        row = rows[partner]
        assert text(tree, "//rsm:ExchangedDocument/ram:ID") == letter["Rechnungsnummer"]
        assert text(tree, "//ram:BuyerReference") == leitweg[partner]
        assert text(tree, SUM + "ram:TaxBasisTotalAmount") == eur(row["Betrag_netto_EUR"])
        assert text(tree, SUM + "ram:TaxTotalAmount") == eur(row["USt_EUR"])
        assert text(tree, SUM + "ram:GrandTotalAmount") == eur(row["Betrag_brutto_EUR"])
        assert text(tree, SUM + "ram:DuePayableAmount") == eur(row["Saldo_EUR"])
        if row["Abschlaege_EUR"] != "0,00":
            assert text(tree, SUM + "ram:TotalPrepaidAmount") == eur(row["Abschlaege_EUR"])
        due = text(tree, "//ram:DueDateDateTime/udt:DateTimeString")
        assert f"{due[6:]}.{due[4:6]}.{due[:4]}" == row["Faellig_am"]
        assert text(tree, "//ram:PaymentReference") == letter["Verwendungszweck"]
        if row["Saldo_EUR"].startswith("-"):  # a refund: the partner's account (unknown here)
            assert payment(tree) == ("1", None)
        else:
            assert payment(tree) == ("58", letter["IBAN"].replace(" ", ""))
        category = text(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
                              "/ram:CategoryCode")
        assert category == ("S" if partner == "Nottuln" else "O")
    nottuln = parsed(folder / "Abrechnung_2024_Nottuln.xml")
    assert text(nottuln, "//ram:SellerTradeParty//ram:ID[@schemeID='VA']") == "DE123456789"
    assert text(nottuln, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
                         "/ram:RateApplicablePercent") == "19.00"
    refund = parsed(folder / "Abrechnung_2024_Nordkirchen.xml")
    if run == "funded":  # with the subsidy lapsed, its share exceeds the advance
        assert text(refund, SUM + "ram:DuePayableAmount") == "-25417.15"


@pytest.mark.slow
def test_a_real_correction_is_an_invoice_380_over_the_difference(correction, validated):
    """The correction's XML beside its letter: the differences as in the correction's
    Buchungsliste, no advances deducted again, the corrected invoice named."""
    tree = parsed(correction)
    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert text(tree, "//rsm:ExchangedDocument/ram:ID") == "2024-Olfen-K1"
    assert text(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "2024-Olfen"
    with open(correction.parent / "Buchungsliste_2024_Korrektur_1.csv", encoding="utf-8-sig",
              newline="") as f:
        row = next(r for r in csv.DictReader(f, delimiter=";") if r["Kommune"] == "Olfen")
    assert text(tree, SUM + "ram:TaxBasisTotalAmount") == eur(row["Betrag_netto_EUR"])
    assert text(tree, SUM + "ram:DuePayableAmount") == eur(row["Saldo_EUR"])
    assert row["Saldo_EUR"] == "200,00"  # 1,000 € more in Süd; Olfen: 0.5 of 2.5 VZÄ
    assert texts(tree, SUM + "ram:TotalPrepaidAmount") == []
    assert text(tree, "//ram:PaymentReference").startswith("KIM-2024-SUED-03 Rechnung "
                                                           "2024-Olfen-K1")
    assert not errors(validated[correction.name])


def girocode_of(letter: Path, tmp_path: Path) -> list[str] | None:
    """The GiroCode's fields as a phone reads them from the letter workbook's image."""
    with zipfile.ZipFile(letter) as archive:
        images = [n for n in archive.namelist() if n.startswith("xl/media/")]
        if not images:
            return None
        assert len(images) == 1
        png = tmp_path / f"{letter.stem}.png"
        png.write_bytes(archive.read(images[0]))
    return zbarimg(png).split("\n")


@pytest.mark.slow
def test_a_decoder_reads_the_letters_girocode_back(runs, tmp_path):
    folder = runs["funded"]
    rows = booking(folder)
    for name, partner in (("Olfen", "Olfen"), ("Nottuln", "Nottuln"),
                          (NO_LEITWEG_ID, NO_LEITWEG_ID), ("Luedinghausen", "Lüdinghausen")):
        letter = folder / f"Abrechnung_2024_{name}.xlsx"
        fields = girocode_of(letter, tmp_path)
        values = letter_values(letter)
        assert fields is not None, name
        assert fields[:4] == ["BCD", "002", "2", "SCT"]
        assert fields[6] == values["IBAN"].replace(" ", "")
        assert fields[7] == "EUR" + eur(rows[partner]["Saldo_EUR"])  # gross − advances
        assert fields[10] == values["Verwendungszweck"]
        assert fields[5] == values["Empfänger"]
    # a refund letter has none
    assert girocode_of(folder / "Abrechnung_2024_Nordkirchen.xlsx", tmp_path) is None


@pytest.mark.slow
def test_without_leitweg_id_no_xml_and_everything_else_as_before(runs, tmp_path):
    plain = settle(tmp_path, {"Beispiel.xlsx": example_2024()})
    assert not list(plain.glob("*.xml"))
    assert "E-Rechnung" not in overview_headers(plain)
    funded = runs["funded"]
    assert not (funded / f"Abrechnung_2024_{NO_LEITWEG_ID}.xml").exists()
    assert (funded / f"Abrechnung_2024_{NO_LEITWEG_ID}.xlsx").is_file()
    assert einvoice_attachments(funded, f"Abrechnung_2024_{NO_LEITWEG_ID}") == []
    assert einvoice_attachments(funded, "Abrechnung_2024_Olfen") == [
        funded / "Abrechnung_2024_Olfen.xml"]


def overview_headers(folder: Path) -> list[str]:
    sheet = load_workbook(folder / "Uebersicht_2024.xlsx", data_only=True)["Übersicht"]
    return [c for c in next(sheet.iter_rows(min_row=4, max_row=4, values_only=True)) if c]


@pytest.mark.slow
def test_the_overview_says_who_got_an_e_invoice_and_why_not(runs):
    """LIESMICH names each XRechnung beside its letter: tests/test_liesmich.py."""
    folder = runs["funded"]
    sheet = load_workbook(folder / "Uebersicht_2024.xlsx", data_only=True)["Übersicht"]
    headers = list(next(sheet.iter_rows(min_row=4, max_row=4, values_only=True)))
    column = headers.index("E-Rechnung")
    party = headers.index("Vertragspartei")
    status = {row[party]: row[column] for row in sheet.iter_rows(min_row=5, values_only=True)
              if row[party]}
    assert status["Gemeinde Rosendahl"] == "keine: keine Leitweg-ID angegeben"
    assert status["Stadt Olfen"].startswith("XRechnung an Leitweg-ID 05558036-0001-")
    assert status["Stadt Coesfeld"] is None  # the employer gets no bill at all


def test_liesmich_lines_without_any_leitweg_id(tmp_path):
    write(example_2024(), tmp_path / "in" / "Beispiel.xlsx")
    settlement, _ = load_settlement(tmp_path / "in", TODAY)
    lines = einvoice_lines(settlement, {})
    assert lines[-1].startswith("Keine E-Rechnung (keine Leitweg-ID angegeben")
    assert "Gemeinde Senden" in lines[-1]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_with_pdf_the_letter_is_zugferd_and_its_girocode_scans(tmp_path):
    import base64
    import subprocess

    from pypdf import PdfReader

    folder = settle(tmp_path, einvoice_example(), "--pdf")
    zugferd = sorted(p for p in folder.glob("*.pdf") if p.with_suffix(".xml").exists())
    assert len(zugferd) == 7
    xmls = [p.with_suffix(".xml") for p in zugferd]
    results = validate([*zugferd, *xmls])  # the PDFs: their embedded XML
    assert len(results) == 14
    for name, result in results.items():
        assert errors(result) == [] and warnings(result) == [], name
        assert result["valid"] is True, name
    olfen = folder / "Abrechnung_2024_Olfen.pdf"
    attached = PdfReader(olfen).attachments
    standalone = olfen.with_suffix(".xml").read_bytes()
    assert canonical(attached["xrechnung.xml"][0]) == canonical(remove_attachments(standalone))
    assert canonical(remove_attachments(standalone)) != canonical(standalone)
    binary = "//ram:AdditionalReferencedDocument/ram:AttachmentBinaryObject"
    assert text(parsed(olfen.with_suffix(".xml")), binary + "/@filename") == olfen.name
    assert base64.b64decode(text(parsed(olfen.with_suffix(".xml")), binary)) == (
        olfen.read_bytes())
    assert not PdfReader(folder / f"Abrechnung_2024_{NO_LEITWEG_ID}.pdf").attachments
    assert einvoice_attachments(folder, "Abrechnung_2024_Olfen") == [
        olfen.with_suffix(".xml"), olfen]
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", "-singlefile",
                    str(olfen), str(tmp_path / "page")], check=True, timeout=60)
    fields = zbarimg(tmp_path / "page.png").split("\n")
    values = letter_values(olfen.with_suffix(".xlsx"))
    assert fields[6] == values["IBAN"].replace(" ", "")
    assert fields[7] == "EUR" + eur(booking(folder)["Olfen"]["Saldo_EUR"])
    assert fields[10] == values["Verwendungszweck"]



@pytest.mark.slow
def test_a_partner_that_lost_its_leitweg_id_keeps_no_old_xml(tmp_path):
    folder = settle(tmp_path / "first", einvoice_example())
    assert len(list(folder.glob("*.xml"))) == 7
    for name in einvoice_example():
        (tmp_path / "first" / "input" / name).unlink()
    again = settle(tmp_path / "first", {"Beispiel.xlsx": example_2024()})
    assert again == folder and not list(folder.glob("*.xml"))


@pytest.mark.slow
def test_versenden_attaches_the_xrechnung_to_the_partners_draft(tmp_path):
    """SPEC § 8: `versenden` attaches the XML beside the letter; ASCII names; a partner
    without a Leitweg-ID gets the letter alone."""
    from email import policy
    from email.parser import BytesParser

    folder = settle(tmp_path, einvoice_example())
    done = run_kim("versenden", "--jahr", 2024, "--eingang", tmp_path / "input", "--ausgabe",
                   tmp_path / "output", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    def attachments(stem: str) -> dict[str, bytes]:
        msg = BytesParser(policy=policy.default).parsebytes(
            (folder / "E-Mails" / f"{stem}.eml").read_bytes())
        return {p.get_filename(): p.get_content() for p in msg.iter_attachments()}

    olfen = attachments("Abrechnung_2024_Olfen")
    assert sorted(olfen) == ["Abrechnung_2024_Olfen.xlsx", "Abrechnung_2024_Olfen.xml"]
    assert olfen["Abrechnung_2024_Olfen.xml"] == (folder / "Abrechnung_2024_Olfen.xml"
                                                  ).read_bytes()
    assert sorted(attachments(f"Abrechnung_2024_{NO_LEITWEG_ID}")) == [
        f"Abrechnung_2024_{NO_LEITWEG_ID}.xlsx"]

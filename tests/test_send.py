"""``kim-excel versenden`` (kim_excel/commands/send.py): the bills of the ledger as drafts to
review, then sent over a real SMTP server; what went out is recorded in the ledger and never goes
out again by itself.

The server is aiosmtpd on 127.0.0.1 (tests/smtp_fixture.py); the input is the shipped 2024
example (tests/builders.py) settled by the real run into ``tmp_path``.

Figures of the example (worked out in tests/test_calculation and shown by ``abrechnen``):
Region Nord 27,500.00 Eigenanteil in four equal parts → Billerbeck pays 6,875.00;
Region Süd 22,914.26 in five parts → 4,582.85 per partner (Ascheberg keeps the extra cent);
Nordkirchen paid 5,000.00 in advance → refund 5,000.00 − 4,582.85 = 417.15.
Settlement date 02.03.2025 + 30 days = 01.04.2025 (a Tuesday) is the due date.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import socket
import ssl
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import click.testing
import pytest
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.commands.send import STALE
from kim_excel.commands.settle import run_settlement
from kim_excel.ledger.book import SendResult
from kim_excel.ledger.folder import output_lock
from kim_excel.ledger.sendlog import LOG_COLUMNS
from kim_excel.ledger.transaction import read_ledger
from tests.builders import D, clone, example_2024, write
from tests.smtp_fixture import free_port, smtp_env

REPO = Path(__file__).resolve().parent.parent
PARTNERS = ("Billerbeck", "Havixbeck", "Rosendahl", "Nottuln", "Luedinghausen", "Nordkirchen",
            "Olfen", "Senden")
PASSWORD = "Geheim%7-Passwort!x9"
USER = "kaemmerei-coesfeld"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No SMTP settings of the developer's shell, no kim-excel-smtp.ini from elsewhere."""
    for key in list(os.environ):
        if key.startswith("KIM_SMTP"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@dataclass
class Folders:
    eingang: Path
    ausgabe: Path

    @property
    def year(self) -> Path:
        return self.ausgabe / "2024"


def settle(tmp_path: Path, form=None) -> Folders:
    folders = Folders(tmp_path / "input", tmp_path / "output")
    write(form or example_2024(), folders.eingang / "Abrechnung_2024.xlsx")
    run_settlement(folders.eingang, folders.ausgabe, today=date(2025, 3, 1))
    return folders


@pytest.fixture
def settled(tmp_path) -> Folders:
    return settle(tmp_path)


LOGINS: list[bytes] = []


def check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """The server's password check; a failure answers ``535`` (handled=False)."""
    LOGINS.append(auth_data.login)
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def versenden(folders: Folders, *args: str, env: dict[str, str] | None = None,
              input: str | None = None):
    return CliRunner().invoke(main, ["versenden", "--jahr", "2024", "--eingang",
                                     str(folders.eingang), "--ausgabe", str(folders.ausgabe),
                                     *args], env=env, input=input)


def log_rows(folders: Folders) -> list[dict[str, str]]:
    raw = (folders.year / "versand.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def attachment_bytes(msg: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def partner_address(file_stem: str) -> str:
    return f"kaemmerei@{file_stem.lower()}.example"


# ------------------------------------------------------------------------------ drafts


def test_drafts_parse_back_with_recipient_subject_and_the_settlement_attached(settled):
    result = versenden(settled)

    assert result.exit_code == 0, result.output
    assert "8 Entwürfe geschrieben" in result.output
    drafts = sorted((settled.year / "E-Mails").glob("*.eml"))
    assert [p.stem.removeprefix("Abrechnung_2024_") for p in drafts] == sorted(PARTNERS)
    for path in drafts:
        raw = path.read_bytes()
        assert all(byte < 128 for byte in raw), f"{path.name} is not 7-bit clean"
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        stem = path.stem.removeprefix("Abrechnung_2024_")
        assert msg["To"] == partner_address(stem)
        assert msg["X-Unsent"] == "1"
        assert msg["Message-ID"] and msg["Date"]
        xlsx = f"Abrechnung_2024_{stem}.xlsx"
        assert attachment_bytes(msg) == {xlsx: (settled.year / xlsx).read_bytes()}
        assert "2024" in msg.get_body(("plain",)).get_content()

    billerbeck = BytesParser(policy=policy.default).parsebytes(
        (settled.year / "E-Mails" / "Abrechnung_2024_Billerbeck.eml").read_bytes())
    assert billerbeck["Subject"] == ("Abrechnung Kommunales Case-Management 2024 – "
                                     "Stadt Billerbeck")
    assert billerbeck["From"] == "Stadt Coesfeld <kaemmerei@coesfeld.example>"
    text = billerbeck.get_body(("plain",)).get_content()
    assert "Bitte überweisen Sie 6.875,00 € bis zum 01.04.2025" in text
    assert "IBAN:            DE26 4015 4530 0000 1234 56" in text
    assert "Verwendungszweck: KIM-2024-NORD-01" in text
    assert "Frau Beispiel, Fachbereich Finanzen, Telefon 02541 939-0" in text


def test_a_refund_draft_says_what_is_paid_back_not_what_to_pay(settled):
    """Nordkirchen: share 4,582.85 less 5,000.00 advances → 417.15 back."""
    versenden(settled)

    msg = BytesParser(policy=policy.default).parsebytes(
        (settled.year / "E-Mails" / "Abrechnung_2024_Nordkirchen.eml").read_bytes())
    text = msg.get_body(("plain",)).get_content()
    assert msg["From"] == "Gemeinde Ascheberg <kaemmerei@ascheberg.example>"
    assert "abzüglich geleisteter Abschläge:  5.000,00 €" in text
    assert "Sie erhalten 417,15 €" in text
    assert "überweisen Sie" not in text


def fake_pdfs(paths: list[Path], folder: Path) -> list:
    """LibreOffice's part of ``abrechnen --pdf``, without LibreOffice (a second per run): one
    small PDF per letter, where the real converter writes it (tests/test_pdf.py)."""
    for path in paths:
        (folder / f"{path.stem}.pdf").write_bytes(b"%PDF-1.4 " + path.stem.encode() + b"\n")
    return []


def test_the_pdf_the_run_wrote_is_attached_too(tmp_path, monkeypatch):
    monkeypatch.setattr("kim_excel.documents.pdf.convert_letters", fake_pdfs)
    folders = Folders(tmp_path / "input", tmp_path / "output")
    write(example_2024(), folders.eingang / "Abrechnung_2024.xlsx")
    run_settlement(folders.eingang, folders.ausgabe, today=date(2025, 3, 1), pdf=True)
    pdf = folders.year / "Abrechnung_2024_Olfen.pdf"
    assert pdf.read_bytes() == b"%PDF-1.4 Abrechnung_2024_Olfen\n"

    assert versenden(folders).exit_code == 0

    msg = BytesParser(policy=policy.default).parsebytes(
        (folders.year / "E-Mails" / "Abrechnung_2024_Olfen.eml").read_bytes())
    attached = attachment_bytes(msg)
    assert attached["Abrechnung_2024_Olfen.pdf"] == pdf.read_bytes()
    assert [p.get_content_type() for p in msg.iter_attachments()] == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf"]


def test_the_same_settlement_gives_byte_identical_drafts(settled):
    versenden(settled)
    first = {p.name: p.read_bytes() for p in (settled.year / "E-Mails").iterdir()}
    versenden(settled)
    second = {p.name: p.read_bytes() for p in (settled.year / "E-Mails").iterdir()}
    assert first == second


def test_no_mail_when_the_input_changed_after_the_settlement(settled):
    """An advance of 1,000.00 for Billerbeck turns 6,875.00 into 5,875.00 – but the
    attachment still says 6,875.00, so nothing may be drafted."""
    form = example_2024()
    form.advances.append({"Kommune": "Billerbeck", "Datum": date(2024, 9, 1),
                          "Betrag": D("1000.00")})
    write(form, settled.eingang / "Abrechnung_2024.xlsx")

    result = versenden(settled)

    assert result.exit_code == 1
    assert STALE in result.stderr
    assert "Billerbeck: laut Abrechnung 6.875,00 € fällig am 01.04.2025, laut " \
           "Eingabe 5.875,00 €" in result.stderr
    assert "Traceback" not in result.output
    assert not (settled.year / "E-Mails").exists()


def test_no_mail_before_the_settlement_was_run(tmp_path):
    folders = Folders(tmp_path / "input", tmp_path / "output")
    write(example_2024(), folders.eingang / "Abrechnung_2024.xlsx")

    result = versenden(folders)

    assert result.exit_code == 1
    assert "Für 2024 gibt es noch keine Abrechnung" in result.stderr
    assert "bitte zuerst `kim-excel abrechnen` ausführen" in result.stderr


def test_the_year_asked_for_must_be_the_year_of_the_input(settled):
    nothing = CliRunner().invoke(main, ["versenden", "--jahr", "2023", "--eingang",
                                        str(settled.eingang), "--ausgabe", str(settled.ausgabe)])
    assert nothing.exit_code == 1
    assert "Für 2023 gibt es noch keine Abrechnung" in nothing.stderr

    other_year = clone(example_2024())
    other_year.settings["Abrechnungsjahr"] = 2023
    write(other_year, settled.ausgabe.parent / "input_2023" / "Abrechnung_2023.xlsx")
    result = CliRunner().invoke(main, ["versenden", "--jahr", "2024", "--eingang",
                                       str(settled.ausgabe.parent / "input_2023"),
                                       "--ausgabe", str(settled.ausgabe)])
    assert result.exit_code == 1
    assert "für das Abrechnungsjahr 2023, nicht für 2024" in result.stderr
    assert not (settled.year / "E-Mails").exists()


# ------------------------------------------------------------------------------ sending


def test_each_partner_receives_its_own_settlement(settled, smtp_server):
    mailbox = smtp_server()

    result = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert result.exit_code == 0, result.output
    assert "8 von 8 E-Mails gesendet" in result.output
    assert mailbox.recipients() == sorted(partner_address(p) for p in PARTNERS)
    for sender, rcpts, msg in mailbox.messages:
        stem = rcpts[0].split("@")[1].removesuffix(".example").capitalize()
        xlsx = f"Abrechnung_2024_{stem}.xlsx"
        assert attachment_bytes(msg) == {xlsx: (settled.year / xlsx).read_bytes()}
        assert msg["To"] == rcpts[0]
        assert "X-Unsent" not in msg
        assert sender == msg["From"].addresses[0].addr_spec
    senders = {rcpts[0]: sender for sender, rcpts, _ in mailbox.messages}
    assert senders[partner_address("Nottuln")] == "kaemmerei@duelmen.example"
    rows = log_rows(settled)
    assert list(rows[0]) == list(LOG_COLUMNS)
    assert [r["Ergebnis"] for r in rows] == ["gesendet"] * 8
    billerbeck = next(r for r in rows if r["Kommune"] == "Billerbeck")
    assert billerbeck["SHA256"] == hashlib.sha256(
        (settled.year / "Abrechnung_2024_Billerbeck.xlsx").read_bytes()).hexdigest()
    assert billerbeck["Empfaenger"] == "kaemmerei@billerbeck.example"
    ids = {msg["Message-ID"] for _, _, msg in mailbox.messages}
    assert {r["Message_ID"] for r in rows} == ids and len(ids) == 8


def test_a_rejected_recipient_does_not_stop_the_others_and_a_rerun_sends_only_it(
        settled, smtp_server):
    mailbox = smtp_server()
    mailbox.reject.add("kaemmerei@havixbeck.example")

    first = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert first.exit_code == 1
    assert ("Gemeinde Havixbeck: 2024-Havixbeck NICHT gesendet – Empfänger "
            "kaemmerei@havixbeck.example vom Mailserver abgelehnt (550 5.1.1 Postfach "
            "unbekannt).") in first.stderr
    assert "7 von 8 E-Mails gesendet, 1 nicht: Havixbeck" in first.output
    assert len(mailbox.messages) == 7
    assert "Traceback" not in first.output

    mailbox.reject.clear()
    mailbox.messages.clear()
    second = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert second.exit_code == 0, second.output
    assert mailbox.recipients() == ["kaemmerei@havixbeck.example"]
    assert second.output.count("übersprungen") == 7
    rows = log_rows(settled)  # the first run's lines are all still there
    assert [(r["Kommune"], r["Ergebnis"]) for r in rows if r["Kommune"] == "Havixbeck"] == [
        ("Havixbeck", "Fehler"), ("Havixbeck", "gesendet")]
    assert len(rows) == 9

    third = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))
    assert third.exit_code == 0
    assert "Nichts zu senden: alles ist bereits versandt" in third.output
    assert len(mailbox.messages) == 1


def test_erneut_sends_again_what_was_already_sent(settled, smtp_server):
    mailbox = smtp_server()
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    again = versenden(settled, "--senden", "--ja", "--erneut", env=smtp_env(mailbox))

    assert again.exit_code == 0
    assert len(mailbox.messages) == 16
    first_ids = {m["Message-ID"] for _, _, m in mailbox.messages[:8]}
    second_ids = {m["Message-ID"] for _, _, m in mailbox.messages[8:]}
    assert not first_ids & second_ids  # receiving systems must not drop them as duplicates
    assert "ERNEUT, eine Kopie" in again.output
    assert sorted(r["Meldung"] for r in log_rows(settled)) == [""] * 8 + ["Kopie (--erneut)"] * 8


def test_a_bill_that_went_out_is_not_sent_again_even_after_its_file_changed(settled,
                                                                           smtp_server):
    """The ledger binds 'sent' to the bill, not to the file's bytes: a letter changed by hand
    afterwards is neither sent again by itself nor, with --erneut, as a copy (kim-excel sends
    only what it wrote itself)."""
    mailbox = smtp_server()
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))
    olfen = settled.year / "Abrechnung_2024_Olfen.xlsx"
    olfen.write_bytes(olfen.read_bytes() + b"edited")

    again = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert again.exit_code == 0, again.output
    assert "Nichts zu senden" in again.output
    assert "übersprungen  Stadt Olfen: 2024-Olfen ging bereits per E-Mail am" in again.output
    assert len(mailbox.messages) == 8

    copies = versenden(settled, "--senden", "--ja", "--erneut", env=smtp_env(mailbox))

    assert ("übersprungen  Stadt Olfen: Abrechnung_2024_Olfen.xlsx wurde nach dem Schreiben "
            "von Hand geändert") in copies.output
    assert len(mailbox.messages) == 8 + 7
    assert "kaemmerei@olfen.example" not in [r for _, rcpts, _ in mailbox.messages[8:]
                                             for r in rcpts]


def test_a_partner_without_address_is_reported_and_the_others_still_go_out(tmp_path,
                                                                          smtp_server):
    form = example_2024()
    for party in form.parties:
        if party["Kommune"] == "Rosendahl":
            party["E-Mail"] = ""
    folders = settle(tmp_path, form)
    mailbox = smtp_server()

    result = versenden(folders, "--senden", "--ja", env=smtp_env(mailbox))

    assert result.exit_code == 1
    assert "übersprungen  Gemeinde Rosendahl: keine E-Mail-Adresse in Vertragsparteien" \
        in result.output
    assert len(mailbox.messages) == 7
    rosendahl = [r for r in log_rows(folders) if r["Kommune"] == "Rosendahl"]
    assert [r["Ergebnis"] for r in rosendahl] == ["ohne Adresse"]


def test_a_test_run_goes_to_one_address_and_does_not_count_as_sent(settled, smtp_server):
    mailbox = smtp_server()

    test = versenden(settled, "--senden", "--ja", "--an", "pruefung@coesfeld.example",
                     env=smtp_env(mailbox))

    assert test.exit_code == 0, test.output
    assert mailbox.recipients() == ["pruefung@coesfeld.example"] * 8
    assert {m["To"] for _, _, m in mailbox.messages} == {"pruefung@coesfeld.example"}
    rows = log_rows(settled)
    assert {r["Ergebnis"] for r in rows} == {"Test"}
    assert {r["Empfaenger"] for r in rows} == {"pruefung@coesfeld.example"}
    assert "Probe statt an kaemmerei@billerbeck.example" in {r["Meldung"] for r in rows}

    mailbox.messages.clear()
    real = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))
    assert real.exit_code == 0
    assert mailbox.recipients() == sorted(partner_address(p) for p in PARTNERS)


@pytest.fixture
def a_terminal(monkeypatch):
    """The CliRunner's stdin behaves as a terminal: ``versenden`` asks only in one."""
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty",
                        lambda self: self.name == "<stdin>", raising=False)


def test_without_a_terminal_nothing_is_sent_without_ja(settled, smtp_server):
    mailbox = smtp_server()

    no_stdin = versenden(settled, "--senden", env=smtp_env(mailbox), input="j\n")

    assert no_stdin.exit_code == 1
    assert "Keine Bestätigung möglich" in no_stdin.stderr and "--ja" in no_stdin.stderr
    assert mailbox.messages == []


def test_sending_asks_first_and_sends_nothing_without_a_yes(settled, smtp_server, a_terminal):
    mailbox = smtp_server()

    no_stdin = versenden(settled, "--senden", env=smtp_env(mailbox))
    declined = versenden(settled, "--senden", env=smtp_env(mailbox), input="n\n")

    assert no_stdin.exit_code == 1 and declined.exit_code == 1
    assert "Abgebrochen." in no_stdin.output  # the terminal closed without an answer
    assert "Abgebrochen – nichts gesendet." in declined.output
    assert ("senden        an kaemmerei@billerbeck.example – Stadt Billerbeck: 2024-Billerbeck, "
            "zahlt 6.875,00 €, Anhang Abrechnung_2024_Billerbeck.xlsx, von "
            "kaemmerei@coesfeld.example") in declined.output
    assert mailbox.messages == []
    assert not (settled.year / "versand.csv").exists()

    confirmed = versenden(settled, "--senden", env=smtp_env(mailbox), input="j\n")
    assert confirmed.exit_code == 0
    assert len(mailbox.messages) == 8


@pytest.mark.slow
def test_without_a_terminal_the_real_command_refuses_cleanly(settled, smtp_server):
    """A fresh process with stdin closed (a scheduled task) and no --ja."""
    mailbox = smtp_server()
    env = {**os.environ, **smtp_env(mailbox), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "kim_excel", "versenden", "--jahr", "2024", "--eingang",
         str(settled.eingang), "--ausgabe", str(settled.ausgabe), "--senden"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "Keine Bestätigung möglich" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert mailbox.messages == []


# ------------------------------------------------------------------------------ the server side


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_the_right_password_and_a_clear_message_for_the_wrong_one(settled,
                                                                             smtp_server):
    mailbox = smtp_server(authenticator=check_login, auth_required=True,
                          auth_require_tls=False)
    wrong_password = "Vertipper-Q7z!"
    LOGINS.clear()

    wrong = versenden(settled, "--senden", "--ja", env=smtp_env(
        mailbox, KIM_SMTP_USER=USER, KIM_SMTP_PASSWORD=wrong_password))

    assert wrong.exit_code == 1
    assert (f"Anmeldung am Mailserver 127.0.0.1:{mailbox.port} fehlgeschlagen: Benutzername "
            f"„{USER}“ oder Passwort falsch") in wrong.stderr
    assert wrong.stderr.count("NICHT gesendet") == 8
    assert mailbox.messages == []
    assert 1 <= len(LOGINS) <= 2  # one connection (PLAIN, then LOGIN), not one per partner

    right = versenden(settled, "--senden", "--ja", env=smtp_env(
        mailbox, KIM_SMTP_USER=USER, KIM_SMTP_PASSWORD=PASSWORD))

    assert right.exit_code == 0, right.output
    assert len(mailbox.messages) == 8
    for output in (wrong.output, right.output, (settled.year / "versand.csv").read_text(
            encoding="utf-8-sig")):
        assert PASSWORD not in output and wrong_password not in output


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for one day."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:  # pragma: no cover - the openssl command line does the same
        return make_certificate_with_openssl(folder)
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def make_certificate_with_openssl(folder: Path) -> tuple[Path, Path]:  # pragma: no cover
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key_path), "-out", str(cert_path)],
                   check=True, capture_output=True, timeout=30)
    return cert_path, key_path


def test_starttls_with_a_self_signed_certificate_trusted_by_cafile(settled, smtp_server,
                                                                   tmp_path):
    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = smtp_server(tls_context=context, require_starttls=True, auth_required=True,
                          authenticator=check_login)  # AUTH only after STARTTLS
    env = smtp_env(mailbox, KIM_SMTP_STARTTLS="ja", KIM_SMTP_USER=USER,
                   KIM_SMTP_PASSWORD=PASSWORD)

    untrusted = versenden(settled, "--senden", "--ja", env=env)

    assert untrusted.exit_code == 1
    assert (f"TLS-Verbindung zum Mailserver 127.0.0.1:{mailbox.port} fehlgeschlagen: sein "
            f"Zertifikat ist nicht vertrauenswürdig") in untrusted.stderr
    assert "KIM_SMTP_CAFILE" in untrusted.stderr
    assert mailbox.messages == []

    trusted = versenden(settled, "--senden", "--ja", env={**env, "KIM_SMTP_CAFILE": str(cert)})

    assert trusted.exit_code == 0, trusted.output
    assert len(mailbox.messages) == 8
    assert PASSWORD not in trusted.output + untrusted.output


def test_a_server_without_starttls_is_refused_unless_switched_off(settled, smtp_server):
    mailbox = smtp_server()

    result = versenden(settled, "--senden", "--ja",
                       env=smtp_env(mailbox, KIM_SMTP_STARTTLS="ja"))

    assert result.exit_code == 1
    assert "bietet keine Verschlüsselung (STARTTLS) an" in result.stderr
    assert mailbox.messages == []


def test_connection_refused_is_reported_per_partner_in_german(settled):
    port = free_port()  # nothing listens there any more

    result = versenden(settled, "--senden", "--ja", env={
        "KIM_SMTP_HOST": "127.0.0.1", "KIM_SMTP_PORT": str(port), "KIM_SMTP_STARTTLS": "nein"})

    assert result.exit_code == 1
    assert (f"Stadt Billerbeck: 2024-Billerbeck NICHT gesendet – Verbindung zum Mailserver "
            f"127.0.0.1:{port} abgelehnt") in result.stderr
    assert result.stderr.count("abgelehnt – läuft der Server") == 8
    assert "Traceback" not in result.output
    assert [r["Ergebnis"] for r in log_rows(settled)] == ["Fehler"] * 8


def test_a_server_that_never_answers_times_out_with_a_german_message(settled):
    with socket.socket() as silent:  # accepts connections into its backlog, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]

        result = versenden(settled, "--senden", "--ja", env={
            "KIM_SMTP_HOST": "127.0.0.1", "KIM_SMTP_PORT": str(port),
            "KIM_SMTP_STARTTLS": "nein", "KIM_SMTP_TIMEOUT": "0,3"})

    assert result.exit_code == 1
    assert (f"Zeitüberschreitung: der Mailserver 127.0.0.1:{port} antwortet nicht "
            f"(nach 0.3 s)") in result.stderr
    assert result.stderr.count("NICHT gesendet") == 8


def test_no_server_configured_is_a_clear_message(settled):
    result = versenden(settled, "--senden", "--ja")
    assert result.exit_code == 1
    assert "Kein Mailserver eingestellt: bitte KIM_SMTP_HOST setzen" in result.stderr


# ------------------------------------------------------------------------------ settings


def test_bad_settings_are_listed_in_german(settled):
    result = versenden(settled, "--senden", "--ja", env={
        "KIM_SMTP_HOST": "x", "KIM_SMTP_PORT": "smtp", "KIM_SMTP_STARTTLS": "vielleicht"})
    assert result.exit_code == 1
    assert "port (KIM_SMTP_PORT) „smtp“: erlaubt ist eine Zahl von 1 bis 65535." in result.stderr
    assert "starttls (KIM_SMTP_STARTTLS) „vielleicht“: erlaubt sind ja oder nein." \
        in result.stderr


def test_kim_smtp_from_replaces_the_sender_and_replies_still_reach_the_employer(
        settled, smtp_server):
    mailbox = smtp_server()

    versenden(settled, "--senden", "--ja",
              env=smtp_env(mailbox, KIM_SMTP_FROM="postfach@kreis.example"))

    sender, _, msg = next(m for m in mailbox.messages
                          if m[1] == ["kaemmerei@billerbeck.example"])
    assert sender == "postfach@kreis.example"
    assert msg["From"] == "Stadt Coesfeld <postfach@kreis.example>"
    assert msg["Reply-To"] == "Stadt Coesfeld <kaemmerei@coesfeld.example>"


# ------------------------------------------------------------------------------ with abrechnen


def test_drafts_and_send_log_survive_a_new_settlement_run(settled, smtp_server):
    mailbox = smtp_server()
    versenden(settled)
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))
    log_before = (settled.year / "versand.csv").read_bytes()

    run_settlement(settled.eingang, settled.ausgabe, today=date(2025, 3, 1))

    assert (settled.year / "versand.csv").read_bytes() == log_before
    assert len(list((settled.year / "E-Mails").glob("*.eml"))) == 8
    assert (settled.year / "Buchungsliste_2024.csv").exists()


def test_an_employer_without_address_cannot_send_but_its_drafts_are_written(tmp_path,
                                                                             smtp_server):
    form = clone(example_2024())
    for party in form.parties:
        if party["Kommune"] == "Dülmen":
            party["E-Mail"] = ""
    folders = settle(tmp_path, form)
    mailbox = smtp_server()

    drafts = versenden(folders)
    sent = versenden(folders, "--senden", "--ja", env=smtp_env(mailbox))

    assert drafts.exit_code == 0
    assert "für Stadt Dülmen ist keine E-Mail-Adresse eingetragen" in drafts.stderr
    assert sent.exit_code == 1
    assert "Gemeinde Nottuln: 2024-Nottuln NICHT gesendet – kein Absender" in sent.stderr
    assert len(mailbox.messages) == 7


def test_an_and_erneut_only_make_sense_when_sending(settled):
    result = versenden(settled, "--an", "pruefung@coesfeld.example")
    assert result.exit_code == 2
    assert "--an und --erneut gelten nur zusammen mit --senden." in result.output
    assert not (settled.year / "E-Mails").exists()


def test_no_mail_while_a_settlement_run_writes_the_same_output(settled, smtp_server):
    """Attachments must not be swapped under a send: the run's lock keeps them apart."""
    mailbox = smtp_server()
    with output_lock(settled.ausgabe):
        result = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert result.exit_code == 1
    assert "Ein anderer kim-excel-Lauf schreibt gerade" in result.stderr
    assert mailbox.messages == []


# ------------------------------------------------------------------------------ the ledger


def test_what_was_sent_is_recorded_in_the_ledger_and_issues_its_region(settled, smtp_server):
    """A test mail issues nothing and counts as not sent; a real one is recorded on its bill
    (recipient, attachments and their hashes, Message-ID) and issues the region it belongs
    to (SPEC § 7)."""
    mailbox = smtp_server()
    versenden(settled, "--senden", "--ja", "--an", "pruefung@coesfeld.example",
              env=smtp_env(mailbox))

    tested = read_ledger(settled.ausgabe, 2024)
    assert not any(r.is_issued for r in tested.regions.values())
    assert {b.sendings[0].result for _, _, b in tested.bills()} == {SendResult.TEST}
    assert not any(b.delivered for _, _, b in tested.bills())

    mailbox.reject.add("kaemmerei@nottuln.example")  # Mitte's only partner
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    ledger = read_ledger(settled.ausgabe, 2024)
    assert {n: r.is_issued for n, r in ledger.regions.items()} == {
        "Nord": True, "Mitte": False, "Süd": True}
    _, version, bill = ledger.bill("2024-Billerbeck")
    assert version.issued_on == date.today()
    assert bill.sent.recipient == "kaemmerei@billerbeck.example"
    assert bill.sent.attachments == ("Abrechnung_2024_Billerbeck.xlsx",)
    letter = settled.year / "Abrechnung_2024_Billerbeck.xlsx"
    assert bill.sent.hashes == (hashlib.sha256(letter.read_bytes()).hexdigest(),)
    assert bill.sent.message_id in {m["Message-ID"] for _, _, m in mailbox.messages}
    nottuln = ledger.bill("2024-Nottuln")[2]
    assert [s.result for s in nottuln.sendings] == [SendResult.TEST, SendResult.FAILED]
    assert nottuln.sent is None


def test_letters_posted_by_festschreiben_are_never_mailed_nor_drafted(settled, smtp_server):
    mailbox = smtp_server()
    posted = CliRunner().invoke(main, ["festschreiben", "--jahr", "2024", "--region", "Nord",
                                       "--ausgabe", str(settled.ausgabe), "--ja"])
    assert posted.exit_code == 0, posted.output

    drafts = versenden(settled)

    assert drafts.exit_code == 0, drafts.output
    assert "5 Entwürfe geschrieben" in drafts.output
    assert sorted(p.stem for p in (settled.year / "E-Mails").glob("*.eml")) == [
        f"Abrechnung_2024_{p}" for p in sorted(PARTNERS[3:])]
    today = date.today().strftime("%d.%m.%Y")
    assert (f"übersprungen  Stadt Billerbeck: 2024-Billerbeck ging bereits per Post am {today} "
            f"hinaus (eine Kopie sendet nur --erneut)") in drafts.output

    sent = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert sent.exit_code == 0, sent.output
    assert "5 von 5 E-Mails gesendet" in sent.output
    assert mailbox.recipients() == sorted(partner_address(p) for p in PARTNERS[3:])


def test_after_sending_no_draft_is_written_for_what_went_out(settled, smtp_server):
    mailbox = smtp_server()
    mailbox.reject.add("kaemmerei@olfen.example")
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    drafts = versenden(settled)

    assert drafts.exit_code == 0, drafts.output
    assert [p.name for p in (settled.year / "E-Mails").glob("*.eml")] == [
        "Abrechnung_2024_Olfen.eml"]
    assert drafts.output.count("übersprungen") == 7
    assert "1 Entwurf geschrieben" in drafts.output


def test_without_eingang_it_sends_what_the_ledger_holds_whatever_lies_in_input(settled):
    """Only an explicit --eingang is checked against the ledger: reminders and late mails go
    out in the next year whatever the clerk has put into input/ since (SPEC § 7)."""
    form = example_2024()
    form.advances.append({"Kommune": "Billerbeck", "Datum": date(2024, 9, 1),
                          "Betrag": D("1000.00")})
    write(form, settled.eingang / "Abrechnung_2024.xlsx")  # ./input, the default

    result = CliRunner().invoke(main, ["versenden", "--jahr", "2024", "--ausgabe",
                                       str(settled.ausgabe)])

    assert result.exit_code == 0, result.output
    assert "8 Entwürfe geschrieben" in result.output
    assert "kim-excel versenden --jahr 2024 --ausgabe " in result.output
    msg = BytesParser(policy=policy.default).parsebytes(
        (settled.year / "E-Mails" / "Abrechnung_2024_Billerbeck.eml").read_bytes())
    assert "Bitte überweisen Sie 6.875,00 €" in msg.get_body(("plain",)).get_content()


def test_deleting_the_send_log_loses_nothing(settled, smtp_server):
    """``versand.csv`` is written from the ledger: without it nothing is sent twice, and the
    next command that writes the folder puts it back as it was."""
    mailbox = smtp_server()
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))
    log = settled.year / "versand.csv"
    before = log.read_bytes()
    log.unlink()

    again = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert again.exit_code == 0, again.output
    assert "Nichts zu senden" in again.output
    assert len(mailbox.messages) == 8
    assert versenden(settled).exit_code == 0  # drafts: the folder is written anew
    assert log.read_bytes() == before


def test_a_send_log_that_cannot_be_written_stops_sending_with_a_german_reason(settled,
                                                                            smtp_server):
    """Every attempt is written at once; when that fails, every further mail would go
    unrecorded, so the run stops after the first and names the reason (core/files.os_reason)."""
    mailbox = smtp_server()
    (settled.year / "versand.csv").mkdir()  # like a file Excel holds open: not replaceable

    result = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert result.exit_code == 1
    assert "(ein Ordner steht, wo eine Datei sein sollte)" in result.stderr
    assert ("Zuletzt: Stadt Billerbeck: 2024-Billerbeck gesendet an "
            "kaemmerei@billerbeck.example. Der Versand wurde angehalten.") in result.stderr
    assert "Traceback" not in result.output
    assert len(mailbox.messages) == 1


def test_a_send_log_that_cannot_be_written_never_makes_a_partner_receive_twice(
        settled, smtp_server):
    mailbox = smtp_server()
    log = settled.year / "versand.csv"
    log.mkdir()
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))
    assert len(mailbox.messages) == 1  # Billerbeck's went out before the log failed

    assert read_ledger(settled.ausgabe, 2024).bill("2024-Billerbeck")[2].sent is not None
    log.rmdir()
    versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))
    assert mailbox.recipients() == sorted(partner_address(p) for p in PARTNERS)


def test_a_letter_changed_by_hand_and_not_sent_makes_the_run_fail(settled, smtp_server):
    mailbox = smtp_server()
    olfen = settled.year / "Abrechnung_2024_Olfen.xlsx"
    olfen.write_bytes(olfen.read_bytes() + b"edited")

    result = versenden(settled, "--senden", "--ja", env=smtp_env(mailbox))

    assert "übersprungen  Stadt Olfen: Abrechnung_2024_Olfen.xlsx wurde nach dem Schreiben " \
           "von Hand geändert" in result.output
    assert len(mailbox.messages) == 7
    assert result.exit_code == 1


def test_a_pdf_the_clerk_saved_beside_a_letter_does_not_block_sending(settled):
    own = settled.year / "Abrechnung_2024_Olfen.pdf"  # Excel's "Save as PDF" name
    own.write_bytes(b"%PDF-1.4 printed by the clerk\n")

    result = versenden(settled)

    assert result.exit_code == 0, result.stderr
    assert own.read_bytes() == b"%PDF-1.4 printed by the clerk\n"


def test_a_correction_is_drafted_with_the_difference_and_the_bill_it_corrects(settled):
    """Nord posted on 05.03.2025, then 4,000.00 more costs: Billerbeck's correction
    2024-Billerbeck-K1 asks for 1,000.00 by 02.07.2025; the posted originals get no draft."""
    posted = CliRunner().invoke(main, ["festschreiben", "--jahr", "2024", "--region", "Nord",
                                       "--ausgabe", str(settled.ausgabe), "--ja"])
    assert posted.exit_code == 0, posted.output
    form = example_2024()
    form.positions[0]["Personalkosten"] += 4000
    write(form, settled.eingang / "Abrechnung_2024.xlsx")
    run_settlement(settled.eingang, settled.ausgabe, today=date(2025, 6, 2))

    result = versenden(settled)

    assert result.exit_code == 0, result.output
    drafts = sorted(p.stem for p in (settled.year / "E-Mails").glob("*.eml"))
    assert drafts == sorted([f"Korrektur_2024_{p}_1" for p in PARTNERS[:3]]
                            + [f"Abrechnung_2024_{p}" for p in PARTNERS[3:]])
    msg = BytesParser(policy=policy.default).parsebytes(
        (settled.year / "E-Mails" / "Korrektur_2024_Billerbeck_1.eml").read_bytes())
    assert msg["Subject"] == ("Korrektur 2024-Billerbeck-K1 – Abrechnung Kommunales "
                              "Case-Management 2024 – Stadt Billerbeck")
    text = msg.get_body(("plain",)).get_content()
    assert "Abrechnung 2024-Billerbeck vom 02.03.2025 geändert" in text
    assert "Differenz zur bisherigen Abrechnung:  1.000,00 €" in text
    assert "Bitte überweisen Sie 1.000,00 € bis zum 02.07.2025" in text
    assert "Rechnung 2024-Billerbeck-K1" in text  # the Verwendungszweck names the correction
    assert list(attachment_bytes(msg)) == ["Korrektur_2024_Billerbeck_1.xlsx"]

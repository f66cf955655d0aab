"""SMTP settings (kim_excel/smtp.py): config file and ``KIM_SMTP_*`` variables, checks, no
password anywhere. Sending over a real server is tested in tests/test_send.py."""

from __future__ import annotations

import pytest

from kim_excel.commands.smtp import SmtpConfig, config_from_values, load_smtp_config, require_server
from kim_excel.core.errors import MailError

PASSWORD = "Geheim%7-Passwort!x9"


def test_the_config_file_is_read_and_environment_variables_override_it(tmp_path):
    ini = tmp_path / "kim-excel-smtp.ini"
    ini.write_text("[smtp]\nhost = mail.coesfeld.example\nport = 2525\nuser = kasse\n"
                   f"password = {PASSWORD}\nstarttls = nein\nfrom = kasse@coesfeld.example\n",
                   encoding="utf-8")

    from_file = load_smtp_config({}, tmp_path)
    overridden = load_smtp_config({"KIM_SMTP_PORT": "587", "KIM_SMTP_STARTTLS": "ja"}, tmp_path)
    elsewhere = load_smtp_config({"KIM_SMTP_CONFIG": str(ini)}, tmp_path / "nowhere")

    assert (from_file.host, from_file.port, from_file.user, from_file.password,
            from_file.starttls, from_file.sender) == (
        "mail.coesfeld.example", 2525, "kasse", PASSWORD, False, "kasse@coesfeld.example")
    assert (overridden.host, overridden.port, overridden.starttls) == (
        "mail.coesfeld.example", 587, True)
    assert elsewhere.host == "mail.coesfeld.example"
    assert PASSWORD not in repr(from_file) and PASSWORD not in str(from_file)


def test_smtp_config_never_shows_the_password():
    config = SmtpConfig(host="h", user="u", password=PASSWORD)
    assert PASSWORD not in repr(config)


def test_every_bad_setting_is_listed_at_once_in_german(tmp_path):
    with pytest.raises(MailError) as raised:
        config_from_values({"port": "0", "starttls": "vielleicht", "timeout": "-1",
                            "from": "kasse", "cafile": str(tmp_path / "fehlt.pem")}, "test")

    assert str(raised.value).splitlines() == [
        "Die SMTP-Einstellungen sind fehlerhaft:",
        "  – starttls (KIM_SMTP_STARTTLS) „vielleicht“: erlaubt sind ja oder nein.",
        "  – port (KIM_SMTP_PORT) „0“: erlaubt ist eine Zahl von 1 bis 65535.",
        "  – timeout (KIM_SMTP_TIMEOUT) „-1“: erlaubt ist eine Zahl von Sekunden über 0.",
        "  – from (KIM_SMTP_FROM) „kasse“ ist keine E-Mail-Adresse.",
        f"  – cafile (KIM_SMTP_CAFILE) „{tmp_path / 'fehlt.pem'}“: Datei nicht gefunden.",
    ]


def test_without_starttls_the_default_port_is_25_and_a_decimal_comma_timeout_is_read():
    plain = config_from_values({"starttls": "nein", "timeout": "2,5"}, "test")
    secured = config_from_values({}, "test")

    assert (plain.port, plain.starttls, plain.timeout) == (25, False, 2.5)
    assert (secured.port, secured.starttls, secured.timeout) == (587, True, 30.0)


def test_an_unreadable_config_file_is_named_but_its_lines_are_never_quoted(tmp_path):
    ini = tmp_path / "kim-excel-smtp.ini"
    ini.write_text(f"[smtp]\nhost = mail.example\npassword {PASSWORD}\n", encoding="utf-8")

    with pytest.raises(MailError) as raised:
        load_smtp_config({}, tmp_path)

    assert f"Die SMTP-Einstellungsdatei „{ini}“ ist nicht lesbar" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_unknown_keys_and_a_missing_section_in_the_config_file_are_named(tmp_path):
    ini = tmp_path / "kim-excel-smtp.ini"
    ini.write_text("[smtp]\nhost = mail.example\nkennwort = x\nserver = y\n", encoding="utf-8")
    with pytest.raises(MailError, match="sind unbekannte Einträge: kennwort, server"):
        load_smtp_config({}, tmp_path)

    ini.write_text("[mail]\nhost = mail.example\n", encoding="utf-8")
    with pytest.raises(MailError, match=r"fehlt der Abschnitt \[smtp\]"):
        load_smtp_config({}, tmp_path)

    with pytest.raises(MailError, match="gibt es nicht"):
        load_smtp_config({"KIM_SMTP_CONFIG": str(tmp_path / "fehlt.ini")}, tmp_path)


def test_a_server_is_required_and_a_user_needs_a_password():
    with pytest.raises(MailError, match="Kein Mailserver eingestellt"):
        require_server(SmtpConfig())
    with pytest.raises(MailError, match="KIM_SMTP_USER ist gesetzt, aber kein Passwort"):
        require_server(SmtpConfig(host="mail.example", user="kasse"))
    require_server(SmtpConfig(host="mail.example", user="kasse", password=PASSWORD))

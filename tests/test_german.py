"""german.py (parsing half): numbers, dates and one set of yes/no words."""

from __future__ import annotations

from datetime import date

from kim_excel.commands import smtp
from kim_excel.core.german import NO, YES, german_number_text, parse_german_date, yes_no_word


def test_one_set_of_yes_no_words_for_the_form_and_the_smtp_settings():
    assert smtp.TRUE is YES and smtp.FALSE is NO
    for word in ("Ja", "WAHR", "x", "1", "on"):
        assert yes_no_word(word) is True
    for word in ("Nein", "FALSCH", "0", "aus", ""):
        assert yes_no_word(word) is False
    assert yes_no_word("vielleicht") is None


def test_starttls_takes_the_same_words_as_the_form():
    config = smtp.config_from_values({"host": "h", "starttls": "WAHR"}, "test")
    assert config.starttls is True
    config = smtp.config_from_values({"host": "h", "starttls": "x"}, "test")
    assert config.starttls is True


def test_german_numbers():
    assert german_number_text("1.234,56 €") == "1234.56"
    assert german_number_text("7,5") == "7.5"
    assert german_number_text("12 EUR") == "12"
    assert german_number_text("1,2,3") == "1,2,3"


def test_german_dates():
    assert parse_german_date("31.12.2024") == date(2024, 12, 31)
    assert parse_german_date(" 1.2.2025 ") == date(2025, 2, 1)
    assert parse_german_date("31.02.2024") is None
    assert parse_german_date("2024-12-31") is None

"""click's own texts (usage, help, usage errors) in German.

click marks its texts for gettext but ships no German catalogue; the few it shows a clerk
are translated here and swapped in when the command line starts.
"""

from __future__ import annotations

GERMAN = {
    "Usage:": "Aufruf:",
    "Options": "Optionen",
    "Commands": "Befehle",
    "Show this message and exit.": "Diese Hilfe anzeigen und beenden.",
    "Show the version and exit.": "Version anzeigen und beenden.",
    "Error: {message}": "Fehler: {message}",
    "Try '{command} {option}' for help.": "Hilfe: '{command} {option}'.",
    "No such command {name!r}.": "Unbekannter Befehl {name!r}.",
    "No such option {name!r}.": "Unbekannte Option {name!r}.",
    "No such option: {name}": "Unbekannte Option: {name}",
    "Missing argument": "Fehlendes Argument",
    "Missing option": "Fehlende Option",
    "Missing parameter": "Fehlende Angabe",
    "Missing command.": "Befehl fehlt.",
    "Invalid value for {param_hint}: {message}": "Ungültiger Wert für {param_hint}: {message}",
    "Invalid value: {message}": "Ungültiger Wert: {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} ist keine gültige Zahl.",
    "{value} is not in the range {range}.": "{value} liegt nicht im Bereich {range}.",
    "Aborted!": "Abgebrochen.",
    "Do you want to continue?": "Fortfahren?",
    "default: {default}": "Standard: {default}",
    "Option {name!r} requires an argument.": "Option {name!r} braucht einen Wert.",
    "Option {name!r} does not take a value.": "Option {name!r} nimmt keinen Wert.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} gibt es nicht.",
    "file": "Datei",
    "directory": "Ordner",
    "path": "Pfad",
}
GERMAN_PLURAL = {
    "Got unexpected extra argument ({args})": "Unerwartetes zusätzliches Argument ({args})",
    "Got unexpected extra arguments ({args})": "Unerwartete zusätzliche Argumente ({args})",
}


def german(message: str) -> str:
    return GERMAN.get(message, message)


def german_plural(singular: str, plural: str, n: int) -> str:
    text = singular if n == 1 else plural
    return GERMAN_PLURAL.get(text, text)


def install() -> None:
    """Replace click's gettext functions by the German lookup (idempotent)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.termui, click.types):
        module._ = german
        if hasattr(module, "ngettext"):
            module.ngettext = german_plural

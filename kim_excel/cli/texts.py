"""click's own texts (usage, help, usage errors) in German.

click marks its texts for gettext but ships no German catalogue; the few it shows a clerk
are translated here and swapped in when the command line starts. Two texts click does not
mark are replaced too: the names of its value types (``INTEGER``, ``TEXT`` … in the help)
and the description of a number range (``x>=1``). This relies on click 8's module layout
(``_``/``ngettext`` per module, ``_NumberRangeBase._describe_range``): pyproject pins
``click<9``, and ``tests/test_cli_texts.py`` finds any English word that comes back.
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
    "{value} is not in the range {range}.": "erlaubt ist {range}.",
    "Aborted!": "Abgebrochen.",
    "Do you want to continue?": "Fortfahren?",
    "default: {default}": "Standard: {default}",
    "required": "Pflichtangabe",
    "env var: {var}": "Umgebungsvariable: {var}",
    "(dynamic)": "(wird ermittelt)",
    "Positional arguments": "Argumente",
    "Missing parameter: {param_name}": "Fehlende Angabe: {param_name}",
    "Invalid start character for option ({option})": "Ungültiges erstes Zeichen einer "
                                                      "Option ({option})",
    "Option {name!r} requires an argument.": "Option {name!r} braucht einen Wert.",
    "Option {name!r} does not take a value.": "Option {name!r} nimmt keinen Wert.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} gibt es nicht.",
    "file": "Datei",
    "directory": "Ordner",
    "path": "Pfad",
}
GERMAN_PLURAL = {
    "Did you mean {possibility}?": "Meinten Sie {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Meinten Sie eines von: {possibilities}?)",
    "Option {name!r} requires {nargs} arguments.": "Option {name!r} braucht {nargs} Werte.",
    "Got unexpected extra argument ({args})": "Unerwartetes zusätzliches Argument ({args})",
    "Got unexpected extra arguments ({args})": "Unerwartete zusätzliche Argumente ({args})",
}


# click's value types by the name the help shows in capitals (``--jahr ZAHL``).
TYPE_NAMES = {
    "StringParamType": "text",
    "UnprocessedParamType": "text",
    "IntParamType": "zahl",
    "IntRange": "zahl",
    "FloatParamType": "zahl",
    "FloatRange": "zahl",
    "BoolParamType": "ja/nein",
    "UUIDParameterType": "uuid",
    "File": "datei",
}


def german_number(value: float) -> str:
    """``0.05`` → ``0,05``, ``2.0`` → ``2``."""
    return f"{value:g}".replace(".", ",")


def describe_range(self) -> str:
    """``mindestens 1``, ``höchstens 5``, ``1 bis 120``, ``größer als 0``."""
    low = None if self.min is None else german_number(self.min)
    high = None if self.max is None else german_number(self.max)
    if low is not None and high is not None and not (self.min_open or self.max_open):
        return f"{low} bis {high}"
    parts = []
    if low is not None:
        parts.append(f"größer als {low}" if self.min_open else f"mindestens {low}")
    if high is not None:
        parts.append(f"kleiner als {high}" if self.max_open else f"höchstens {high}")
    return " und ".join(parts)


def german(message: str) -> str:
    return GERMAN.get(message, message)


def german_plural(singular: str, plural: str, n: int) -> str:
    text = singular if n == 1 else plural
    return GERMAN_PLURAL.get(text) or german(text)


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
    for type_name, german_name in TYPE_NAMES.items():
        getattr(click.types, type_name).name = german_name
    click.types._NumberRangeBase._describe_range = describe_range

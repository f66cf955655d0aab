"""SMTP for ``kim-excel versenden``: the settings and the transport (split out of mailing.py).

Settings come from ``kim-excel-smtp.ini`` (or the file named in ``KIM_SMTP_CONFIG``) and the
``KIM_SMTP_*`` environment variables, which win; never from the workbook. The password is
kept out of every message, log line and ``repr``.
"""

from __future__ import annotations

import configparser
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from kim_excel.core.errors import MailError
from kim_excel.core.german import NO as FALSE
from kim_excel.core.german import YES as TRUE

CONFIG_NAME = "kim-excel-smtp.ini"
CONFIG_SECTION = "smtp"


# ---------------------------------------------------------------------------------------------
# SMTP settings


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 587
    user: str = ""
    password: str = field(default="", repr=False)  # never shown anywhere
    starttls: bool = True
    sender: str = ""  # KIM_SMTP_FROM: overrides the employer's address as sender
    cafile: str = ""  # extra CA certificate(s) to trust, e.g. an internal CA
    timeout: float = 30.0
    source: str = ""  # where the settings came from, for messages

    def __repr__(self) -> str:  # belt and braces: no password in any traceback or debug print
        return f"SmtpConfig(host={self.host!r}, port={self.port}, user={self.user!r})"


ENV_KEYS = {"host": "KIM_SMTP_HOST", "port": "KIM_SMTP_PORT", "user": "KIM_SMTP_USER",
            "password": "KIM_SMTP_PASSWORD", "starttls": "KIM_SMTP_STARTTLS",
            "from": "KIM_SMTP_FROM", "cafile": "KIM_SMTP_CAFILE", "timeout": "KIM_SMTP_TIMEOUT"}


def load_smtp_config(environ: Mapping[str, str] | None = None,
                     cwd: Path | None = None) -> SmtpConfig:
    """Settings from the config file, overridden key by key by ``KIM_SMTP_*`` variables.

    The file is ``$KIM_SMTP_CONFIG`` if set (it must exist), else ``kim-excel-smtp.ini`` in
    the working directory if there is one. Its section ``[smtp]`` has the keys of
    :data:`ENV_KEYS` (``host``, ``port``, ``user``, ``password``, ``starttls``, ``from``,
    ``cafile``, ``timeout``).
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    values: dict[str, str] = {}
    sources = []
    path = Path(environ["KIM_SMTP_CONFIG"]) if environ.get("KIM_SMTP_CONFIG") else None
    if path is None and (cwd / CONFIG_NAME).is_file():
        path = cwd / CONFIG_NAME
    if path is not None:
        values.update(read_config_file(path))
        sources.append(str(path))
    for key, env in ENV_KEYS.items():
        if environ.get(env, "").strip():
            values[key] = environ[env].strip()
            sources.append(env)
    return config_from_values(values, ", ".join(dict.fromkeys(sources)))


def read_config_file(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)  # a '%' in a password is literal
    try:
        with open(path, encoding="utf-8-sig") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        raise MailError(f"Die SMTP-Einstellungsdatei „{path}“ gibt es nicht "
                        f"(KIM_SMTP_CONFIG).") from None
    except (OSError, UnicodeDecodeError, configparser.Error):
        # no detail from the parser: it would quote the offending line, maybe a password
        raise MailError(f"Die SMTP-Einstellungsdatei „{path}“ ist nicht lesbar; erwartet wird "
                        f"ein Abschnitt [{CONFIG_SECTION}] mit Zeilen wie „host = "
                        f"mail.example.de“ (UTF-8).") from None
    if not parser.has_section(CONFIG_SECTION):
        raise MailError(f"In „{path}“ fehlt der Abschnitt [{CONFIG_SECTION}].")
    unknown = sorted(set(parser[CONFIG_SECTION]) - set(ENV_KEYS))
    if unknown:
        raise MailError(f"In „{path}“ sind unbekannte Einträge: {', '.join(unknown)}. "
                        f"Erlaubt sind: {', '.join(ENV_KEYS)}.")
    return {k: v.strip() for k, v in parser[CONFIG_SECTION].items() if v.strip()}


def config_from_values(values: Mapping[str, str], source: str) -> SmtpConfig:
    problems = []
    starttls = True
    if "starttls" in values:
        flag = values["starttls"].lower()
        if flag not in TRUE + FALSE:
            problems.append(f"starttls (KIM_SMTP_STARTTLS) „{values['starttls']}“: erlaubt "
                            f"sind ja oder nein.")
        starttls = flag in TRUE
    port = 587 if starttls else 25
    if "port" in values:
        try:
            port = int(values["port"])
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            problems.append(f"port (KIM_SMTP_PORT) „{values['port']}“: erlaubt ist eine Zahl "
                            f"von 1 bis 65535.")
    timeout = 30.0
    if "timeout" in values:
        try:
            timeout = float(values["timeout"].replace(",", "."))
            if not timeout > 0:
                raise ValueError
        except ValueError:
            problems.append(f"timeout (KIM_SMTP_TIMEOUT) „{values['timeout']}“: erlaubt ist "
                            f"eine Zahl von Sekunden über 0.")
    sender = values.get("from", "")
    if sender and "@" not in parseaddr(sender)[1]:
        problems.append(f"from (KIM_SMTP_FROM) „{sender}“ ist keine E-Mail-Adresse.")
    if values.get("cafile") and not Path(values["cafile"]).is_file():
        problems.append(f"cafile (KIM_SMTP_CAFILE) „{values['cafile']}“: Datei nicht gefunden.")
    if problems:
        raise MailError("Die SMTP-Einstellungen sind fehlerhaft:\n" +
                        "\n".join(f"  – {p}" for p in problems))
    return SmtpConfig(host=values.get("host", ""), port=port, user=values.get("user", ""),
                      password=values.get("password", ""), starttls=starttls, sender=sender,
                      cafile=values.get("cafile", ""), timeout=timeout, source=source)


def require_server(config: SmtpConfig) -> None:
    if not config.host:
        raise MailError(f"Kein Mailserver eingestellt: bitte KIM_SMTP_HOST setzen oder die "
                        f"Datei {CONFIG_NAME} anlegen (siehe docs/Versand.md, "
                        f"Abschnitt „Mailserver einstellen“).")
    if config.user and not config.password:
        raise MailError("KIM_SMTP_USER ist gesetzt, aber kein Passwort: bitte KIM_SMTP_PASSWORD "
                        "setzen oder password in der Einstellungsdatei eintragen.")


class ServerUnavailable(Exception):
    """No usable connection: every remaining message fails with the same German reason."""


def _drop(connection: smtplib.SMTP | None, polite: bool = False) -> None:
    if connection is None:
        return None
    try:
        if polite:
            connection.quit()
        else:
            connection.close()
    except (smtplib.SMTPException, OSError):
        connection.close()
    return None


def connect(config: SmtpConfig) -> smtplib.SMTP:
    """An open, secured and authenticated connection, or :class:`ServerUnavailable`."""
    server = f"{config.host}:{config.port}"
    try:
        connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except ConnectionRefusedError:
        raise ServerUnavailable(f"Verbindung zum Mailserver {server} abgelehnt – läuft der "
                                f"Server, stimmen Host und Port?") from None
    except socket.gaierror:
        raise ServerUnavailable(f"Mailserver „{config.host}“ nicht gefunden – stimmt der "
                                f"Name (KIM_SMTP_HOST)?") from None
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        if _timed_out(exc):
            raise ServerUnavailable(f"Zeitüberschreitung: der Mailserver {server} antwortet "
                                    f"nicht (nach {config.timeout:g} s).") from None
        raise ServerUnavailable(f"Der Mailserver {server} hat die Verbindung sofort "
                                f"beendet.") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ServerUnavailable(f"Keine Verbindung zum Mailserver {server} "
                                f"({_reason(exc)}).") from None
    try:
        secure(connection, config, server)
        if config.user:
            login(connection, config, server)
    except BaseException:
        connection.close()
        raise
    return connection


def secure(connection: smtplib.SMTP, config: SmtpConfig, server: str) -> None:
    if not config.starttls:
        return
    context = ssl.create_default_context()
    try:
        if config.cafile:
            context.load_verify_locations(cafile=config.cafile)
        connection.ehlo()
        if not connection.has_extn("starttls"):
            raise ServerUnavailable(
                f"Der Mailserver {server} bietet keine Verschlüsselung (STARTTLS) an. Nur in "
                f"einem geschützten internen Netz: KIM_SMTP_STARTTLS=nein.")
        connection.starttls(context=context)
        connection.ehlo()
    except ssl.SSLCertVerificationError as exc:
        raise ServerUnavailable(
            f"TLS-Verbindung zum Mailserver {server} fehlgeschlagen: sein Zertifikat ist nicht "
            f"vertrauenswürdig ({exc.verify_message}). Bei einer eigenen Zertifizierungsstelle "
            f"deren Zertifikat mit KIM_SMTP_CAFILE angeben.") from None
    except ssl.SSLError as exc:
        raise ServerUnavailable(f"TLS-Verbindung zum Mailserver {server} fehlgeschlagen "
                                f"({exc.reason or 'SSL-Fehler'}).") from None
    except (smtplib.SMTPException, OSError) as exc:
        if _timed_out(exc):
            raise ServerUnavailable(f"Zeitüberschreitung beim Verschlüsseln der Verbindung zu "
                                    f"{server}.") from None
        raise ServerUnavailable(f"TLS-Verbindung zum Mailserver {server} fehlgeschlagen "
                                f"({_reason(exc)}).") from None


def login(connection: smtplib.SMTP, config: SmtpConfig, server: str) -> None:
    try:
        connection.login(config.user, config.password)
    except smtplib.SMTPAuthenticationError as exc:
        # the server's own text is left out on purpose: some echo what they were sent
        raise ServerUnavailable(
            f"Anmeldung am Mailserver {server} fehlgeschlagen: Benutzername „{config.user}“ "
            f"oder Passwort falsch (Antwort {exc.smtp_code}).") from None
    except smtplib.SMTPNotSupportedError:
        raise ServerUnavailable(
            f"Der Mailserver {server} bietet keine Anmeldung (AUTH) an"
            + ("" if config.starttls else ", jedenfalls nicht ohne Verschlüsselung (STARTTLS)")
            + ". Ohne Anmeldung: KIM_SMTP_USER leer lassen.") from None
    except smtplib.SMTPException as exc:
        raise ServerUnavailable(f"Anmeldung am Mailserver {server} fehlgeschlagen "
                                f"({_reason(exc)}).") from None
    except OSError as exc:
        raise ServerUnavailable(f"Verbindung zum Mailserver {server} bei der Anmeldung "
                                f"unterbrochen ({_reason(exc)}).") from None


def send_error(exc: BaseException, recipient: str, item, config: SmtpConfig) -> str:
    """German reason for one failed message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        return f"Empfänger {recipient} vom Mailserver abgelehnt ({_reply(code, text)})."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (f"Absender {exc.sender} vom Mailserver abgelehnt "
                f"({_reply(exc.smtp_code, exc.smtp_error)}) – ggf. KIM_SMTP_FROM auf die "
                f"Adresse des Postfachs setzen.")
    if isinstance(exc, smtplib.SMTPDataError):
        return f"Nachricht vom Mailserver abgelehnt ({_reply(exc.smtp_code, exc.smtp_error)})."
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"Mailserver-Fehler ({_reply(exc.smtp_code, exc.smtp_error)})."
    if _timed_out(exc):
        return f"Zeitüberschreitung beim Senden (nach {config.timeout:g} s)."
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError):
        return "Der Mailserver hat die Verbindung beim Senden unterbrochen."
    return f"Senden fehlgeschlagen ({_reason(exc)})."


def _timed_out(exc: BaseException) -> bool:
    """smtplib turns a read timeout into SMTPServerDisconnected; the cause tells."""
    while exc is not None:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(text.split())}".strip()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__

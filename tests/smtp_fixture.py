"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, started by the ``smtp_server`` fixture
and stopped when the test ends. Shared by every test module that sends (``versenden``).

``tests/conftest.py`` imports the fixture, so every test module can ask for it by name.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    """aiosmtpd probes the port it is given, so port 0 does not work: reserve one first."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what arrives and rejects chosen recipients."""

    reject: set[str] = field(default_factory=set)
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.reject:
            return "550 5.1.1 Postfach unbekannt"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(r for _, rcpts, _ in self.messages for r in rcpts)


@pytest.fixture
def smtp_server():
    """Start any number of servers on 127.0.0.1; all stop when the test ends."""
    controllers = []

    def start(**smtp_parameters) -> Mailbox:
        mailbox = Mailbox(port=free_port())
        controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port,
                                **smtp_parameters)
        controller.start()
        controllers.append(controller)
        return mailbox

    yield start
    for controller in controllers:
        controller.stop()


def smtp_env(mailbox: Mailbox, **extra: str) -> dict[str, str]:
    """The settings of ``versenden`` for ``mailbox``: no TLS, a short timeout."""
    return {"KIM_SMTP_HOST": "127.0.0.1", "KIM_SMTP_PORT": str(mailbox.port),
            "KIM_SMTP_STARTTLS": "nein", "KIM_SMTP_TIMEOUT": "5", **extra}

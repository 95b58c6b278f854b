"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests.

    def test_x(app, smtp_server):      # app.config now points MAIL_SERVER/PORT at it
        ...
        [received] = smtp_server.messages   # email.message.EmailMessage objects

`smtp_server.stop()` / `.start()` take it down and bring it back on the same port.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


class RecordingHandler:
    def __init__(self):
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self, port: int | None = None, **smtp_parameters):
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.smtp_parameters = smtp_parameters
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self.smtp_parameters
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [r.message for r in self.received]

    def configure(self, app) -> None:
        app.config.update(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=self.port,
            MAIL_USE_TLS=False,
            MAIL_USE_SSL=False,
            MAIL_USERNAME=None,
            MAIL_PASSWORD=None,
        )


@pytest.fixture
def smtp_server(app):
    """A running SMTP server, with the app configured to send to it."""
    server = SmtpServer().start()
    server.configure(app)
    yield server
    server.stop()

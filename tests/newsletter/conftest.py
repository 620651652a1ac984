"""A real SMTP server (aiosmtpd) in the test process, and runtimes configured to use it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime, open_runtime
from shiporskip.security import secret_key
from shiporskip.settings import load_settings
from shiporskip.storage.client_limits import ClientAllowance
from shiporskip.web.app import create_app
from shiporskip.web.newsletter import install

BASE_URL = "http://testserver"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    at: float = field(default_factory=time.monotonic)

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message; it can refuse, defer, be slow or hold one."""

    refuse: set[str] = field(default_factory=set)  # RCPT answered 550
    defer: Counter[str] = field(default_factory=Counter)  # RCPT answered 451 this many times
    delay: float = 0.0  # seconds before answering the end of DATA
    # Keep the message, then close the connection instead of answering, this many times.
    drop: Counter[str] = field(default_factory=Counter)
    # The hold_at-th message (1-based) is kept, then its reply waits until `release` is set:
    # `held` tells a test the sender is now stuck in that window, with no timing involved.
    hold_at: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 <" + address + ">: no such user here"
        if self.defer[address] > 0:
            self.defer[address] -= 1
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # The message counts as received as soon as DATA ends, before the reply: exactly
        # the window in which a killed sender cannot know whether it was delivered.
        with self.arrived:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
            self.arrived.notify_all()
            hold = self.hold_at == len(self.received)
            drop = [r for r in envelope.rcpt_tos if self.drop[r] > 0]
        for address in drop:
            self.drop[address] -= 1
        if drop:
            server.transport.close()
            return "421 4.4.2 connection dropped (test)"
        if hold:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 queued"

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def by_recipient(self) -> Counter[str]:
        return Counter(r for m in self.received for r in m.rcpt_tos)

    def to(self, address: str) -> list[EmailMessage]:
        return [m.message() for m in self.received if address in m.rcpt_tos]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: Recorder


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 until the block ends."""
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        handler.release.set()  # a held reply would keep the server's loop from stopping
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 for the test, stopped afterwards."""
    with running_smtp() as server:
        yield server


def mail_settings(smtp: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "mail_from": "Weekly verdicts <verdicts@example.org>",
        "base_url": BASE_URL,
        "mail_rate": 1000,
        **extra,
    }


@pytest.fixture
def mail_runtime(database_url: str, smtp: SmtpServer, isolated_env: Path) -> Iterator[Runtime]:
    """SQLite and PostgreSQL, mailing through the test SMTP server."""
    settings = load_settings(overrides={"database_url": database_url, **mail_settings(smtp)})
    rt = open_runtime(settings)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def sqlite_mail_runtime(smtp: SmtpServer, isolated_env: Path) -> Iterator[Runtime]:
    rt = open_runtime(load_settings(overrides=mail_settings(smtp)))
    try:
        yield rt
    finally:
        rt.close()


def _generous(runtime: Runtime) -> ClientAllowance:
    """A mail allowance no test here reaches (the limit has tests of its own)."""
    return ClientAllowance(runtime.engine, secret_key(runtime.settings), "mail", 1000, 600)


@pytest.fixture
def client(sqlite_mail_runtime: Runtime) -> Iterator[TestClient]:
    """The site, mailing through the test server; a generous subscribe rate limit."""
    app = create_app(sqlite_mail_runtime)
    install(app, _generous(sqlite_mail_runtime))
    with TestClient(app) as c:
        yield c

"""SMTP delivery over one connection, each message classified so a caller never double-sends.

`deliver` talks SMTP step by step (MAIL, RCPT, DATA) instead of `sendmail`, because what
may be retried depends on how far the conversation got: a failure before DATA means the
server has nothing; a lost connection during DATA means it may have the message.
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import ssl
from email.message import EmailMessage
from types import TracebackType
from typing import Protocol

from shiporskip.errors import UserError
from shiporskip.settings import Settings

REFUSED = "refused"  # 5xx: permanent, never retried
TRANSIENT = "transient"  # 4xx or a failure before DATA: the server has nothing, retry later
UNKNOWN = "unknown"  # the connection died during DATA: the server may have it, never retried
SECURITY = ("starttls", "tls", "none")


class DeliveryError(Exception):
    """One message was not (or may not have been) delivered; `kind` says what to do next."""

    def __init__(self, kind: str, reason: str, *, recipient_refused: bool = False) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.recipient_refused = recipient_refused


class Mailer(Protocol):
    """What sending needs from a mail transport; tests may pass another."""

    def deliver(self, message: EmailMessage, sender: str, recipient: str) -> None: ...

    def close(self) -> None: ...


def require_smtp(settings: Settings) -> None:
    """Refuse early, in one sentence, when mail cannot be sent with these settings."""
    if not settings.smtp_host.strip():
        raise UserError(
            "no SMTP server is configured; set SHIPORSKIP_SMTP_HOST (and SHIPORSKIP_SMTP_PORT, "
            "SHIPORSKIP_SMTP_SECURITY, SHIPORSKIP_SMTP_USER, SHIPORSKIP_SMTP_PASSWORD) to send mail"
        )
    if settings.smtp_security not in SECURITY:
        raise UserError(
            f"smtp_security is {settings.smtp_security!r}; set SHIPORSKIP_SMTP_SECURITY to "
            "starttls, tls or none"
        )
    if not 0 < settings.smtp_port < 65536:
        raise UserError(f"smtp_port {settings.smtp_port} is out of range; use e.g. 587 or 465")
    if settings.smtp_user and settings.smtp_security == "none" and not _loopback(settings):
        raise UserError(
            f"refusing to send the SMTP password unencrypted to {settings.smtp_host}; set "
            "SHIPORSKIP_SMTP_SECURITY to starttls or tls"
        )


def _loopback(settings: Settings) -> bool:
    host = settings.smtp_host.strip()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _classified(code: int, reply: bytes | str, stage: str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    reason = f"{code} {' '.join(text.split())} (at {stage})"
    kind = REFUSED if 500 <= code < 600 else TRANSIENT
    return DeliveryError(kind, reason, recipient_refused=kind == REFUSED and stage == "RCPT TO")


class SmtpMailer:
    """An SMTP connection from the smtp_* settings, opened on first use and reopened if lost.

    `deliver` raises UserError only before DATA (nothing was transmitted): connection, TLS,
    login or sender problems that no retry of this message would fix.
    """

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        require_smtp(settings)
        self.settings = settings
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    @property
    def _where(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    def connect(self) -> smtplib.SMTP:
        """The open connection, connecting (TLS, login) when there is none."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        try:
            if s.smtp_security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=self.timeout, context=context
                )
            else:
                conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
            conn.ehlo()
            if s.smtp_security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.smtp_user:
                conn.login(s.smtp_user, s.smtp_password)
        except smtplib.SMTPAuthenticationError as exc:
            raise UserError(
                f"the SMTP server {self._where} refused the login for {s.smtp_user!r} "
                f"({exc.smtp_code}); check SHIPORSKIP_SMTP_USER and SHIPORSKIP_SMTP_PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise UserError(
                f"the SMTP server {self._where} does not offer STARTTLS; set "
                "SHIPORSKIP_SMTP_SECURITY to tls (usually port 465) or none"
            ) from None
        except ssl.SSLError as exc:
            raise UserError(
                f"TLS with the SMTP server {self._where} failed ({exc.reason}); check "
                "SHIPORSKIP_SMTP_SECURITY and SHIPORSKIP_SMTP_PORT"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise UserError(
                f"cannot talk to the SMTP server {self._where} ({exc}); check "
                "SHIPORSKIP_SMTP_HOST and SHIPORSKIP_SMTP_PORT"
            ) from None
        return conn

    def deliver(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Send one message to one recipient, or raise DeliveryError / UserError."""
        payload = message.as_bytes()
        conn = self._envelope(sender, recipient)
        try:
            code, reply = conn.data(payload)
        except smtplib.SMTPDataError as exc:  # DATA itself refused: nothing was transmitted
            self._reset()
            raise _classified(exc.smtp_code, exc.smtp_error, "DATA") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise DeliveryError(
                UNKNOWN, f"connection lost while the server was receiving the message ({exc})"
            ) from None
        if code != 250:
            self._reset()
            raise _classified(code, reply, "end of DATA")

    def _envelope(self, sender: str, recipient: str) -> smtplib.SMTP:
        for attempt in (1, 2):
            conn = self.connect()
            try:
                code, reply = conn.mail(sender)
                if code != 250:
                    self._reset()
                    if 500 <= code < 600:
                        raise UserError(
                            f"the SMTP server {self._where} refused the sender {sender} "
                            f"({code}); check SHIPORSKIP_MAIL_FROM"
                        )
                    raise _classified(code, reply, "MAIL FROM")
                code, reply = conn.rcpt(recipient)
            except smtplib.SMTPServerDisconnected as exc:
                # Servers drop idle connections: reconnect once before counting an attempt.
                self._drop()
                if attempt == 2:
                    raise DeliveryError(TRANSIENT, f"connection lost before DATA ({exc})") from None
                continue
            except OSError as exc:
                self._drop()
                raise DeliveryError(TRANSIENT, f"connection failed before DATA ({exc})") from None
            if code not in (250, 251):
                self._reset()
                raise _classified(code, reply, "RCPT TO")
            return conn
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """Say QUIT when the connection is still up; never raises."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def send_one(settings: Settings, message: EmailMessage, sender: str, recipient: str) -> None:
    """Send a single message on its own connection (the confirmation mail)."""
    with SmtpMailer(settings) as mailer:
        mailer.deliver(message, sender, recipient)

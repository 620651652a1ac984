"""Secrets and signed tokens: the key, and short-lived single-purpose signed values."""

from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shiporskip.errors import UserError
from shiporskip.settings import Settings


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept (mode 600) in the data dir."""
    return _secret_key(settings.secret_key, str(settings.data_dir))


@functools.lru_cache(maxsize=32)
def _secret_key(configured: str, data_dir: str) -> str:
    # Cached: every signed cookie and form token asks for the key, and it never changes
    # while a process runs.
    if configured:
        if len(configured) < 16:
            raise UserError("secret_key is too short; use at least 16 random characters")
        return configured
    path = Path(data_dir) / "secret.key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(key, encoding="utf-8")
    return key


class TokenError(UserError):
    """A signed token that is tampered with, expired or for another purpose."""


class Signer:
    """Signed, expiring tokens; `purpose` keeps a token for one use from working for another."""

    def __init__(self, key: str) -> None:
        self.key = key

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.key, salt=f"shiporskip:{purpose}")

    def sign(self, purpose: str, value: Any) -> str:
        return str(self._serializer(purpose).dumps(value))

    def unsign(self, purpose: str, token: str, max_age: int | None = None) -> Any:
        """The signed value, or TokenError saying whether it expired or is invalid."""
        try:
            return self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired:
            raise TokenError("this link has expired; ask for a new one") from None
        except BadSignature:
            raise TokenError(
                "this link is not valid; it may have been copied incompletely"
            ) from None

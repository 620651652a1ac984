"""The secret key and signed tokens."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shiporskip.errors import UserError
from shiporskip.security import Signer, TokenError, secret_key
from shiporskip.settings import load_settings


def test_generated_key_is_kept_private_and_reused(isolated_env: Path) -> None:
    settings = load_settings()
    key = secret_key(settings)
    path = isolated_env / "secret.key"
    assert path.read_text().strip() == key and len(key) >= 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(load_settings()) == key


def test_a_short_configured_key_is_refused() -> None:
    with pytest.raises(UserError, match="at least 16"):
        secret_key(load_settings(overrides={"secret_key": "short"}))


def test_tokens_are_bound_to_their_purpose_and_expire() -> None:
    signer = Signer("x" * 32)
    token = signer.sign("confirm", 7)
    assert signer.unsign("confirm", token) == 7
    with pytest.raises(TokenError, match="not valid"):
        signer.unsign("unsubscribe", token)
    with pytest.raises(TokenError, match="not valid"):
        signer.unsign("confirm", token[:-2] + "xx")
    with pytest.raises(TokenError, match="expired"):
        signer.unsign("confirm", token, max_age=-1)

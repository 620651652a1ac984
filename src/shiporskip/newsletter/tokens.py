"""Signed tokens for the newsletter: confirm, unsubscribe, and the subscribe form."""

from __future__ import annotations

import secrets

from shiporskip.security import Signer, TokenError, secret_key
from shiporskip.settings import Settings

CONFIRM = "newsletter-confirm"
UNSUBSCRIBE = "newsletter-unsubscribe"
FORM = "newsletter-form"
CONFIRM_MAX_AGE = 7 * 24 * 3600
FORM_MAX_AGE = 2 * 24 * 3600
# Real tokens are under 200 characters; a longer one is garbage, refused before decoding.
MAX_TOKEN = 500


def signer_for(settings: Settings) -> Signer:
    """The signer for this instance's key."""
    return Signer(secret_key(settings))


def _read(signer: Signer, purpose: str, token: str, max_age: int | None) -> object:
    if not token or len(token) > MAX_TOKEN:
        raise TokenError("this link is not valid; it may have been copied incompletely")
    return signer.unsign(purpose, token, max_age=max_age)


# Tokens name the subscriber by id, not by address, so links (and access logs) carry no
# address.


def _subscriber(value: object) -> int:
    subscriber = value.get("s") if isinstance(value, dict) else None
    if not isinstance(subscriber, int) or isinstance(subscriber, bool):
        raise TokenError("this link is not valid; it may have been copied incompletely")
    return subscriber


def confirm_token(signer: Signer, subscriber_id: int) -> str:
    """A confirmation link token for a subscriber, valid for 7 days."""
    return signer.sign(CONFIRM, {"s": subscriber_id})


def read_confirm(signer: Signer, token: str) -> int:
    """The subscriber a confirmation token was issued for, or TokenError."""
    return _subscriber(_read(signer, CONFIRM, token, CONFIRM_MAX_AGE))


def unsubscribe_token(signer: Signer, subscriber_id: int) -> str:
    """An unsubscribe token for a subscriber; it never expires."""
    return signer.sign(UNSUBSCRIBE, {"s": subscriber_id})


def read_unsubscribe(signer: Signer, token: str) -> int:
    """The subscriber an unsubscribe token names, or TokenError."""
    return _subscriber(_read(signer, UNSUBSCRIBE, token, None))


def form_token(signer: Signer) -> str:
    """A fresh signed value for the subscribe form (expires after two days)."""
    return signer.sign(FORM, secrets.token_urlsafe(9))


def check_form_token(signer: Signer, token: str) -> None:
    """Accept a form token this instance signed recently, or raise TokenError."""
    value = _read(signer, FORM, token, FORM_MAX_AGE)
    if not isinstance(value, str):
        raise TokenError("this form is not valid; reload the page and try again")

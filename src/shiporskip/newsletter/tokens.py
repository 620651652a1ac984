"""Signed tokens for the newsletter: confirm and unsubscribe links.

The subscribe form has none: it is on every shared page, checked by its Origin instead
(`web/identity.cross_site`).
"""

from __future__ import annotations

from shiporskip.security import Signer, TokenError, secret_key
from shiporskip.settings import Settings

CONFIRM = "newsletter-confirm"
UNSUBSCRIBE = "newsletter-unsubscribe"
CONFIRM_MAX_AGE = 7 * 24 * 3600
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

"""Who is visiting: the anonymous voter id, its signed cookie, CSRF tokens bound to it, and
the Origin check for forms on shared pages.

Voters are anonymous until they sign in: a random id in a signed, HttpOnly, SameSite=Lax
cookie. The JSON vote API and the personal pages' forms (submit, sign-in, admin) carry a
CSRF token bound to that id (an HMAC). The forms on shared pages (the vote box, the footer's
newsletter box) cannot: those pages are the same bytes for everyone (`web/shared.py`). They
are checked by `cross_site` instead: the browser's Origin (or Referer) must be this site.
A vote form gets its visitor cookie with its first vote; a route that needs an id on a GET
(`request_voter`: the session API, personal pages) gets its cookie from `web/caching.py`.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.requests import cookie_parser
from starlette.types import Scope

from shiporskip.runtime import Runtime
from shiporskip.security import Signer, TokenError, secret_key

VOTER_COOKIE = "sos_voter"
COOKIE_AGE = 400 * 24 * 3600
# Request state: the visitor id of this request, and whether it was made for it.
VOTER_STATE = "voter_id"
NEW_VOTER_STATE = "new_voter"


def signer(runtime: Runtime) -> Signer:
    return Signer(secret_key(runtime.settings))


def new_voter_id() -> str:
    return "v_" + secrets.token_urlsafe(18)


def voter_from_token(runtime: Runtime, raw: str | None) -> str | None:
    """The voter id in a visitor cookie's value, or None when missing or tampered with."""
    if not raw:
        return None
    try:
        value = signer(runtime).unsign("voter", raw)
    except TokenError:
        return None
    return value if isinstance(value, str) else None


def voter_from_cookie(runtime: Runtime, request: Request) -> str | None:
    return voter_from_token(runtime, request.cookies.get(VOTER_COOKIE))


def voter_from_scope(runtime: Runtime, scope: Scope) -> str | None:
    """As `voter_from_cookie`, from a raw ASGI scope (for middleware)."""
    for name, value in scope["headers"]:
        if name == b"cookie":
            raw = cookie_parser(value.decode("latin-1")).get(VOTER_COOKIE)
            if raw is not None:
                return voter_from_token(runtime, raw)
    return None


def csrf_token(runtime: Runtime, voter_id: str) -> str:
    return signer(runtime).sign("csrf", voter_id)


def check_csrf(runtime: Runtime, voter_id: str, token: str | None) -> None:
    if not token:
        raise HTTPException(403, "the form is missing its security token; reload the page")
    try:
        bound = signer(runtime).unsign("csrf", token)
    except TokenError:
        raise HTTPException(
            403, "the form's security token is not valid; reload the page"
        ) from None
    if bound != voter_id:
        raise HTTPException(403, "the form's security token belongs to another visitor")


FOREIGN_FORM = (
    "This form was sent from another site, so nothing was done; use the form on this site."
)
UNSIGNED_FORM = (
    "This form arrived without an Origin or Referer header, so it cannot be told from one "
    "sent by another site and nothing was done; let your browser send them for this site."
)


def cross_site(request: Request, base_url: str) -> str | None:
    """Why a form POST may not have come from a page of this site, or None when it did.

    Browsers send Origin with every POST (Referer where an old one does not), and a page on
    another site cannot forge either. This site is `base_url`'s origin or the request's own
    (scheme and Host), so a site reached by another name works too.
    """
    if request.headers.get("sec-fetch-site") == "cross-site":
        return FOREIGN_FORM
    origin = request.headers.get("origin")
    if not origin or origin == "null":  # "null": a sandboxed or privacy-stripped sender
        referer = urlsplit(request.headers.get("referer") or "")
        if not referer.scheme or not referer.netloc:
            return UNSIGNED_FORM
        origin = f"{referer.scheme}://{referer.netloc}"
    base = urlsplit(base_url)
    own = {
        f"{base.scheme}://{base.netloc}".lower(),
        f"{request.url.scheme}://{request.url.netloc}".lower(),
    }
    return None if origin.rstrip("/").lower() in own else FOREIGN_FORM


def voter_cookie(runtime: Runtime, voter_id: str) -> str:
    """The Set-Cookie value that gives the browser this visitor id."""
    jar: SimpleCookie = SimpleCookie()
    jar[VOTER_COOKIE] = signer(runtime).sign("voter", voter_id)
    morsel = jar[VOTER_COOKIE]
    morsel["max-age"] = COOKIE_AGE
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "lax"
    if runtime.settings.base_url.startswith("https://"):
        morsel["secure"] = True
    return morsel.OutputString()


def request_voter(request: Request) -> str:
    """The voter of this request: from the cookie, or new (its cookie goes with the response)."""
    state = request.scope.setdefault("state", {})
    voter = state.get(VOTER_STATE)
    if voter is None:
        voter = voter_from_cookie(request.app.state.runtime, request)
        if voter is None:
            voter = new_voter_id()
            state[NEW_VOTER_STATE] = True
        state[VOTER_STATE] = voter
    return str(voter)

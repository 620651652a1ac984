"""Admin authentication: the token setting, browser sessions, Bearer tokens, CSRF.

Off unless the admin_token setting holds at least 16 characters: there is no default
password. A browser signs in with the token once and gets a signed, HttpOnly,
SameSite=Strict session cookie for 12 hours; the session is also recorded in the database,
so signing out ends it for every copy of the cookie, in every server process. Every admin
form carries a CSRF token bound to that session. Scripts send `Authorization: Bearer TOKEN`.
Failed sign-ins are limited per client address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from shiporskip.runtime import Runtime
from shiporskip.security import TokenError, secret_key
from shiporskip.storage.admin_sessions import AdminSessions
from shiporskip.storage.client_limits import ClientAllowance
from shiporskip.web.identity import check_csrf, signer
from shiporskip.web.proxies import client_address
from shiporskip.web.site import runtime_of
from shiporskip.web.submit import read_form

ADMIN_COOKIE = "sos_admin"
SESSION_SECONDS = 12 * 3600
MIN_TOKEN = 16
MAX_FORM = 64 * 1024
FAILURES_ALLOWED = 5
FAILURE_WINDOW = 15 * 60
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex",
}
OFF = (
    "The admin area is off. To turn it on, set SHIPORSKIP_ADMIN_TOKEN to a random string of "
    "at least 16 characters and restart the server."
)


class SignInRequired(Exception):
    """No valid admin session: answer with the sign-in page (HTTP 401)."""


def _failures(request: Request) -> ClientAllowance:
    """Failed sign-ins per client address, shared by every server process."""
    if not hasattr(request.app.state, "admin_failures"):
        runtime = runtime_of(request)
        request.app.state.admin_failures = ClientAllowance(
            runtime.engine,
            secret_key(runtime.settings),
            "admin-guess",
            FAILURES_ALLOWED,
            FAILURE_WINDOW,
        )
    return request.app.state.admin_failures  # type: ignore[no-any-return]


def admin_token(runtime: Runtime) -> str:
    """The configured token; 404 when the area is off, 403 when the token is too short."""
    token = runtime.settings.admin_token
    if not token:
        raise HTTPException(404, OFF)
    if len(token) < MIN_TOKEN:
        raise HTTPException(
            403,
            f"The admin area refuses to start: SHIPORSKIP_ADMIN_TOKEN is shorter than {MIN_TOKEN} "
            "characters. Set a longer random string and restart the server.",
        )
    return token


def check_token(request: Request, given: str, status: int) -> None:
    """Compare in constant time; too many failures from one address get 429."""
    ip = client_address(request)
    failures = _failures(request)
    wait = failures.used_up(ip)
    if wait:
        raise HTTPException(
            429,
            f"too many failed sign-ins from your address; try again in {wait // 60 + 1} minutes",
            headers={"Retry-After": str(wait)},
        )
    token = admin_token(runtime_of(request))
    if not secrets.compare_digest(given.encode(), token.encode()):
        failures.take(ip)
        raise HTTPException(status, "that is not the admin token; check SHIPORSKIP_ADMIN_TOKEN")


def token_fingerprint(runtime: Runtime) -> str:
    # Sessions name the token they were opened with, so changing the token ends them all.
    key = secret_key(runtime.settings).encode()
    return hmac.new(key, admin_token(runtime).encode(), hashlib.sha256).hexdigest()[:32]


def open_session(runtime: Runtime) -> str:
    """A new session, recorded server-side: the signed value for the admin cookie."""
    sid = "a_" + secrets.token_urlsafe(18)
    AdminSessions(runtime.engine).open(sid, SESSION_SECONDS)
    return signer(runtime).sign("admin", {"sid": sid, "fp": token_fingerprint(runtime)})


def close_session(runtime: Runtime, sid: str) -> None:
    """Sign out: the session's cookie, wherever it was copied, no longer signs anyone in."""
    AdminSessions(runtime.engine).close(sid)


def admin_session(request: Request) -> str:
    """The signed-in session's id (CSRF tokens are bound to it), or SignInRequired."""
    runtime = runtime_of(request)
    fingerprint = token_fingerprint(runtime)
    raw = request.cookies.get(ADMIN_COOKIE)
    if not raw:
        raise SignInRequired("Sign in with the admin token to continue.")
    try:
        value = signer(runtime).unsign("admin", raw, max_age=SESSION_SECONDS)
    except TokenError as exc:
        if "expired" in str(exc):
            raise SignInRequired("Your admin session expired; sign in again.") from None
        raise SignInRequired("Your admin session cookie is not valid; sign in again.") from None
    if not isinstance(value, dict) or not secrets.compare_digest(
        str(value.get("fp", "")), fingerprint
    ):
        raise SignInRequired("The admin token changed since you signed in; sign in again.")
    sid = str(value["sid"])
    if not AdminSessions(runtime.engine).is_open(sid):
        raise SignInRequired("This admin session has ended (signed out or expired); sign in again.")
    return sid


def bearer(request: Request) -> None:
    """Dependency of the JSON endpoints: `Authorization: Bearer TOKEN`."""
    admin_token(runtime_of(request))
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HTTPException(
            401,
            "send the admin token as `Authorization: Bearer TOKEN`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    check_token(request, given.strip(), 401)


Session = Annotated[str, Depends(admin_session)]


async def admin_form(request: Request, sid: str) -> dict[str, str]:
    values = await read_form(request, MAX_FORM)
    check_csrf(runtime_of(request), sid, values.get("csrf"))
    return values

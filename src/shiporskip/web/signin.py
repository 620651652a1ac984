"""Optional sign-in by email magic link: it marks the browser that opens it as verified.

The link carries a signed, expiring token naming a one-time id; the id is recorded when
the link is mailed and accepted once. Whether an address is known is never revealed.

The link proves control of the address and nothing else. Opening it shows one button;
pressing it (a POST with this browser's CSRF token) signs in that browser under its own
visitor id, and a mail scanner that fetches the link uses nothing up. The id of whoever
asked for the link is never adopted, or anyone could ask for a link to a stranger's
address and, once the stranger opened it, have that person's browser vote as them. One
address verifies one visitor at a time (see `VoteStore.verify`). Mails per client address
are limited together with newsletter confirmations (`mail_requests_ip`), as well as per
address.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from shiporskip.errors import UserError
from shiporskip.newsletter.addresses import normalise_email
from shiporskip.newsletter.render import sender_address
from shiporskip.newsletter.send import DeliveryError, require_smtp, send_one
from shiporskip.runtime import Runtime
from shiporskip.security import TokenError
from shiporskip.storage.schema import magic_links
from shiporskip.storage.votes import VoteStore
from shiporskip.web.bodies import parse_form
from shiporskip.web.identity import (
    check_csrf,
    csrf_token,
    request_voter,
    signer,
    voter_from_cookie,
)
from shiporskip.web.newsletter import mail_wait
from shiporskip.web.site import Meta, SiteDep

router = APIRouter()

LINK_MINUTES = 30
PER_ADDRESS_PER_HOUR = 3
MAX_BODY = 2048
USED = "this sign-in link was already used; request a new one at /signin"


def _page(s: SiteDep, request: Request, **page: object) -> Response:
    voter = request_voter(request)
    page.setdefault("csrf", csrf_token(s.runtime, voter))
    page.setdefault("error", None)
    page.setdefault("message", None)
    page.setdefault("signed_in", False)
    page.setdefault("link_token", None)
    meta = Meta(
        title="Sign in · shiporskip",
        description="Verify your votes by email.",
        path="/signin",
        noindex=True,
    )
    status = int(page.pop("status", 200))  # type: ignore[call-overload]
    return s.render(request, "signin.html", page, meta, status=status)


@router.get("/signin", response_class=HTMLResponse, include_in_schema=False)
def signin_form(request: Request, s: SiteDep) -> Response:
    return _page(s, request)


def _message(runtime: Runtime, recipient: str, link: str) -> EmailMessage:
    sender = sender_address(runtime.settings.mail_from)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(addr_spec=recipient)
    message["Subject"] = "Your shiporskip sign-in link"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid("shiporskip", domain=sender.domain)
    message.set_content(
        "Open this link within 30 minutes and press Sign in to have your community votes in "
        f"that browser count as verified:\n\n{link}\n\nThe link works once. "
        "If you did not ask for it, ignore this mail: nothing happens unless the button is "
        "pressed.\n"
    )
    return message


@router.post(
    "/signin", response_class=HTMLResponse, include_in_schema=False, max_body_size=MAX_BODY
)
async def signin_send(request: Request, s: SiteDep) -> Response:
    runtime = s.runtime
    body = await request.body()  # at most MAX_BODY: web/limits.py counts it as it arrives
    fields = {k: v[0] for k, v in parse_form(body, keep_blank_values=False).items()}
    voter = voter_from_cookie(runtime, request)
    if voter is None:
        raise HTTPException(403, "your visitor cookie is missing; reload the page and try again")
    check_csrf(runtime, voter, fields.get("csrf"))
    try:
        require_smtp(runtime.settings)
    except UserError:
        return _page(
            s,
            request,
            status=503,
            error=(
                "Sign-in by email is not available here: the operator has not configured a mail "
                "server (SHIPORSKIP_SMTP_HOST)."
            ),
        )
    try:
        email = normalise_email(fields.get("email", ""))
    except UserError as exc:
        return _page(s, request, status=422, error=str(exc), email=fields.get("email", "")[:254])
    wait = mail_wait(request)
    if wait:
        minutes = wait // 60 + 1
        refused = _page(
            s,
            request,
            status=429,
            error=(
                "Too many sign-in links and newsletter confirmations were asked for from your "
                f"address; no mail was sent, try again in {minutes} minutes."
            ),
            email=email,
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        recent = (
            conn.scalar(
                sa.select(sa.func.count())
                .select_from(magic_links)
                .where(
                    magic_links.c.email == email,
                    magic_links.c.created_at > now - timedelta(hours=1),
                )
            )
            or 0
        )
        if recent < PER_ADDRESS_PER_HOUR:
            jti = secrets.token_urlsafe(18)
            # `voter_id` records who asked, for the audit only: opening the link never uses it.
            conn.execute(
                sa.insert(magic_links).values(jti=jti, email=email, voter_id=voter, created_at=now)
            )
        else:
            jti = None
    if jti is not None:
        token = signer(runtime).sign("signin", jti)
        link = f"{runtime.settings.base_url.rstrip('/')}/signin/verify?token={token}"
        sender = sender_address(runtime.settings.mail_from).addr_spec
        # The answer must not reveal whether this address accepts mail.
        with contextlib.suppress(DeliveryError, OSError):
            send_one(runtime.settings, _message(runtime, email, link), sender, email)
    return _page(
        s,
        request,
        message=(
            "If that address can receive mail, a sign-in link is on its way. It works once, "
            f"for {LINK_MINUTES} minutes."
        ),
    )


def _link(runtime: Runtime, token: str) -> Any:
    """The unused sign-in link a token names, or HTTP 400 saying what to do."""
    try:
        jti = signer(runtime).unsign("signin", token, max_age=LINK_MINUTES * 60)
    except TokenError as exc:
        raise HTTPException(400, f"{exc}: request a new sign-in link at /signin") from None
    with runtime.engine.connect() as conn:
        row = conn.execute(sa.select(magic_links).where(magic_links.c.jti == str(jti))).first()
    if row is None:
        raise HTTPException(400, "this sign-in link is not valid; request a new one at /signin")
    if row.used_at is not None:
        raise HTTPException(400, USED)
    return row


@router.get("/signin/verify", response_class=HTMLResponse, include_in_schema=False)
def signin_confirm(request: Request, s: SiteDep, token: str = "") -> Response:
    """The link's page: one button. Fetching it (a mail scanner does) uses nothing up."""
    row = _link(s.runtime, token)
    return _page(
        s,
        request,
        message=f"Press the button to sign in as {row.email} in this browser.",
        link_token=token,
        email=row.email,
    )


@router.post(
    "/signin/verify", response_class=HTMLResponse, include_in_schema=False, max_body_size=MAX_BODY
)
async def signin_verify(request: Request, s: SiteDep) -> Response:
    runtime = s.runtime
    body = await request.body()  # at most MAX_BODY (web/limits.py)
    fields = {k: v[0] for k, v in parse_form(body, keep_blank_values=False).items()}
    voter = voter_from_cookie(runtime, request)
    if voter is None:
        raise HTTPException(
            403, "your visitor cookie is missing; open the link from the mail again"
        )
    check_csrf(runtime, voter, fields.get("csrf"))
    row = _link(runtime, fields.get("token", ""))
    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        used = conn.execute(
            sa.update(magic_links)
            .where(magic_links.c.jti == row.jti, magic_links.c.used_at.is_(None))
            .values(used_at=now)
        )
        if used.rowcount != 1:
            raise HTTPException(400, USED)
    # This browser's own visitor id: never the requester's, which the row keeps as a record.
    VoteStore(runtime.engine).verify(voter, row.email, now)
    return _page(
        s,
        request,
        signed_in=True,
        message=(f"You are signed in as {row.email}. Your community votes now count as verified."),
    )

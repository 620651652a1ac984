"""Newsletter pages: subscribe (form and API), confirm, one-click unsubscribe, the archive.

Subscribing never reveals whether an address is already on the list: new, pending and
confirmed addresses get the same page, status and JSON.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from shiporskip.errors import UserError
from shiporskip.newsletter.addresses import InvalidEmail, mask_email
from shiporskip.newsletter.digest import Digest
from shiporskip.newsletter.issues import Issue, IssueStore
from shiporskip.newsletter.render import confirmation_message, sender_address
from shiporskip.newsletter.send import DeliveryError, send_one
from shiporskip.newsletter.subscribers import SubscriberStore
from shiporskip.newsletter.tokens import (
    confirm_token,
    read_confirm,
    read_unsubscribe,
    signer_for,
)
from shiporskip.newsletter.weeks import parse_week
from shiporskip.security import TokenError, secret_key
from shiporskip.settings import Settings
from shiporskip.storage.client_limits import ClientAllowance
from shiporskip.web.bodies import parse_form
from shiporskip.web.headers import policy
from shiporskip.web.identity import cross_site
from shiporskip.web.openapi import errors
from shiporskip.web.proxies import client_address
from shiporskip.web.site import Meta, Page, SiteDep, is_head, runtime_of

log = logging.getLogger(__name__)

SUBSCRIBED = (
    "Check your inbox. If this address is not on the list yet, a confirmation link is on its "
    "way; it works for 7 days. Nothing is sent until you click it."
)
MAX_FORM_BYTES = 4096


MAIL_WINDOW = 10 * 60


def install(app: FastAPI, limiter: ClientAllowance | None = None) -> None:
    """Give the app the per-client limit on asking for mail (newsletter confirmations and
    sign-in links share it)."""
    runtime = app.state.site.runtime
    settings = runtime.settings
    # `mail_requests_ip` per client address in each 10 minutes, in the database so every
    # process and node shares it: per-address limits alone let one client mail a different
    # stranger with every request.
    app.state.mail_limiter = limiter or ClientAllowance(
        runtime.engine, secret_key(settings), "mail", settings.mail_requests_ip, MAIL_WINDOW
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    if not hasattr(app.state, "mail_limiter"):
        install(app)
    yield


router = APIRouter(lifespan=_lifespan)


class MessagePage(Page):
    title: str
    message: str
    ok: bool


class UnsubscribePage(Page):
    title: str
    message: str
    token: str | None
    done: bool


class IssueSummary(BaseModel):
    week: str
    label: str
    subject: str
    url: str
    sent_at: datetime
    sample: bool


class ArchivePage(Page):
    count: int
    issues: list[IssueSummary]


class IssuePage(Page):
    issue: IssueSummary
    digest: Digest
    html: str
    text: str


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        max_length=2000, description="The address to subscribe.", examples=["reader@example.com"]
    )


class SubscribeOut(BaseModel):
    status: str
    message: str


def _now() -> datetime:
    return datetime.now(UTC)


def _message(
    request: Request,
    s: SiteDep,
    page: MessagePage,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    meta = Meta(
        title=f"{page.title} · shiporskip",
        description=page.message,
        path=request.url.path,
        noindex=True,
    )
    return s.render(request, "newsletter/message.html", page, meta, status=status, headers=headers)


def mail_wait(request: Request) -> int:
    """Take one mail request from this client's allowance: 0 to go on, else seconds to wait."""
    limiter: ClientAllowance | None = getattr(request.app.state, "mail_limiter", None)
    if limiter is None:
        install(request.app)
        limiter = request.app.state.mail_limiter
    assert limiter is not None
    return limiter.take(client_address(request))


def _confirmation_task(settings: Settings, subscriber_id: int, email: str) -> None:
    """Mail the confirmation link; failures are logged (address masked), never shown."""
    if not settings.smtp_host:
        log.warning("no confirmation mail to %s: set SHIPORSKIP_SMTP_HOST", mask_email(email))
        return
    base = settings.base_url.rstrip("/")
    token = confirm_token(signer_for(settings), subscriber_id)
    try:
        message = confirmation_message(
            mail_from=settings.mail_from,
            recipient=email,
            confirm_url=f"{base}/newsletter/confirm?token={token}",
        )
        send_one(settings, message, sender_address(settings.mail_from).addr_spec, email)
    except (UserError, DeliveryError) as exc:
        log.warning("confirmation mail to %s not sent: %s", mask_email(email), exc)


def _subscribe(request: Request, email: object, background: BackgroundTasks) -> None:
    """Store the request; queue the confirmation mail when one is due. InvalidEmail if bad."""
    runtime = runtime_of(request)
    outcome = SubscriberStore(runtime.engine).subscribe(email, _now())
    if outcome.send_confirmation:
        background.add_task(
            _confirmation_task, runtime.settings, outcome.subscriber_id, outcome.email
        )


async def form_fields(request: Request) -> dict[str, str]:
    """A small url-encoded form body (the only kind the subscribe form sends)."""
    body = await request.body()  # at most MAX_FORM_BYTES (web/limits.py)
    fields = parse_form(body)
    return {k: v[0] for k, v in fields.items() if len(v) == 1}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


@router.post(
    "/newsletter",
    response_class=HTMLResponse,
    include_in_schema=False,
    max_body_size=MAX_FORM_BYTES,
)
def subscribe_form(
    request: Request, s: SiteDep, fields: FormDep, background: BackgroundTasks
) -> Response:
    # The form is on every shared page, so it carries no token: its Origin must be this
    # site, and a robot that fills in the hidden field is refused.
    refusal = cross_site(request, s.runtime.settings.base_url)
    if refusal:
        page = MessagePage(title="Please try again", message=refusal, ok=False)
        return _message(request, s, page, 403)
    if fields.get("website"):
        text = "This form was filled in by a robot; nothing was done."
        return _message(request, s, MessagePage(title="Not sent", message=text, ok=False), 400)
    wait = mail_wait(request)
    if wait:
        text = f"Too many requests from your address; try again in {wait} seconds."
        page = MessagePage(title="Slow down", message=text, ok=False)
        return _message(request, s, page, 429, {"Retry-After": str(wait)})
    try:
        _subscribe(request, fields.get("email", ""), background)
    except InvalidEmail as exc:
        text = str(exc)[0].upper() + str(exc)[1:] + "."
        return _message(
            request, s, MessagePage(title="Check the address", message=text, ok=False), 400
        )
    return _message(request, s, MessagePage(title="Almost there", message=SUBSCRIBED, ok=True))


@router.post(
    "/api/v1/newsletter",
    response_model=SubscribeOut,
    status_code=202,
    tags=["newsletter"],
    responses=errors(413, 422, 429),
    max_body_size=MAX_FORM_BYTES,
)
def api_subscribe(request: Request, body: SubscribeIn, background: BackgroundTasks) -> SubscribeOut:
    """Ask to subscribe an address (double opt-in); the same answer whatever its state."""
    wait = mail_wait(request)
    if wait:
        raise HTTPException(
            429,
            f"too many requests; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    try:
        _subscribe(request, body.email, background)
    except InvalidEmail as exc:
        raise HTTPException(422, str(exc)) from None
    return SubscribeOut(status="pending", message=SUBSCRIBED)


_CONFIRM_TEXT = {
    "confirmed": ("You're subscribed", "Confirmed: the weekly verdicts will arrive every {day}."),
    "already": ("Already confirmed", "This address is already confirmed; nothing else to do."),
    "unsubscribed": (
        "Link no longer active",
        "This address unsubscribed after the link was sent; subscribe again below to rejoin.",
    ),
    "missing": (
        "Link no longer active",
        "This subscription no longer exists; subscribe again below to rejoin.",
    ),
}


@router.get("/newsletter/confirm", response_class=HTMLResponse, include_in_schema=False)
def confirm(request: Request, s: SiteDep, token: str = "") -> Response:
    try:
        subscriber_id = read_confirm(signer_for(s.runtime.settings), token)
    except TokenError as exc:
        page = MessagePage(title="This link does not work", message=_sentence(exc), ok=False)
        return _message(request, s, page, 400)
    if is_head(request):
        # A mail scanner's HEAD learns that the link works; only a GET confirms.
        page = MessagePage(title="Confirm", message="Open this link to confirm.", ok=True)
        return _message(request, s, page)
    state, _ = SubscriberStore(s.runtime.engine).confirm(subscriber_id, _now())
    title, text = _CONFIRM_TEXT[state]
    day = s.runtime.settings.digest_day.capitalize()
    page = MessagePage(
        title=title, message=text.format(day=day), ok=state in ("confirmed", "already")
    )
    return _message(request, s, page)


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _unsubscribe_page(request: Request, s: SiteDep, token: str, *, act: bool) -> Response:
    meta = Meta(
        title="Unsubscribe · shiporskip",
        description="Stop the weekly verdicts.",
        path="/newsletter/unsubscribe",
        noindex=True,
    )
    try:
        subscriber_id = read_unsubscribe(signer_for(s.runtime.settings), token)
    except TokenError as exc:
        page = UnsubscribePage(
            title="This link does not work", message=_sentence(exc), token=None, done=False
        )
        return s.render(request, "newsletter/unsubscribe.html", page, meta, status=400)
    store = SubscriberStore(s.runtime.engine)
    if act:
        store.unsubscribe(subscriber_id, _now())
    subscriber = store.get(subscriber_id)
    done = subscriber is None or subscriber.status != "confirmed"
    if done:
        text = "You are unsubscribed: no more weekly verdicts will be sent to this address."
        page = UnsubscribePage(title="Unsubscribed", message=text, token=None, done=True)
    else:
        text = "Stop the weekly verdicts for this address? One click below, no questions."
        page = UnsubscribePage(title="Unsubscribe", message=text, token=token, done=False)
    return s.render(request, "newsletter/unsubscribe.html", page, meta)


@router.get("/newsletter/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_ask(request: Request, s: SiteDep, token: str = "") -> Response:
    """A button, not an action: mail scanners follow links and must not unsubscribe anyone."""
    return _unsubscribe_page(request, s, token, act=False)


@router.post(
    "/newsletter/unsubscribe",
    response_class=HTMLResponse,
    include_in_schema=False,
    max_body_size=MAX_FORM_BYTES,
)
def unsubscribe_now(request: Request, s: SiteDep, token: str = "") -> Response:
    """RFC 8058 one-click: the signed token in the URL is the whole authorisation."""
    return _unsubscribe_page(request, s, token, act=True)


def _summary(issue: Issue) -> IssueSummary:
    return IssueSummary(
        week=issue.week,
        label=issue.digest.label,
        subject=issue.subject,
        url=f"/newsletter/archive/{issue.week}",
        sent_at=issue.created_at,
        sample=issue.is_sample,
    )


def archive_page(store: IssueStore) -> ArchivePage:
    found = [_summary(i) for i in store.list()]
    return ArchivePage(count=len(found), issues=found)


def issue_page(store: IssueStore, week: str) -> IssuePage:
    try:
        issue = store.get(str(parse_week(week)))
    except UserError as exc:
        raise HTTPException(404, str(exc)) from None
    if issue is None:
        raise HTTPException(404, f"no digest was sent for week {week}; see /newsletter/archive")
    return IssuePage(
        issue=_summary(issue),
        digest=issue.digest,
        html=issue.content.body_html,
        text=issue.content.text,
    )


@router.get("/newsletter/archive", response_class=HTMLResponse, include_in_schema=False)
def archive(request: Request, s: SiteDep) -> Response:
    page = archive_page(IssueStore(s.runtime.engine))
    meta = Meta(
        title="Newsletter archive · shiporskip",
        description="Every weekly digest of AI tool verdicts sent so far.",
        path="/newsletter/archive",
    )
    return s.render(request, "newsletter/archive.html", page, meta)


@router.get("/newsletter/archive/{week}", response_class=HTMLResponse, include_in_schema=False)
def archive_issue(request: Request, s: SiteDep, week: str) -> Response:
    page = issue_page(IssueStore(s.runtime.engine), week)
    meta = Meta(
        title=f"{page.issue.subject} · shiporskip",
        description=f"The weekly AI tool verdicts for {page.issue.label}.",
        path=page.issue.url,
        og_type="article",
    )
    # The issue is the mail's HTML, styled by style attributes as mail must be.
    headers = {"Content-Security-Policy": policy(style_attributes=True)}
    return s.render(request, "newsletter/issue.html", page, meta, headers=headers)


@router.get(
    "/api/v1/newsletter/archive",
    response_model=ArchivePage,
    tags=["newsletter"],
    responses=errors(),
)
def api_archive(request: Request) -> ArchivePage:
    """Every digest issue sent, newest first."""
    return archive_page(IssueStore(runtime_of(request).engine))


@router.get(
    "/api/v1/newsletter/archive/{week}",
    response_model=IssuePage,
    tags=["newsletter"],
    responses=errors(404),
)
def api_archive_issue(request: Request, week: str) -> IssuePage:
    """One issue: its data, HTML content block and text, as archived when first sent."""
    return issue_page(IssueStore(runtime_of(request).engine), week)

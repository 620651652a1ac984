"""Community voting on the web: the vote endpoints, the vote box, and `GET /api/v1/me`.

The vote box is part of shared pages, the same bytes for everyone (`web/shared.py`). The
visitor's own vote reaches the page two ways: `static/site.js` asks `/api/v1/me` and marks
the pressed button; without JavaScript, the form's vote redirects back to the page with
`?voted=<slug>:<choice>`, a variant of the page (shared too) that says the vote was recorded.
Who votes, their CSRF token and the Origin check are `web/identity.py`.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shiporskip.domain.votes import Community, VoteValue, parse_vote
from shiporskip.errors import NotFoundError
from shiporskip.runtime import Runtime
from shiporskip.storage.votes import Limits, RateLimited, VoteRefused, VoteStore, votes_of
from shiporskip.web.bodies import parse_form
from shiporskip.web.identity import (
    check_csrf,
    cross_site,
    csrf_token,
    new_voter_id,
    request_voter,
    voter_cookie,
    voter_from_cookie,
)
from shiporskip.web.openapi import errors, json_body
from shiporskip.web.proxies import client_address
from shiporskip.web.site import runtime_of

router = APIRouter()

MAX_VOTE_BODY = 2048
# What `?voted=` may say; anything else shows the plain page.
CHOICES = ("ship", "skip", "withdraw")
# Tools one `GET /api/v1/me` may ask about: a page has at most two vote boxes.
MAX_ME_TOOLS = 50
RECORDED = {
    "ship": "Your vote (Ship) is recorded.",
    "skip": "Your vote (Skip) is recorded.",
    "withdraw": "Your vote is withdrawn.",
}


def limits(runtime: Runtime) -> Limits:
    s = runtime.settings
    return Limits(per_voter=s.vote_rate_voter, per_ip=s.vote_rate_ip, minimum=s.vote_min_count)


class VoteBox(BaseModel):
    """What a page needs to show the community vote and the buttons: the same for every
    visitor. `voted` is the choice a no-JavaScript vote just sent, read from `?voted=`."""

    slug: str
    community_text: str
    community_note: str
    ship_pct: float | None
    votes: int
    verified: int
    voted: str | None = None
    recorded: str = ""


def vote_box(request: Request, slug: str, community: Community | None = None) -> VoteBox:
    runtime = runtime_of(request)
    found = community or VoteStore(runtime.engine).community(slug, runtime.settings.vote_min_count)
    tool, _, choice = request.query_params.get("voted", "").rpartition(":")
    voted = choice if tool == slug and choice in CHOICES else None
    return VoteBox(
        slug=slug,
        community_text=found.text,
        community_note=found.note,
        ship_pct=found.ship_pct,
        votes=found.total,
        verified=found.verified,
        voted=voted,
        recorded=RECORDED[voted] if voted else "",
    )


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Any: `parse_vote` reads it (and words the refusal); the schema shows what it takes.
    vote: Any = Field(
        default=None,
        description="ship or skip; null or withdraw takes your vote back.",
        json_schema_extra={"enum": ["ship", "skip", "withdraw", None]},
    )


class VoteOut(BaseModel):
    tool: str
    your_vote: str | None
    votes: int
    verified: int
    ship_pct: float | None
    shown: str
    note: str


def _cast(request: Request, slug: str, voter: str, value: VoteValue | None) -> VoteOut:
    runtime = runtime_of(request)
    ip = client_address(request)
    try:
        community = VoteStore(runtime.engine).cast(slug, voter, ip, value, limits(runtime))
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except RateLimited as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    except VoteRefused as exc:
        raise HTTPException(403, str(exc)) from None
    return VoteOut(
        tool=slug,
        your_vote=value.value if value else None,
        votes=community.total,
        verified=community.verified,
        ship_pct=community.ship_pct,
        shown=community.text,
        note=community.note,
    )


@router.post("/tools/{slug}/vote", include_in_schema=False, max_body_size=MAX_VOTE_BODY)
async def vote_form(request: Request, slug: str) -> Response:
    """The no-JavaScript form: vote, then back to the page the form was on, which says so.

    The form is on shared pages, so it carries no token: its Origin must be this site. A
    first vote (no valid visitor cookie) makes the visitor id, and its cookie goes with the
    redirect: the only answer of a shared page's form that sets one.
    """
    body = await request.body()  # at most MAX_VOTE_BODY (web/limits.py)
    runtime = runtime_of(request)
    refusal = cross_site(request, runtime.settings.base_url)
    if refusal:
        raise HTTPException(403, refusal)
    fields = {k: v[0] for k, v in parse_form(body, keep_blank_values=False).items()}
    if fields.get("website"):  # the honeypot: people never see this field
        raise HTTPException(400, "this form was filled in by a robot; nothing was recorded")
    if "vote" not in fields:
        raise HTTPException(422, "choose Ship or Skip (or Withdraw) to vote")
    try:
        value = parse_vote(fields["vote"])
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    known = voter_from_cookie(runtime, request)
    voter = known or new_voter_id()
    _cast(request, slug, voter, value)
    back = fields.get("next") or ""
    # A path on this site, never `//host` or `/\\host`, which browsers read as another site.
    if not back.startswith("/") or back.startswith(("//", "/\\")):
        back = f"/tools/{slug}"
    back = urlsplit(back).path  # the page itself: its own query gives way to `voted`
    choice = value.value if value else "withdraw"
    response = RedirectResponse(f"{back}?voted={slug}:{choice}#vote-{slug}", status_code=303)
    if known is None:
        response.headers.append("set-cookie", voter_cookie(runtime, voter))
    return response


@router.post(
    "/api/v1/tools/{slug}/vote",
    response_model=VoteOut,
    tags=["votes"],
    responses=errors(403, 404, 413, 422, 429),
    openapi_extra=json_body(VoteIn, required=False),
    max_body_size=MAX_VOTE_BODY,
)
async def vote_api(request: Request, slug: str) -> Any:
    """Cast, change or withdraw (`{"vote": null}`) your vote. Needs the visitor cookie and
    its CSRF token in `X-CSRF-Token` (both from `GET /api/v1/session`)."""
    body = await request.body()  # at most MAX_VOTE_BODY (web/limits.py)
    runtime = runtime_of(request)
    voter = voter_from_cookie(runtime, request)
    if voter is None:
        raise HTTPException(
            403, "your visitor cookie is missing or was tampered with; call GET /api/v1/session"
        )
    check_csrf(runtime, voter, request.headers.get("x-csrf-token"))
    try:
        data = VoteIn.model_validate_json(body or b"{}")
        value = parse_vote(data.vote)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise HTTPException(
            422, f'send {{"vote": "ship" | "skip" | null}} as JSON ({problems})'
        ) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return _cast(request, slug, voter, value)


class SessionOut(BaseModel):
    voter: str
    csrf_token: str


@router.get("/api/v1/session", response_model=SessionOut, tags=["votes"], responses=errors())
def session(request: Request) -> JSONResponse:
    """Your visitor identity (set as a cookie) and the CSRF token for voting via the API."""
    runtime = runtime_of(request)
    voter = request_voter(request)
    response = JSONResponse({"voter": voter, "csrf_token": csrf_token(runtime, voter)})
    response.headers["cache-control"] = "private, no-store"
    return response


class MeOut(BaseModel):
    votes: dict[str, Literal["ship", "skip"]] = Field(
        description="Your standing vote on each of the tools asked about that you voted on."
    )
    csrf_token: str | None = Field(
        description="The `X-CSRF-Token` for `POST /api/v1/tools/{slug}/vote`; null until "
        "you have a visitor cookie (from your first vote by form, or `GET /api/v1/session`)."
    )


@router.get("/api/v1/me", response_model=MeOut, tags=["votes"], responses=errors(422))
def me(
    request: Request,
    tools: str = Query(
        "",
        max_length=4000,
        description=f"Tool slugs separated by commas, at most {MAX_ME_TOOLS}.",
        examples=["cursor,aider"],
    ),
) -> JSONResponse:
    """What the shared pages leave out for you: your votes on some tools and your CSRF
    token. It never makes a visitor id: without the cookie, no votes and no token."""
    slugs = [s for s in dict.fromkeys(t.strip() for t in tools.split(",")) if s]
    if len(slugs) > MAX_ME_TOOLS:
        raise HTTPException(422, f"ask about at most {MAX_ME_TOOLS} tools at a time")
    runtime = runtime_of(request)
    voter = voter_from_cookie(runtime, request)
    votes: dict[str, str] = {}
    if voter and slugs:
        with runtime.engine.connect() as conn:
            votes = votes_of(conn, voter, slugs)
    token = csrf_token(runtime, voter) if voter else None
    response = JSONResponse({"votes": votes, "csrf_token": token})
    response.headers["cache-control"] = "private, no-store"
    return response

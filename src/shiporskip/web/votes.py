"""Community voting on the web: the vote endpoints and the vote box.

Who votes, and the CSRF token bound to them, is `web/identity.py`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shiporskip.domain.votes import Community, VoteValue, parse_vote
from shiporskip.errors import NotFoundError
from shiporskip.runtime import Runtime
from shiporskip.storage.votes import Limits, RateLimited, VoteRefused, VoteStore
from shiporskip.web.bodies import parse_form
from shiporskip.web.identity import (
    check_csrf,
    csrf_token,
    request_voter,
    voter_from_cookie,
)
from shiporskip.web.openapi import errors, json_body
from shiporskip.web.proxies import client_address
from shiporskip.web.site import runtime_of

router = APIRouter()

MAX_VOTE_BODY = 2048


def limits(runtime: Runtime) -> Limits:
    s = runtime.settings
    return Limits(per_voter=s.vote_rate_voter, per_ip=s.vote_rate_ip, minimum=s.vote_min_count)


class VoteBox(BaseModel):
    """What a page needs to show the community vote and the buttons.

    The page is shared by every visitor: `csrf` and `choice` are placeholders that
    `web/shared.py` fills with this visitor's token and pressed button.
    """

    slug: str
    community_text: str
    community_note: str
    ship_pct: float | None
    votes: int
    verified: int
    csrf: str
    choice: str


def vote_box(request: Request, slug: str, community: Community | None = None) -> VoteBox:
    site = request.app.state.site
    runtime = site.runtime
    found = community or VoteStore(runtime.engine).community(slug, runtime.settings.vote_min_count)
    return VoteBox(
        slug=slug,
        community_text=found.text,
        community_note=found.note,
        ship_pct=found.ship_pct,
        votes=found.total,
        verified=found.verified,
        csrf=site.marks.csrf,
        choice=site.marks.choice(slug),
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


def _cast(request: Request, slug: str, value: VoteValue | None) -> VoteOut:
    runtime = runtime_of(request)
    voter = voter_from_cookie(runtime, request)
    if voter is None:
        raise HTTPException(
            403,
            "your visitor cookie is missing or was tampered with; reload the page and vote again",
        )
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
    """The no-JavaScript form: vote, then back to the page the form was on."""
    body = await request.body()  # at most MAX_VOTE_BODY (web/limits.py)
    fields = {k: v[0] for k, v in parse_form(body, keep_blank_values=False).items()}
    if fields.get("website"):  # the honeypot: people never see this field
        raise HTTPException(400, "this form was filled in by a robot; nothing was recorded")
    runtime = runtime_of(request)
    voter = voter_from_cookie(runtime, request)
    if voter is None:
        raise HTTPException(
            403,
            "your visitor cookie is missing or was tampered with; reload the page and vote again",
        )
    check_csrf(runtime, voter, fields.get("csrf"))
    if "vote" not in fields:
        raise HTTPException(422, "choose Ship or Skip (or Withdraw) to vote")
    try:
        value = parse_vote(fields["vote"])
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    _cast(request, slug, value)
    back = fields.get("next") or f"/tools/{slug}"
    if not back.startswith("/") or back.startswith("//"):
        back = f"/tools/{slug}"
    return RedirectResponse(back + "#vote", status_code=303)


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
    return _cast(request, slug, value)


class SessionOut(BaseModel):
    voter: str
    csrf_token: str


@router.get("/api/v1/session", response_model=SessionOut, tags=["votes"], responses=errors())
def session(request: Request) -> JSONResponse:
    """Your visitor identity (set as a cookie) and the CSRF token for voting via the API."""
    runtime = runtime_of(request)
    voter = request_voter(request)
    response = JSONResponse({"voter": voter, "csrf_token": csrf_token(runtime, voter)})
    return response

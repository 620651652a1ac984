"""The admin area: moderation queue, votes, parked jobs, re-review, audit and edit a tool.

Off unless the admin_token setting holds at least 16 characters: there is no default
password. A browser signs in with the token once and gets a signed, HttpOnly,
SameSite=Strict session cookie for 12 hours, recorded server-side so signing out ends it;
every admin form carries a CSRF token bound to that session. Scripts send
`Authorization: Bearer TOKEN` to `/api/v1/admin/...`. Failed sign-ins are limited per
client address.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import asdict
from typing import Any, TypeVar
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError

from shiporskip.catalog import describe_validation_error
from shiporskip.domain.tools import Tool
from shiporskip.errors import DuplicateToolError, NotFoundError, UserError
from shiporskip.jobs.api import JobInfo
from shiporskip.jobs.worker import open_queue
from shiporskip.moderation import approve, review, void
from shiporskip.runtime import Runtime
from shiporskip.storage.submissions import (
    PENDING,
    STATUSES,
    DuplicateSubmissionError,
    Submission,
    SubmissionStateError,
)
from shiporskip.storage.votes import VoteStore
from shiporskip.structured import load_yaml
from shiporskip.web.admin_auth import (
    ADMIN_COOKIE,
    MAX_FORM,
    PRIVATE_HEADERS,
    SESSION_SECONDS,
    Session,
    SignInRequired,
    admin_form,
    admin_token,
    bearer,
    check_token,
    close_session,
    open_session,
)
from shiporskip.web.admin_schemas import (
    AdminSubmission,
    AuditOut,
    JobsOut,
    RetryOut,
    ReviewQueuedOut,
    SubmissionsOut,
    VoidOut,
    VoteEventsOut,
)
from shiporskip.web.bodies import parse_json
from shiporskip.web.identity import check_csrf, csrf_token, request_voter, voter_from_cookie
from shiporskip.web.openapi import answers, json_body
from shiporskip.web.site import Meta, Page, runtime_of
from shiporskip.web.submit import Invalid, read_body, read_form, store

T = TypeVar("T")


class AdminRoute(APIRoute):
    """Admin routes: the sign-in page instead of an error, and headers that keep pages private."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as exc:
                response = _login_page(request, str(exc), status=401)
            response.headers.update(PRIVATE_HEADERS)
            return response

        return guarded


router = APIRouter(route_class=AdminRoute)


class LoginPage(Page):
    message: str
    problem: bool
    csrf: str
    next: str


class AdminPage(Page):
    section: str
    csrf: str
    notice: str | None = None
    error: str | None = None


class SubmissionsPage(AdminPage):
    status: str
    counts: dict[str, int]
    items: list[dict[str, Any]]
    kept: dict[str, str] = Field(default_factory=dict)


class VotesPage(AdminPage):
    events: list[dict[str, Any]]
    communities: list[dict[str, Any]]
    voter: str = ""
    ip: str = ""


class JobsPage(AdminPage):
    parked: list[JobInfo]
    recent: list[JobInfo]


class ToolsPage(AdminPage):
    tools: list[dict[str, str]]


class AuditPage(AdminPage):
    slug: str
    name: str
    attempts: list[dict[str, Any]]


class EditPage(AdminPage):
    slug: str
    name: str
    text: str
    problems: list[str] = Field(default_factory=list)


NOTICES = {
    "approved": "Approved: {ref}.",
    "rejected": "Rejected submission {ref}; the submitter sees your reason on the status page.",
    "voided": "Voided {ref}. Community counts are recomputed from the votes that remain.",
    "retried": "Job {ref} is queued again.",
    "queued": "Queued the review of {ref}.",
    "saved": "Saved {ref}.",
}


def _render(request: Request, template: str, page: Page, title: str, status: int = 200) -> Response:
    meta = Meta(
        title=f"{title} · admin · shiporskip",
        description="The shiporskip admin area.",
        path=request.url.path,
        noindex=True,
    )
    site = request.app.state.site
    return site.render(request, f"admin/{template}", page, meta, status=status)  # type: ignore[no-any-return]


def _login_page(request: Request, message: str, status: int = 200, next_: str = "") -> Response:
    target = next_ or (request.url.path if request.method == "GET" else "/admin")
    page = LoginPage(
        message=message,
        problem=status >= 400,
        csrf=csrf_token(runtime_of(request), request_voter(request)),
        next=target if target.startswith("/admin") else "/admin",
    )
    return _render(request, "login.html", page, "Sign in", status)


def _base(request: Request, sid: str, section: str) -> dict[str, Any]:
    done = NOTICES.get(request.query_params.get("done", ""))
    notice = done.format(ref=request.query_params.get("ref", "")[:200]) if done else None
    return {"section": section, "csrf": csrf_token(runtime_of(request), sid), "notice": notice}


def _done(path: str, code: str, ref: object) -> Response:
    return RedirectResponse(f"{path}?{urlencode({'done': code, 'ref': str(ref)})}", 303)


def status_of(exc: UserError) -> int:
    """The HTTP status of a refused admin action."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, SubmissionStateError | DuplicateToolError | DuplicateSubmissionError):
        return 409
    return 422


def _run(call: Callable[[], T]) -> T:
    try:
        return call()
    except UserError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None


def edit(runtime: Runtime, slug: str, text: str) -> Tool:
    """Replace a tool with edited YAML, validated like an import entry; nothing saved on error."""
    try:
        raw = load_yaml(text)
    except UserError as exc:  # nested too deep, a key given twice
        raise Invalid([("yaml", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise Invalid(
            [("yaml", f"{where}invalid YAML ({problem}); fix the syntax there")]
        ) from None
    if not isinstance(raw, dict):
        raise Invalid([("yaml", "write one mapping of field: value (the tool), not a list")])
    try:
        tool = Tool.model_validate(raw)
    except ValidationError as exc:
        lines = describe_validation_error(exc)
        raise Invalid(
            [(line.partition(": ")[0], line.partition(": ")[2]) for line in lines]
        ) from None
    return runtime.catalog.replace(slug, tool)


def tool_yaml(tool: Tool) -> str:
    return yaml.safe_dump(tool.to_data(), sort_keys=False, allow_unicode=True, width=100)


# -- sign in and out ---------------------------------------------------------------------
@router.get("/admin/login", include_in_schema=False)
def login_form(request: Request, next: str = "/admin") -> Response:
    admin_token(runtime_of(request))
    return _login_page(request, "Sign in with the admin token.", next_=next)


@router.post("/admin/login", include_in_schema=False)
async def login(request: Request) -> Response:
    runtime = runtime_of(request)
    admin_token(runtime)
    values = await read_form(request, MAX_FORM)
    voter = voter_from_cookie(runtime, request)
    if voter is None:
        raise HTTPException(403, "your visitor cookie is missing; reload the sign-in page")
    check_csrf(runtime, voter, values.get("csrf"))
    target = values.get("next", "/admin")
    try:
        check_token(request, values.get("token", ""), 403)
    except HTTPException as exc:
        if exc.status_code == 429:
            raise
        return _login_page(request, f"{exc.detail[:1].upper()}{exc.detail[1:]}.", 403, target)
    if not target.startswith("/admin") or target.startswith("//"):
        target = "/admin"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        ADMIN_COOKIE,
        open_session(runtime),
        max_age=SESSION_SECONDS,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=runtime.settings.base_url.startswith("https://"),
    )
    return response


@router.post("/admin/logout", include_in_schema=False)
async def logout(request: Request, sid: Session) -> Response:
    await admin_form(request, sid)
    close_session(runtime_of(request), sid)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(ADMIN_COOKIE, path="/admin")
    return response


# -- the moderation queue ----------------------------------------------------------------
def _row(submission: Submission) -> dict[str, Any]:
    data = submission.to_data()
    data["plans"] = [f"{p.name}: {p.describe()}" for p in submission.tool.pricing.plans]
    data["yaml"] = tool_yaml(submission.tool)
    return data


def _queue_page(request: Request, sid: str, status: str = PENDING, **extra: Any) -> SubmissionsPage:
    if status not in STATUSES:
        raise HTTPException(404, f"no queue {status!r}; use pending, approved or rejected")
    submissions = store(runtime_of(request))
    return SubmissionsPage(
        **_base(request, sid, "submissions") | extra,
        status=status,
        counts={s: submissions.count(s) for s in STATUSES},
        items=[_row(x) for x in submissions.list(status)],
    )


@router.get("/admin", include_in_schema=False)
@router.get("/admin/submissions", include_in_schema=False)
def queue(request: Request, sid: Session, status: str = PENDING) -> Response:
    return _render(request, "submissions.html", _queue_page(request, sid, status), "Submissions")


@router.post("/admin/submissions/{submission_id}/{action}", include_in_schema=False)
async def decide(request: Request, sid: Session, submission_id: int, action: str) -> Response:
    values = await admin_form(request, sid)
    runtime = runtime_of(request)
    try:
        if action == "approve":
            done = approve(runtime, submission_id)
            ref = f"{done.tool_slug} is in the catalog and its review is queued (job {done.job_id})"
            return _done("/admin/submissions", "approved", ref)
        if action == "reject":
            store(runtime).reject(submission_id, values.get("reason", ""))
            return _done("/admin/submissions", "rejected", submission_id)
    except UserError as exc:
        kept = {str(submission_id): values.get("reason", "")}
        page = _queue_page(request, sid, error=str(exc), kept=kept)
        return _render(request, "submissions.html", page, "Submissions", status_of(exc))
    raise HTTPException(404, f"no action {action!r}; use approve or reject")


# -- votes -------------------------------------------------------------------------------
def _votes_page(request: Request, sid: str, **extra: Any) -> VotesPage:
    runtime = runtime_of(request)
    votes = VoteStore(runtime.engine)
    found = votes.communities(runtime.settings.vote_min_count)
    communities = [
        {"slug": slug, "ships": c.ships, "skips": c.skips, "shown": c.text, "note": c.note}
        for slug, c in sorted(found.items())
    ]
    return VotesPage(
        **_base(request, sid, "votes") | extra,
        events=votes.events(200),
        communities=communities,
    )


@router.get("/admin/votes", include_in_schema=False)
def votes_page(request: Request, sid: Session) -> Response:
    return _render(request, "votes.html", _votes_page(request, sid), "Votes")


@router.post("/admin/votes/void", include_in_schema=False)
async def void_form(request: Request, sid: Session) -> Response:
    values = await admin_form(request, sid)
    voter, ip = values.get("voter", ""), values.get("ip", "")
    try:
        count, label = void(runtime_of(request), voter, ip)
    except UserError as exc:
        page = _votes_page(request, sid, error=str(exc), voter=voter, ip=ip)
        return _render(request, "votes.html", page, "Votes", status_of(exc))
    return _done("/admin/votes", "voided", f"{count} votes of {label}")


# -- jobs --------------------------------------------------------------------------------
@router.get("/admin/jobs", include_in_schema=False)
def jobs_page(request: Request, sid: Session) -> Response:
    queue = open_queue(runtime_of(request))
    page = JobsPage(
        **_base(request, sid, "jobs"), parked=queue.list("parked"), recent=queue.list(None, 20)
    )
    return _render(request, "jobs.html", page, "Jobs")


@router.post("/admin/jobs/{job_id}/retry", include_in_schema=False)
async def retry_form(request: Request, sid: Session, job_id: int) -> Response:
    await admin_form(request, sid)
    _run(lambda: open_queue(runtime_of(request)).retry(job_id))
    return _done("/admin/jobs", "retried", job_id)


# -- tools: re-review and edit -----------------------------------------------------------
@router.get("/admin/tools", include_in_schema=False)
def tools_page(request: Request, sid: Session) -> Response:
    tools = [
        {"slug": t.slug, "name": t.name, "category": t.category_info.name, "entry": t.pricing.entry}
        for t in runtime_of(request).catalog.list()
    ]
    return _render(
        request, "tools.html", ToolsPage(**_base(request, sid, "tools"), tools=tools), "Tools"
    )


@router.post("/admin/tools/{slug}/review", include_in_schema=False)
async def review_form(request: Request, sid: Session, slug: str) -> Response:
    await admin_form(request, sid)
    job = _run(lambda: review(runtime_of(request), slug))
    return _done("/admin/tools", "queued", f"{slug} (job {job})")


def audit(runtime: Runtime, slug: str) -> tuple[Tool, list[dict[str, Any]]]:
    """Every stored attempt at a tool, newest first, with its full spec and error."""
    tool = _run(lambda: runtime.catalog.get(slug))
    return tool, [r.audit() for r in reversed(runtime.reviews.history(slug))]


@router.get("/admin/tools/{slug}/reviews", include_in_schema=False)
def audit_page(request: Request, sid: Session, slug: str) -> Response:
    tool, attempts = audit(runtime_of(request), slug)
    page = AuditPage(**_base(request, sid, "tools"), slug=slug, name=tool.name, attempts=attempts)
    return _render(request, "reviews.html", page, f"Reviews of {tool.name}")


@router.get("/admin/tools/{slug}/edit", include_in_schema=False)
def edit_page(request: Request, sid: Session, slug: str) -> Response:
    tool = _run(lambda: runtime_of(request).catalog.get(slug))
    page = EditPage(**_base(request, sid, "tools"), slug=slug, name=tool.name, text=tool_yaml(tool))
    return _render(request, "edit.html", page, f"Edit {tool.name}")


@router.post("/admin/tools/{slug}/edit", include_in_schema=False)
async def edit_form(request: Request, sid: Session, slug: str) -> Response:
    values = await admin_form(request, sid)
    runtime = runtime_of(request)
    current = _run(lambda: runtime.catalog.get(slug))
    text = values.get("yaml", "")
    try:
        saved = edit(runtime, slug, text)
    except (Invalid, UserError) as exc:
        problems = exc.lines() if isinstance(exc, Invalid) else [str(exc)]
        status = 422 if isinstance(exc, Invalid) else status_of(exc)
        base = _base(request, sid, "tools") | {
            "error": "Nothing was saved; fix the problems below."
        }
        page = EditPage(**base, slug=slug, name=current.name, text=text, problems=problems)
        return _render(request, "edit.html", page, f"Edit {current.name}", status)
    return _done(f"/admin/tools/{saved.slug}/edit", "saved", saved.slug)


# -- the JSON API (Bearer token) ---------------------------------------------------------
# `response_model=None`: the answers are the stores' data as it is, documented by
# `answers` (`web/admin_schemas.py`).
API: dict[str, Any] = {"dependencies": [Depends(bearer)], "tags": ["admin"], "response_model": None}
# Any call: no token or a wrong one (401; 429 after repeated failures), the admin area off
# (404), an action refused (`_run`: 404, 422).
REFUSALS = (401, 404, 422, 429)


class RejectIn(BaseModel):
    reason: str = Field(description="Why; the submitter sees it on the status page.")


class VoidIn(BaseModel):
    voter: str | None = Field(default=None, description="A voter id, from the vote events.")
    ip: str | None = Field(default=None, description="An address or network: 203.0.113.0/24.")


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = parse_json(await read_body(request, MAX_FORM)) or {}
    except ValueError:
        raise HTTPException(422, "the body is not valid JSON; send a JSON object") from None
    if not isinstance(data, dict):
        raise HTTPException(422, "send a JSON object")
    return data


@router.get("/api/v1/admin/submissions", **API, responses=answers(SubmissionsOut, *REFUSALS))
def api_submissions(request: Request, status: str | None = PENDING) -> dict[str, Any]:
    """Submissions in a state (pending by default), newest first, with the submitter's email."""
    found = _run(lambda: store(runtime_of(request)).list(status))
    return {"count": len(found), "submissions": [s.to_data() for s in found]}


@router.post(
    "/api/v1/admin/submissions/{submission_id}/approve",
    **API,
    responses=answers(AdminSubmission, *REFUSALS, 409),
)
def api_approve(request: Request, submission_id: int) -> dict[str, Any]:
    """Approve: the tool goes into the catalog and its review is queued."""
    return _run(lambda: approve(runtime_of(request), submission_id)).to_data()


@router.post(
    "/api/v1/admin/submissions/{submission_id}/reject",
    **API,
    responses=answers(AdminSubmission, *REFUSALS, 409, 413),
    openapi_extra=json_body(RejectIn),
)
async def api_reject(request: Request, submission_id: int) -> dict[str, Any]:
    """Reject with `{"reason": "..."}` (required; the submitter sees it)."""
    reason = str((await _json(request)).get("reason") or "")
    return _run(lambda: store(runtime_of(request)).reject(submission_id, reason)).to_data()


@router.get("/api/v1/admin/votes/events", **API, responses=answers(VoteEventsOut, *REFUSALS))
def api_events(request: Request, limit: int = 100) -> dict[str, Any]:
    """The vote audit log, newest first."""
    events = VoteStore(runtime_of(request).engine).events(max(1, min(limit, 1000)))
    return {"count": len(events), "events": events}


@router.post(
    "/api/v1/admin/votes/void",
    **API,
    responses=answers(VoidOut, *REFUSALS, 413),
    openapi_extra=json_body(VoidIn),
)
async def api_void(request: Request) -> dict[str, Any]:
    """Void every vote of `{"voter": ID}` or `{"ip": "203.0.113.0/24"}`; counts recompute."""
    data = await _json(request)
    voter, ip = str(data.get("voter") or ""), str(data.get("ip") or "")
    count, label = _run(lambda: void(runtime_of(request), voter, ip))
    return {"voided": count, "message": f"voided {count} votes of {label}"}


@router.post(
    "/api/v1/admin/tools/{slug}/review", **API, responses=answers(ReviewQueuedOut, *REFUSALS)
)
def api_review(request: Request, slug: str) -> dict[str, Any]:
    """Queue a panel review of a tool."""
    return {"tool": slug, "job": _run(lambda: review(runtime_of(request), slug))}


@router.get("/api/v1/admin/tools/{slug}/reviews", **API, responses=answers(AuditOut, *REFUSALS))
def api_audit(request: Request, slug: str) -> dict[str, Any]:
    """Every review attempt at a tool, newest first: model spec, error, tokens, cost, latency."""
    _, attempts = audit(runtime_of(request), slug)
    return {"tool": slug, "count": len(attempts), "reviews": attempts}


@router.get("/api/v1/admin/jobs", **API, responses=answers(JobsOut, *REFUSALS))
def api_jobs(request: Request, status: str | None = "parked") -> dict[str, Any]:
    """Jobs in a state (parked by default: failed for good, with their errors)."""
    found = open_queue(runtime_of(request)).list(status)
    return {"count": len(found), "jobs": [asdict(j) for j in found]}


@router.post("/api/v1/admin/jobs/{job_id}/retry", **API, responses=answers(RetryOut, *REFUSALS))
def api_retry(request: Request, job_id: int) -> dict[str, Any]:
    """Queue a parked job again with a fresh attempt budget."""
    _run(lambda: open_queue(runtime_of(request)).retry(job_id))
    return {"job": job_id, "status": "queued"}

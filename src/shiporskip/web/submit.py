"""Submit a tool: the public form, the JSON API and the submitter's status page.

Maker text is untrusted: it is validated exactly like a catalog import entry, stored in a
moderation queue, shown escaped, and its injection attempts are flagged for moderators.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shiporskip.catalog import describe_validation_error
from shiporskip.domain.categories import CATEGORIES
from shiporskip.domain.pricing import Entry, parse_plan
from shiporskip.domain.tools import Tool
from shiporskip.errors import DuplicateToolError, UserError
from shiporskip.newsletter.addresses import InvalidEmail, normalise_email
from shiporskip.runtime import Runtime
from shiporskip.security import TokenError
from shiporskip.storage.submissions import DuplicateSubmissionError, Submission, SubmissionStore
from shiporskip.storage.votes import RateLimited
from shiporskip.web.bodies import parse_form, parse_json
from shiporskip.web.identity import check_csrf, csrf_token, request_voter, signer, voter_from_cookie
from shiporskip.web.openapi import errors, json_body
from shiporskip.web.proxies import client_address
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()

MAX_BODY = 32 * 1024
PER_HOUR = 5
LABELS = {
    "name": "Name",
    "vendor": "Vendor",
    "homepage": "Homepage",
    "category": "Category",
    "tagline": "Tagline",
    "description": "Description",
    "licence": "Licence",
    "entry": "Entry tier",
    "pricing_note": "Pricing note",
    "plans": "Plans",
    "email": "Your email",
}
FIELDS = tuple(LABELS)
# Import-format paths that the form spells differently.
_FIELD_OF_PATH = {
    "pricing.entry": "entry",
    "pricing.note": "pricing_note",
    "pricing": "entry",
    "submitter_email": "email",
}

Problem = tuple[str, str]  # (field path in the import format, what is wrong and the fix)


class Invalid(Exception):
    """A submission that fails validation, with every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{path}: {text}" for path, text in problems))
        self.problems = problems

    def lines(self) -> list[str]:
        """'field: problem; fix' in the import format's field names (for the API)."""
        return [f"{path}: {text}" for path, text in self.problems]

    def for_form(self) -> list[tuple[str, str]]:
        """(form field, sentence) pairs in the words of the form, in the form's order."""
        found = [_form_problem(path, text) for path, text in self.problems]
        return sorted(found, key=lambda p: FIELDS.index(p[0]) if p[0] in FIELDS else -1)


# Whole-entry checks that are about one field of the form.
_ENTRY_FIELDS = (("name ", "name"), ("entry 'open-source' needs a licence", "licence"))


def _form_problem(path: str, text: str) -> tuple[str, str]:
    if text == "is required; add it":
        text = "is required; fill it in"
    if path.startswith("pricing.plans["):
        number = int(path[len("pricing.plans[") : path.index("]")]) + 1
        return "plans", f"Plan line {number}: {text}"
    if path == "(entry)":
        path = next((field for start, field in _ENTRY_FIELDS if text.startswith(start)), path)
    field = _FIELD_OF_PATH.get(path, path)
    if field not in LABELS:
        return "", text[:1].upper() + text[1:] if path == "(entry)" else f"{path}: {text}"
    return field, f"{'Pricing' if path == 'pricing' else LABELS[field]}: {text}"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes `limit` bytes."""
    too_big = HTTPException(413, f"the request is larger than {limit // 1024} KB; shorten it")
    declared = request.headers.get("content-length")
    if declared and (not declared.isdigit() or int(declared) > limit):
        raise too_big
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    return body


async def read_form(request: Request, limit: int) -> dict[str, str]:
    """A url-encoded form body of at most `limit` bytes, one value per field."""
    body = await read_body(request, limit)
    return {k: v[0] for k, v in parse_form(body).items()}


def validate(
    data: dict[str, Any], raw_email: object = None, earlier: list[Problem] | None = None
) -> tuple[Tool, str | None]:
    """Validate an entry exactly like a catalog import, and the optional email; raise
    Invalid with every problem at once (`earlier`: plan lines that could not be read)."""
    problems = list(earlier or [])
    email = None
    if raw_email not in (None, ""):
        try:
            email = normalise_email(raw_email)
        except InvalidEmail as exc:
            problems.append(("submitter_email", str(exc)))
    if data.get("sample"):
        problems.append(("sample", "only the bundled sample catalog is sample data; remove it"))
    try:
        tool = Tool.model_validate(data)
    except ValidationError as exc:
        found = [line.partition(": ")[::2] for line in describe_validation_error(exc)]
        # Plans after an unreadable line are renumbered: report the unreadable ones first.
        problems += [(p, t) for p, t in found if not (earlier and p.startswith("pricing"))]
    if problems:
        raise Invalid(problems)
    return tool, email


def form_to_data(values: dict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """The form's fields in the import format (plan lines in the CLI's --plan shorthand),
    and the plan lines that could not be read."""
    data: dict[str, Any] = {
        key: values[key].strip()
        for key in ("name", "vendor", "homepage", "category", "tagline", "description", "licence")
        if values.get(key, "").strip()
    }
    pricing: dict[str, Any] = {"plans": []}
    if values.get("entry", "").strip():
        pricing["entry"] = values["entry"].strip()
    if values.get("pricing_note", "").strip():
        pricing["note"] = values["pricing_note"].strip()
    lines = [line.strip() for line in values.get("plans", "").splitlines() if line.strip()]
    problems: list[Problem] = []
    for index, line in enumerate(lines):
        try:
            pricing["plans"].append(parse_plan(line))
        except ValueError as exc:
            problems.append((f"pricing.plans[{index}]", str(exc)))
    data["pricing"] = pricing
    return data, problems


def duplicate_text(exc: DuplicateToolError) -> str:
    """The refusal for a submitter: what matched, and the page of the existing record."""
    reason = str(exc).split("; to change")[0]
    return f"{reason}; see its page at /tools/{exc.existing_slug}"


def store(runtime: Runtime) -> SubmissionStore:
    return SubmissionStore(runtime.engine, runtime.catalog)


def status_token(runtime: Runtime, submission_id: int) -> str:
    return signer(runtime).sign("submission", submission_id)


def status_path(runtime: Runtime, submission_id: int) -> str:
    return f"/submit/status/{status_token(runtime, submission_id)}"


def _rate_check(request: Request) -> None:
    wait = store(runtime_of(request)).retry_after(client_address(request), PER_HOUR)
    if wait:
        raise HTTPException(
            429,
            f"too many submissions from your network in the last hour (limit {PER_HOUR}); "
            f"try again in {wait // 60 + 1} minutes",
            headers={"Retry-After": str(wait)},
        )


def _visitor(request: Request) -> str:
    voter = voter_from_cookie(runtime_of(request), request)
    if voter is None:
        raise HTTPException(
            403, "your visitor cookie is missing or was tampered with; reload the page and retry"
        )
    return voter


def _save(request: Request, tool: Tool, email: str | None, voter: str) -> Submission:
    """Store the submission; refusals become HTTP errors the caller renders."""
    try:
        return store(runtime_of(request)).add(
            tool, ip=client_address(request), per_hour=PER_HOUR, email=email, voter_id=voter
        )
    except RateLimited as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None


# -- the form ----------------------------------------------------------------------------
class Choice(BaseModel):
    value: str
    label: str


class SubmitPage(Page):
    kind: str = "form"
    values: dict[str, str]
    errors: dict[str, list[str]]
    problems: list[str]
    existing_url: str | None
    csrf: str
    categories: list[Choice]
    entries: list[str]
    per_hour: int


class StatusPage(Page):
    kind: str = "status"
    id: int
    name: str
    status: str
    reason: str | None
    tool_url: str | None
    submitted: str
    just_submitted: bool


def _form_page(
    request: Request,
    s: SiteDep,
    values: dict[str, str] | None = None,
    problems: list[tuple[str, str]] | None = None,
    existing_url: str | None = None,
    status: int = 200,
) -> Response:
    errors: dict[str, list[str]] = {}
    for field, message in problems or []:
        errors.setdefault(field, []).append(message)
    page = SubmitPage(
        values={k: (values or {}).get(k, "") for k in FIELDS},
        errors=errors,
        problems=[message for _, message in problems or []],
        existing_url=existing_url,
        csrf=csrf_token(s.runtime, request_voter(request)),
        categories=[Choice(value=c.slug, label=c.name) for c in CATEGORIES],
        entries=[e.value for e in Entry],
        per_hour=PER_HOUR,
    )
    meta = Meta(
        title="Submit a tool · shiporskip",
        description="Propose an AI tool for the panel of AI critics to review.",
        path="/submit",
        noindex=status != 200,
    )
    # The form carries this visitor's CSRF token: no cache may keep it.
    personal = {"Cache-Control": "private, no-store"}
    return s.render(request, "submit.html", page, meta, status=status, headers=personal)


@router.get("/submit", include_in_schema=False)
def submit_form(request: Request, s: SiteDep) -> Response:
    """The empty form."""
    return _form_page(request, s)


@router.post("/submit", include_in_schema=False, max_body_size=MAX_BODY)
async def submit_post(request: Request, s: SiteDep) -> Response:
    """Check, validate and queue a submission; on a mistake, the form again with the text."""
    values = await read_form(request, MAX_BODY)
    if values.get("website"):  # the honeypot: people never see this field
        raise HTTPException(400, "this form was filled in by a robot; nothing was submitted")
    voter = _visitor(request)
    check_csrf(s.runtime, voter, values.get("csrf"))
    _rate_check(request)
    data, unreadable = form_to_data(values)
    try:
        tool, email = validate(data, values.get("email", "").strip(), unreadable)
        saved = _save(request, tool, email, voter)
    except Invalid as exc:
        return _form_page(request, s, values, exc.for_form(), status=422)
    except DuplicateToolError as exc:
        url = f"/tools/{exc.existing_slug}"
        return _form_page(request, s, values, [("", _sentence(exc))], url, status=409)
    except DuplicateSubmissionError as exc:
        return _form_page(request, s, values, [("", _sentence(exc))], status=409)
    return RedirectResponse(status_path(s.runtime, saved.id) + "?new=1", status_code=303)


def _sentence(exc: Exception) -> str:
    text = duplicate_text(exc) if isinstance(exc, DuplicateToolError) else str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _submission_of(request: Request, token: str) -> Submission:
    runtime = runtime_of(request)
    try:
        submission_id = signer(runtime).unsign("submission", token)
    except TokenError:
        raise HTTPException(
            404, "this status link is not valid; use the exact link you got when you submitted"
        ) from None
    try:
        return store(runtime).get(int(submission_id))
    except (TypeError, ValueError, UserError):
        raise HTTPException(404, "this status link names no submission") from None


def _status_page(submission: Submission, just_submitted: bool) -> StatusPage:
    return StatusPage(
        id=submission.id,
        name=submission.tool.name,
        status=submission.status,
        reason=submission.reason,
        tool_url=f"/tools/{submission.tool_slug}" if submission.tool_slug else None,
        submitted=submission.created_at.date().isoformat(),
        just_submitted=just_submitted,
    )


@router.get("/submit/status/{token}", include_in_schema=False)
def status_html(request: Request, s: SiteDep, token: str, new: int = 0) -> Response:
    """What happened to a submission: pending, approved (with a link) or rejected (why)."""
    page = _status_page(_submission_of(request, token), bool(new))
    meta = Meta(
        title=f"Submission: {page.name} · shiporskip",
        description=f"Moderation status of the submission of {page.name}.",
        path=request.url.path,
        noindex=True,
    )
    return s.render(request, "submit.html", page, meta)


# -- the API -----------------------------------------------------------------------------
class SubmissionOut(BaseModel):
    id: int
    status: str
    name: str
    reason: str | None
    tool_url: str | None
    status_url: str
    flags: list[dict[str, str]]


def _out(runtime: Runtime, submission: Submission) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        status=submission.status,
        name=submission.tool.name,
        reason=submission.reason,
        tool_url=f"/tools/{submission.tool_slug}" if submission.tool_slug else None,
        status_url=status_path(runtime, submission.id),
        flags=list(submission.flags),
    )


def _json_entry(body: bytes) -> dict[str, Any]:
    try:
        data = parse_json(body)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise HTTPException(422, f"the body is not valid JSON ({where}); fix it there") from None
    except UnicodeDecodeError:
        raise HTTPException(422, "the body is not UTF-8 text; send JSON in UTF-8") from None
    if not isinstance(data, dict):
        raise HTTPException(
            422, "send one tool entry as a JSON object of field: value (the catalog format)"
        )
    return data


EXAMPLE: dict[str, Any] = {
    "name": "Example Tool",
    "vendor": "Example Co",
    "homepage": "https://example.com/tool",
    "category": "developer-tools",
    "tagline": "Does one thing well",
    "description": "What it does, for whom, and how.",
    "pricing": {
        "entry": "paid",
        "plans": [{"name": "API", "amount": 5, "unit": "request", "per": 1000}],
    },
    "submitter_email": "maker@example.com",
}


class SubmissionIn(Tool):
    """The body of `POST /api/v1/submissions`, as the schema shows it: one entry in the
    catalog import format, and an address to tell when it is decided."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    submitter_email: str | None = Field(
        default=None, description="Told when a moderator decides (optional)."
    )


@router.post(
    "/api/v1/submissions",
    response_model=SubmissionOut,
    status_code=201,
    tags=["submissions"],
    responses=errors(403, 409, 413, 422, 429),
    openapi_extra=json_body(SubmissionIn),
    max_body_size=MAX_BODY,
)
async def submit_api(request: Request) -> Any:
    """Submit a tool: one entry in the catalog import format, plus an optional
    `submitter_email`. Needs the visitor cookie and `X-CSRF-Token` from `GET /api/v1/session`.
    """
    runtime = runtime_of(request)
    body = await read_body(request, MAX_BODY)
    voter = _visitor(request)
    check_csrf(runtime, voter, request.headers.get("x-csrf-token"))
    _rate_check(request)
    data = _json_entry(body)
    try:
        tool, email = validate(data, data.pop("submitter_email", None))
        saved = _save(request, tool, email, voter)
    except Invalid as exc:
        error = "the submission is not valid and was not stored; fix these and send it again"
        return JSONResponse({"error": error, "problems": exc.lines()}, status_code=422)
    except DuplicateToolError as exc:
        url = f"/tools/{exc.existing_slug}"
        return JSONResponse({"error": duplicate_text(exc), "existing_url": url}, status_code=409)
    except DuplicateSubmissionError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    return JSONResponse(_out(runtime, saved).model_dump(), status_code=201)


@router.get(
    "/api/v1/submissions/{token}",
    response_model=SubmissionOut,
    tags=["submissions"],
    responses=errors(404),
)
def status_api(request: Request, token: str) -> SubmissionOut:
    """The status of a submission, by the token of its status link."""
    return _out(runtime_of(request), _submission_of(request, token))

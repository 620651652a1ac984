"""The predictions ledger: `/predictions` (due now, open, resolved) and `/api/v1/predictions`.

Both read `storage/predictions.py` in the order predictions were made (by id) and continue
a page from `after`, the id of the last entry shown: a plain number, because any id is a
valid place to continue from and the filters stay in the address. The page is not kept by
the page cache: a prediction becomes due when its date passes, with no write to tell the
cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from shiporskip.domain.predictions import STATUSES, Status
from shiporskip.panel.critics import Critic
from shiporskip.runtime import Runtime
from shiporskip.storage.predictions import RESOLVED, Entry, Filters, PredictionStore
from shiporskip.web.openapi import errors
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()

HTML_PATH = "/predictions"
API_PATH = "/api/v1/predictions"
SECTION_SIZE = 25
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# What the `status` filter takes: one status, or every resolved one.
CHOICES: dict[str, tuple[Status, ...]] = {s: (Status(s),) for s in STATUSES}
CHOICES["resolved"] = RESOLVED
SECTIONS = (
    ("due", "Past their due date, waiting for someone to check them against what happened."),
    ("open", "Not due yet."),
    ("resolved", "Checked against what happened, with the evidence."),
)
TITLES = {
    "due": "Due now",
    "open": "Open",
    "resolved": "Resolved",
    "right": "Resolved: right",
    "wrong": "Resolved: wrong",
    "unclear": "Resolved: unclear",
}
StatusText = Literal["open", "due", "right", "wrong", "unclear"]


class LedgerEntryOut(BaseModel):
    """One prediction: `tool` and `critic` are ids (slugs); `status` is open, due (open
    and past its due date), right, wrong or unclear; `evidence` is a web address once
    resolved."""

    id: int
    tool: str
    critic: str
    claim: str
    made_at: datetime
    due: datetime
    status: StatusText
    evidence: str | None
    resolved_at: datetime | None
    horizon_months: int
    sample: bool
    tool_name: str
    tool_url: str
    critic_name: str
    critic_url: str | None


class PredictionsOut(BaseModel):
    """A page of the ledger: `count` entries match the filters; `next` continues (null on
    the last page)."""

    count: int
    predictions: list[LedgerEntryOut]
    next: str | None


class SectionOut(BaseModel):
    status: str
    title: str
    note: str
    count: int
    predictions: list[LedgerEntryOut]
    next_url: str | None


class CriticOption(BaseModel):
    id: str
    name: str


class PredictionsPage(Page):
    sections: list[SectionOut]
    counts: dict[str, int]
    total: int
    status: str | None
    critic: str | None
    tool: str | None
    tool_name: str | None
    critics: list[CriticOption]
    filtered: bool
    continued: bool


@dataclass(frozen=True, slots=True)
class Asked:
    """The query: filters, where to continue and how many."""

    status: str | None
    critic: str | None
    tool: str | None
    after: int
    limit: int

    def filters(self, statuses: tuple[Status, ...] = ()) -> Filters:
        chosen = CHOICES[self.status] if self.status else statuses
        return Filters(statuses=chosen, critic=self.critic, tool=self.tool)

    def url(self, path: str, after: int) -> str:
        params: dict[str, str | int] = {
            k: v
            for k, v in (("status", self.status), ("critic", self.critic), ("tool", self.tool))
            if v
        }
        if self.limit != DEFAULT_LIMIT and path == API_PATH:
            params["limit"] = self.limit
        params["after"] = after
        return f"{path}?{urlencode(params)}"


def _number(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) > 10 or not low <= int(text) <= high:
        raise HTTPException(422, f"{name} must be a whole number from {low} to {high}")
    return int(text)


def asked(
    request: Request,
    status: str | None = None,
    critic: str | None = None,
    tool: str | None = None,
    after: str | None = None,
    limit: str | None = None,
) -> Asked:
    """The query both addresses take (FastAPI dependency), refused with one sentence."""
    runtime = runtime_of(request)
    status = (status or "").strip().lower() or None
    if status is not None and status not in CHOICES:
        raise HTTPException(
            422, f"status {status[:40]!r} is not one of {', '.join(CHOICES)}; leave it out for all"
        )
    critic = (critic or "").strip() or None
    if critic is not None:
        known = [c.id for c in runtime.critics(include_retired=True)]
        if critic not in known:
            raise HTTPException(
                422, f"no critic is called {critic[:40]!r}; the critics are {', '.join(known)}"
            )
    tool = (tool or "").strip() or None
    if tool is not None and runtime.catalog.find(tool[:80]) is None:
        raise HTTPException(422, f"no tool has the slug {tool[:80]!r}; use a slug from /tools")
    return Asked(
        status=status,
        critic=critic,
        tool=tool,
        after=_number("after", after, 0, 0, 2**31 - 1),
        limit=_number("limit", limit, DEFAULT_LIMIT, 1, MAX_LIMIT),
    )


AskedDep = Annotated[Asked, Depends(asked)]


def entry_out(entry: Entry, critics: dict[str, Critic], now: datetime) -> LedgerEntryOut:
    critic = critics.get(entry.critic_id)
    return LedgerEntryOut(
        **entry.to_data(now),
        tool_name=entry.tool_name,
        tool_url=f"/tools/{entry.tool_slug}",
        critic_name=critic.name if critic else entry.critic_id,
        critic_url=f"/critics/{critic.id}" if critic else None,
    )


def _critics(runtime: Runtime) -> dict[str, Critic]:
    return {c.id: c for c in runtime.critics(include_retired=True)}


def _window(
    store: PredictionStore, filters: Filters, now: datetime, after: int, size: int
) -> tuple[list[Entry], bool]:
    """Up to `size` entries, and whether more follow."""
    found = store.page(filters, now, after=after, limit=size + 1)
    return found[:size], len(found) > size


def predictions_list(runtime: Runtime, asked: Asked, now: datetime) -> PredictionsOut:
    """The API's page of the ledger."""
    store = PredictionStore(runtime.engine)
    filters = asked.filters()
    counts = store.counts(filters, now)
    chosen = filters.statuses or tuple(Status)
    shown, more = _window(store, filters, now, asked.after, asked.limit)
    critics = _critics(runtime)
    return PredictionsOut(
        count=sum(counts[s] for s in chosen),
        predictions=[entry_out(e, critics, now) for e in shown],
        next=asked.url(API_PATH, shown[-1].id) if more else None,
    )


def predictions_page(runtime: Runtime, asked: Asked, now: datetime) -> PredictionsPage:
    """Due now, then open, then resolved; or one of them (`status`), a page at a time."""
    store = PredictionStore(runtime.engine)
    counts = store.counts(asked.filters(), now)
    critics = _critics(runtime)
    sections = []
    for key, note in SECTIONS:
        statuses = CHOICES[key]
        if asked.status and not set(CHOICES[asked.status]) <= set(statuses):
            continue
        shown_status = asked.status or key
        filters = asked.filters(statuses)
        shown, more = _window(store, filters, now, asked.after, SECTION_SIZE)
        section = Asked(shown_status, asked.critic, asked.tool, 0, DEFAULT_LIMIT)
        sections.append(
            SectionOut(
                status=shown_status,
                title=TITLES[shown_status],
                note=note,
                count=sum(counts[s] for s in filters.statuses),
                predictions=[entry_out(e, critics, now) for e in shown],
                next_url=section.url(HTML_PATH, shown[-1].id) if more else None,
            )
        )
    tool = runtime.catalog.find(asked.tool) if asked.tool else None
    return PredictionsPage(
        sections=sections,
        counts={s.value: n for s, n in counts.items()},
        total=sum(counts.values()),
        status=asked.status,
        critic=asked.critic,
        tool=tool.slug if tool else None,
        tool_name=tool.name if tool else None,
        critics=[CriticOption(id=c.id, name=c.name) for c in critics.values()],
        filtered=bool(asked.status or asked.critic or asked.tool),
        continued=asked.after > 0,
    )


def _now() -> datetime:
    return datetime.now(UTC)


@router.get(HTML_PATH, response_class=HTMLResponse, include_in_schema=False)
def page(request: Request, s: SiteDep, asked: AskedDep) -> Response:
    context = predictions_page(s.runtime, asked, _now())
    due = context.counts["due"]
    meta = Meta(
        title="Predictions ledger · shiporskip",
        description=(
            f"Every falsifiable prediction the critics made, with its due date and outcome: "
            f"{context.total} in all, {due} due now."
        ),
        path=HTML_PATH,
        noindex=context.filtered or context.continued,
    )
    # Not shared: statuses change as dates pass, without a write to the database.
    return s.render(request, "predictions.html", context, meta)


@router.get(API_PATH, response_model=PredictionsOut, tags=["predictions"], responses=errors(422))
def api_predictions(request: Request, asked: AskedDep) -> PredictionsOut:
    """The predictions ledger, in the order predictions were made.

    Filters: `status` (open, due, right, wrong, unclear, or resolved for the last three),
    `critic` (a critic's id), `tool` (a tool's slug). `limit`: 1-200 (default 50). `count`
    is the number of matching entries; follow `next` (it sets `after`, the id of the last
    entry shown) until it is null.
    """
    return predictions_list(runtime_of(request), asked, _now())

"""Embeds: the SVG badge, the iframe widget, click-through counting and the counts API.

Loads are counted when the server answers, so copies served from a cache (the badge may be
cached for five minutes), requests from crawlers and HEAD requests are not counted, and
neither is the badge preview on shiporskip's own tool page (same-origin Referer). A visitor
counts once per tool, kind and UTC day: the visitor cookie's id when the request carries
one, else the client's address (an IPv6 address by its /64 network) and user agent, stored
only as a keyed hash (`storage/embeds.py`).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import xml.etree.ElementTree as ET
from datetime import date
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from shiporskip.domain.text import visible_text
from shiporskip.errors import NotFoundError
from shiporskip.runtime import Runtime
from shiporskip.security import secret_key
from shiporskip.storage.embeds import (
    DayCount,
    EmbedKind,
    EmbedStore,
    EmbedTotals,
    click_kind,
    utc_today,
    visitor_hash,
    window_start,
)
from shiporskip.storage.reviews import ToolPanel, panels
from shiporskip.web.identity import voter_from_cookie
from shiporskip.web.openapi import errors
from shiporskip.web.proxies import client_address
from shiporskip.web.schemas import PanelOut, panel_out
from shiporskip.web.site import Meta, Page, SiteDep, is_head, not_found, runtime_of

router = APIRouter()
log = logging.getLogger(__name__)

SVG_TYPE = "image/svg+xml"
SVG_NS = "http://www.w3.org/2000/svg"
BADGE_WIDTH, BADGE_HEIGHT, BADGE_SPLIT = 220, 40, 84
WINDOW_DAYS = 30
INK = "#1b1f24"
# White text on each fill has a contrast ratio above 6:1 (WCAG AA needs 4.5:1).
FILLS = {"ship": "#0f6b3b", "skip": "#a3261c", "split": "#6b4f00", None: "#58606b"}
FONT = "Verdana,'DejaVu Sans',Arial,sans-serif"
SHORT_CACHE = "public, max-age=300"
_CRAWLER = re.compile(r"bot|crawl|spider|slurp", re.IGNORECASE)

# The widget is the one page meant to be framed by other sites; it runs no script at all.
EMBED_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)
BADGE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors *"


class EmbedCard(BaseModel):
    """What a badge and a widget show: one tool's panel verdict, in brief."""

    slug: str
    name: str
    sample: bool
    url: str
    panel: PanelOut


class EmbedCountsOut(BaseModel):
    badge_loads: int
    embed_loads: int
    badge_clicks: int
    embed_clicks: int
    clicks: int


class EmbedDayOut(EmbedCountsOut):
    day: date


class EmbedStats(Page):
    slug: str
    total: EmbedCountsOut
    last_30_days: EmbedCountsOut
    window_start: date
    window_end: date
    days: list[EmbedDayOut]
    counted: str


# -- data ----------------------------------------------------------------------------------


def embed_card(runtime: Runtime, slug: str) -> EmbedCard | None:
    """The badge's data for a tool, or None when there is no such tool."""
    tool = runtime.catalog.find(slug)
    if tool is None:
        return None
    critic_ids = [c.id for c in runtime.critics()]
    panel = panels(runtime.engine, [slug]).get(slug, ToolPanel(slug))
    return EmbedCard(
        slug=tool.slug,
        name=tool.name,
        sample=tool.sample or panel.sample,
        url=f"/tools/{tool.slug}",
        panel=panel_out(panel.summary(critic_ids)),
    )


def counts_out(totals: EmbedTotals) -> EmbedCountsOut:
    """Counts by kind as the API shows them."""
    return EmbedCountsOut(
        badge_loads=totals[EmbedKind.badge_load],
        embed_loads=totals[EmbedKind.embed_load],
        badge_clicks=totals[EmbedKind.badge_click],
        embed_clicks=totals[EmbedKind.embed_click],
        clicks=totals.clicks,
    )


def _days_out(rows: list[DayCount]) -> list[EmbedDayOut]:
    by_day: dict[date, dict[EmbedKind, int]] = {}
    for row in rows:
        by_day.setdefault(row.day, {})[row.kind] = row.count
    return [
        EmbedDayOut(day=day, **counts_out(EmbedTotals(kinds)).model_dump())
        for day, kinds in sorted(by_day.items())
    ]


def embed_stats(runtime: Runtime, slug: str, today: date | None = None) -> EmbedStats:
    """All-time and last-30-days counts for a tool; raises NotFoundError for unknown slugs."""
    tool = runtime.catalog.get(slug)
    store = EmbedStore(runtime.engine)
    end = today or utc_today()
    start = window_start(WINDOW_DAYS, end)
    return EmbedStats(
        slug=tool.slug,
        total=counts_out(store.totals(tool.slug)),
        last_30_days=counts_out(store.totals(tool.slug, since=start)),
        window_start=start,
        window_end=end,
        days=_days_out(store.daily(tool.slug, since=start)),
        counted=(
            "Visitors are counted once per UTC day for each tool and kind (a load or a click), "
            "when the server answers: cached copies, crawlers and the preview on "
            "shiporskip's own tool page are not counted. Clicks are counted at "
            "/go/{slug}?ref=badge or ?ref=embed."
        ),
    )


# -- counting ------------------------------------------------------------------------------


def _is_crawler(request: Request) -> bool:
    return bool(_CRAWLER.search(request.headers.get("user-agent", "")))


def _is_own_page(request: Request) -> bool:
    referer = request.headers.get("referer")
    return bool(referer) and urlsplit(referer).netloc == request.url.netloc


def _network(address: str) -> str:
    """An IPv6 address as its /64 (one subscriber's whole range); any other as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def visitor_identity(request: Request, runtime: Runtime) -> str:
    """Who this request is, for counting: its visitor id, else its address and user agent."""
    voter = voter_from_cookie(runtime, request)
    if voter is not None:
        return f"voter {voter}"
    agent = request.headers.get("user-agent", "")[:300]
    return f"address {_network(client_address(request))} {agent}"


def _record(request: Request, runtime: Runtime, slug: str, kind: EmbedKind) -> bool:
    day = utc_today()
    visitor = visitor_hash(secret_key(runtime.settings), day, visitor_identity(request, runtime))
    # A counter that cannot be written must not take the badge down with it.
    try:
        return EmbedStore(runtime.engine).visit(slug, kind, visitor, day=day)
    except SQLAlchemyError:
        log.warning("could not count %s for %s", kind.value, slug, exc_info=True)
        return False


def _counts(request: Request) -> bool:
    """A crawler's request counts nothing, and neither does a HEAD (a link checker's)."""
    return not _is_crawler(request) and not is_head(request)


def count_load(request: Request, runtime: Runtime, slug: str, kind: EmbedKind) -> bool:
    """Count a badge or widget load unless a crawler, a HEAD or our own page asked for it."""
    if not _counts(request) or _is_own_page(request):
        return False
    return _record(request, runtime, slug, kind)


def count_click(request: Request, runtime: Runtime, slug: str, ref: str | None) -> bool:
    """Count a click-through from a badge or widget; unknown `ref` values count nothing."""
    kind = click_kind(ref)
    return kind is not None and _counts(request) and _record(request, runtime, slug, kind)


# -- the badge -----------------------------------------------------------------------------


def _text(parent: ET.Element, x: int, y: int, size: int, text: str, bold: bool = False) -> None:
    attrs = {"x": str(x), "y": str(y), "font-size": str(size), "text-anchor": "middle"}
    if bold:
        attrs["font-weight"] = "bold"
    ET.SubElement(parent, "text", attrs).text = visible_text(text, multiline=False)


def badge_lines(card: EmbedCard | None) -> tuple[str, str, str | None]:
    """The badge's accessible title, its main line and its second line (if any)."""
    if card is None:
        return "Unknown tool on shiporskip", "Unknown tool", None
    panel = card.panel
    if not panel.reported:
        return f"{card.name}: not reviewed yet on shiporskip", "Not reviewed yet", None
    score = "—" if panel.score10 is None else f"{panel.score10:.1f}/10"
    second = f"score {score}" + (" · sample" if card.sample else "")
    title = f"{card.name}: {panel.verdict_label} {panel.tally}, score {score} on shiporskip"
    if card.sample:
        title += " (sample review)"
    return title, f"{panel.verdict_label} {panel.tally}", second


def badge_svg(card: EmbedCard | None) -> str:
    """The badge as SVG text; every string goes through ElementTree, so it is escaped."""
    title, main, second = badge_lines(card)
    title = visible_text(title, multiline=False)  # XML cannot hold control characters
    fill = FILLS.get(card.panel.verdict if card else None, FILLS[None])
    w, h, cut = BADGE_WIDTH, BADGE_HEIGHT, BADGE_SPLIT
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(w),
            "height": str(h),
            "viewBox": f"0 0 {w} {h}",
            "role": "img",
            "aria-label": title,
        },
    )
    ET.SubElement(svg, "title").text = title
    ET.SubElement(svg, "rect", {"width": str(w), "height": str(h), "rx": "4", "fill": INK})
    right = {"x": str(cut), "width": str(w - cut), "height": str(h), "rx": "4", "fill": fill}
    ET.SubElement(svg, "rect", right)
    ET.SubElement(svg, "rect", {"x": str(cut), "width": "6", "height": str(h), "fill": fill})
    group = ET.SubElement(svg, "g", {"fill": "#ffffff", "font-family": FONT})
    _text(group, cut // 2, 25, 11, "shiporskip", bold=True)
    middle = cut + (w - cut) // 2
    if second is None:
        _text(group, middle, 25, 12, main, bold=True)
    else:
        _text(group, middle, 18, 13, main, bold=True)
        _text(group, middle, 33, 10, second)
    return ET.tostring(svg, encoding="unicode")


def _svg_response(card: EmbedCard | None, status: int = 200) -> Response:
    headers = {
        "Cache-Control": SHORT_CACHE,
        "Content-Security-Policy": BADGE_CSP,
        "X-Content-Type-Options": "nosniff",
    }
    return Response(badge_svg(card), status_code=status, media_type=SVG_TYPE, headers=headers)


# -- routes --------------------------------------------------------------------------------


@router.get("/badge/{slug}.svg", include_in_schema=False)
def badge(request: Request, slug: str) -> Response:
    """The verdict badge; an 'Unknown tool' badge with status 404 for unknown slugs."""
    runtime = runtime_of(request)
    card = embed_card(runtime, slug)
    if card is None:
        return _svg_response(None, status=404)
    count_load(request, runtime, card.slug, EmbedKind.badge_load)
    return _svg_response(card)


@router.get("/embed/{slug}", response_class=HTMLResponse, include_in_schema=False)
def embed(request: Request, slug: str, s: SiteDep) -> Response:
    """The iframe widget: a standalone page that other sites may frame."""
    card = embed_card(s.runtime, slug)
    if card is not None:
        count_load(request, s.runtime, card.slug, EmbedKind.embed_load)
    title = f"{card.name}: shiporskip verdict" if card else "Unknown tool · shiporskip"
    meta = Meta(
        title=title, description=title, path=f"/embed/{slug}", og_type="website", noindex=True
    )
    headers = {
        "Cache-Control": SHORT_CACHE,
        "Content-Security-Policy": EMBED_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    status = 200 if card else 404
    return s.render(request, "embed.html", card, meta, status=status, headers=headers)


@router.get("/go/{slug}", include_in_schema=False)
def go(request: Request, slug: str, ref: str | None = None) -> Response:
    """Count a click from a badge or widget, then send the reader to the tool page."""
    runtime = runtime_of(request)
    try:
        tool = runtime.catalog.get(slug)
    except NotFoundError as exc:
        raise not_found(exc) from None
    count_click(request, runtime, tool.slug, ref)
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return RedirectResponse(f"/tools/{tool.slug}", status_code=303, headers=headers)


@router.get(
    "/api/v1/tools/{slug}/embeds",
    response_model=EmbedStats,
    tags=["embeds"],
    responses=errors(404),
)
def api_embeds(request: Request, slug: str) -> EmbedStats:
    """Badge and widget loads and clicks for one tool: all time and the last 30 UTC days."""
    try:
        return embed_stats(runtime_of(request), slug)
    except NotFoundError as exc:
        raise not_found(exc) from None

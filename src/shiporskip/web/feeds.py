"""Machine-readable site files: the Atom feed of verdicts, the sitemap and robots.txt.

XML is built with ElementTree, never by pasting strings, so maker text (names, taglines)
and critics' one-liners are always escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from shiporskip import __version__
from shiporskip.domain.panel import HistoryPoint
from shiporskip.domain.reviews import VERDICT_LABELS, PanelSummary
from shiporskip.domain.text import visible_text
from shiporskip.domain.tools import Tool
from shiporskip.panel.critics import Critic
from shiporskip.runtime import Runtime
from shiporskip.storage.history import Flip, verdict_flips
from shiporskip.storage.queries import newest_reviewed, tools_by_slug
from shiporskip.storage.reviews import ToolPanel
from shiporskip.storage.types import as_utc
from shiporskip.web.common import compare_path, panel_summaries
from shiporskip.web.site import SITE_NAME, runtime_of

router = APIRouter()

ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_SIZE = 50
COMPARES_PER_TOOL = 10
CACHE = "public, max-age=600"
SAMPLE_NOTE = (
    "Sample review: bundled example content written by the shiporskip team, "
    "not a live model's verdict."
)


@dataclass(frozen=True, slots=True)
class Reported:
    """A tool whose panel has reported: one feed entry, one set of sitemap dates."""

    tool: Tool
    panel: ToolPanel
    summary: PanelSummary

    @property
    def reviewed_at(self) -> datetime:
        return as_utc(self.panel.reviewed_at or datetime.now(UTC))

    @property
    def label(self) -> str:
        assert self.summary.verdict is not None
        return f"{VERDICT_LABELS[self.summary.verdict]} {self.summary.tally}"

    @property
    def sample(self) -> bool:
        return self.tool.sample or self.panel.sample


def _stamp(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdicts(runtime: Runtime, critics: list[Critic], limit: int | None = None) -> list[Reported]:
    """Tools whose current panel has reported, newest verdict first: every one, or the
    newest `limit` (read from the newest rows of the reviewed-time index, not the catalog).
    """
    if limit is None:
        tools = runtime.catalog.list()
        found, summaries = panel_summaries(runtime, critics)
    else:
        # Some of the newest panels may not count against the configured critics (only
        # retired ones reported): read a margin beyond the limit.
        slugs = newest_reviewed(runtime.engine, 2 * limit + 10)
        tools = list(tools_by_slug(runtime.engine, slugs).values())
        found, summaries = panel_summaries(runtime, critics, slugs)
    out = [
        Reported(tool, found[tool.slug], summaries[tool.slug])
        for tool in tools
        if tool.slug in summaries and summaries[tool.slug].reported
    ]
    out.sort(key=lambda v: (v.reviewed_at, v.tool.slug), reverse=True)
    return out if limit is None else out[:limit]


# -- the Atom feed -------------------------------------------------------------------------


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element; XML cannot hold control characters, so they never reach it."""
    shown = {k: visible_text(v, multiline=False) for k, v in attrs.items()}
    element = ET.SubElement(parent, tag, shown)
    element.text = None if text is None else visible_text(text)
    return element


def _summary(verdict: Reported) -> str:
    s = verdict.summary
    score = "" if s.score10 is None else f", score {s.score10:.1f}/10"
    text = f"{verdict.tool.tagline} Panel verdict: {verdict.label} ({s.status}{score})."
    return f"{SAMPLE_NOTE} {text}" if verdict.sample else text


def _content(entry: ET.Element, runtime: Runtime, critics: list[Critic], verdict: Reported) -> None:
    content = _add(entry, "content", type="xhtml")
    div = _add(content, "div", xmlns=XHTML_NS)
    if verdict.sample:
        _add(div, "p", SAMPLE_NOTE)
    _add(div, "p", verdict.tool.tagline)
    panel = runtime.reviews.panel(verdict.tool.slug, [c.id for c in critics])
    items = _add(div, "ul")
    for critic in critics:
        record = panel.review(critic.id)
        if record is None or record.draft is None:
            continue
        item = _add(items, "li")
        label = f"{critic.name} ({critic.label}): {record.draft.verdict.value.capitalize()}"
        _add(item, "strong", f"{label}, {record.draft.score}/100.")
        _add(item, "span", " " + record.draft.one_liner)
    url = runtime.settings.base_url.rstrip("/") + f"/tools/{verdict.tool.slug}"
    _add(_add(div, "p"), "a", "Read the full reviews", href=url)


def feed_entry(
    feed: ET.Element, runtime: Runtime, critics: list[Critic], verdict: Reported
) -> None:
    """One verdict as an Atom entry; a re-review gets a new id, so readers see it as new."""
    base = runtime.settings.base_url.rstrip("/")
    url = f"{base}/tools/{verdict.tool.slug}"
    latest = max(v.review_id for v in verdict.panel.votes.values())
    entry = _add(feed, "entry")
    _add(entry, "id", f"{url}#verdict-{latest}")
    _add(entry, "title", f"{verdict.tool.name}: {verdict.label}")
    _add(entry, "updated", _stamp(verdict.reviewed_at))
    _add(entry, "link", rel="alternate", type="text/html", href=url)
    author = _add(entry, "author")
    _add(author, "name", f"The {SITE_NAME} panel")
    _add(author, "uri", f"{base}/critics")
    category = verdict.tool.category_info
    _add(entry, "category", term=category.slug, label=category.name)
    if verdict.sample:
        _add(entry, "category", term="sample", label="Sample review")
    _add(entry, "summary", _summary(verdict), type="text")
    _content(entry, runtime, critics, verdict)


def _point_label(point: HistoryPoint) -> str:
    verdict = point.summary.verdict
    assert verdict is not None
    return f"{VERDICT_LABELS[verdict]} {point.summary.tally}"


def flip_entry(feed: ET.Element, runtime: Runtime, tool: Tool, flip: Flip) -> None:
    """A verdict that flipped (from the verdict history) as an Atom entry of its own."""
    base = runtime.settings.base_url.rstrip("/")
    url = f"{base}/tools/{tool.slug}"
    day = as_utc(flip.after.at).date().isoformat()
    change = f"{_point_label(flip.before)} → {_point_label(flip.after)}"
    entry = _add(feed, "entry")
    _add(entry, "id", f"{url}#history-{flip.id}")
    _add(entry, "title", f"{tool.name}: verdict changed, {change}")
    _add(entry, "updated", _stamp(flip.after.at))
    _add(entry, "link", rel="alternate", type="text/html", href=f"{url}#history-heading")
    author = _add(entry, "author")
    _add(author, "name", f"The {SITE_NAME} panel")
    _add(author, "uri", f"{base}/critics")
    category = tool.category_info
    _add(entry, "category", term=category.slug, label=category.name)
    _add(entry, "category", term="verdict-change", label="Verdict change")
    text = f"{tool.name}'s panel verdict changed: {change} on {day}, {flip.after.reason}."
    if flip.after.sample or tool.sample:
        text = f"{SAMPLE_NOTE} {text}"
    _add(entry, "summary", text, type="text")


def atom_feed(runtime: Runtime, limit: int = FEED_SIZE) -> bytes:
    """The newest `limit` verdicts as an Atom (RFC 4287) document."""
    base = runtime.settings.base_url.rstrip("/")
    critics = runtime.critics()
    latest = verdicts(runtime, critics, limit)
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _add(feed, "id", f"{base}/feed.xml")
    _add(feed, "title", f"{SITE_NAME}: new verdicts")
    _add(feed, "subtitle", "AI tools reviewed by a panel of AI critics: Ship or Skip.")
    flips = verdict_flips(runtime.engine, limit)
    flipped = tools_by_slug(runtime.engine, [f.slug for f in flips])
    entries: list[tuple[datetime, int, Reported | Flip]] = [
        (v.reviewed_at, 1, v) for v in latest
    ] + [(as_utc(f.after.at), 0, f) for f in flips if f.slug in flipped]
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    newest = entries[0][0] if entries else datetime.now(UTC)
    _add(feed, "updated", _stamp(newest))
    _add(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/feed.xml")
    _add(feed, "link", rel="alternate", type="text/html", href=f"{base}/")
    author = _add(feed, "author")
    _add(author, "name", f"The {SITE_NAME} panel")
    _add(feed, "generator", SITE_NAME, version=__version__)
    for _, _, item in entries[:limit]:
        if isinstance(item, Flip):
            flip_entry(feed, runtime, flipped[item.slug], item)
        else:
            feed_entry(feed, runtime, critics, item)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


# -- the sitemap ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    path: str
    lastmod: date | None = None


def _newest(moments: Iterable[datetime | None]) -> date | None:
    known = [as_utc(m) for m in moments if m is not None]
    return max(known).date() if known else None


def compare_pairs(found: list[Reported], per_tool: int = COMPARES_PER_TOOL) -> list[SitemapUrl]:
    """Canonical compare pages: each reviewed tool with its best-rated reviewed peers."""
    by_category: dict[str, list[Reported]] = {}
    for verdict in found:
        by_category.setdefault(verdict.tool.category, []).append(verdict)
    pairs: dict[str, SitemapUrl] = {}
    for peers in by_category.values():
        # One ranking per category: a tool's best peers are the top of it, minus itself.
        peers.sort(key=lambda v: (-(v.summary.ship_pct or 0), v.tool.name.lower()))
        top = peers[: per_tool + 1]
        for verdict in peers:
            for peer in [v for v in top if v is not verdict][:per_tool]:
                path = compare_path(verdict.tool.slug, peer.tool.slug)
                pairs[path] = SitemapUrl(path, _newest([verdict.reviewed_at, peer.reviewed_at]))
    return [pairs[p] for p in sorted(pairs)]


def sitemap_urls(runtime: Runtime) -> list[SitemapUrl]:
    """Every canonical page worth indexing, with the date it last changed where known."""
    critics = runtime.critics()
    found = verdicts(runtime, critics)
    by_slug = {v.tool.slug: v for v in found}
    tools = runtime.catalog.list()
    urls = [SitemapUrl("/", _newest(v.reviewed_at for v in found))]
    urls.append(SitemapUrl("/tools", urls[0].lastmod))
    urls += [
        SitemapUrl(f"/tools/{t.slug}", by_slug[t.slug].reviewed_at.date())
        if t.slug in by_slug
        else SitemapUrl(f"/tools/{t.slug}")
        for t in tools
    ]
    urls += compare_pairs(found)
    urls.append(SitemapUrl("/critics", urls[0].lastmod))
    for critic in critics:
        moments = (v.panel.votes[critic.id].created_at for v in found if critic.id in v.panel.votes)
        urls.append(SitemapUrl(f"/critics/{critic.id}", _newest(moments)))
    urls.append(SitemapUrl("/categories", urls[0].lastmod))
    for slug in sorted({t.category for t in tools}):
        moments = (v.reviewed_at for v in found if v.tool.category == slug)
        urls.append(SitemapUrl(f"/categories/{slug}", _newest(moments)))
    urls.append(SitemapUrl("/methodology"))
    urls.append(SitemapUrl("/predictions"))
    return urls


def sitemap_xml(runtime: Runtime) -> bytes:
    """The sitemap (sitemaps.org 0.9) with absolute URLs from the base_url setting."""
    base = runtime.settings.base_url.rstrip("/")
    root = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    for item in sitemap_urls(runtime):
        url = _add(root, "url")
        _add(url, "loc", base + item.path)
        if item.lastmod is not None:
            _add(url, "lastmod", item.lastmod.isoformat())
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def robots_txt(runtime: Runtime) -> str:
    """Crawl everything but the counters, the widget, search results and the raw API."""
    base = runtime.settings.base_url.rstrip("/")
    lines = [
        "User-agent: *",
        "Disallow: /go/",
        "Disallow: /embed/",
        "Disallow: /search",
        "Disallow: /api/",
        "",
        f"Sitemap: {base}/sitemap.xml",
    ]
    return "\n".join(lines) + "\n"


# -- routes --------------------------------------------------------------------------------


@router.get("/feed.xml", include_in_schema=False)
def feed(request: Request) -> Response:
    """The Atom feed of the newest verdicts."""
    body = atom_feed(runtime_of(request))
    return Response(
        body, media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": CACHE}
    )


@router.get("/sitemap.xml", include_in_schema=False)
def sitemap(request: Request) -> Response:
    """The sitemap for search engines."""
    body = sitemap_xml(runtime_of(request))
    return Response(
        body, media_type="application/xml; charset=utf-8", headers={"Cache-Control": CACHE}
    )


@router.get("/robots.txt", response_class=PlainTextResponse, include_in_schema=False)
def robots(request: Request) -> PlainTextResponse:
    """robots.txt, pointing crawlers at the sitemap."""
    return PlainTextResponse(robots_txt(runtime_of(request)), headers={"Cache-Control": CACHE})

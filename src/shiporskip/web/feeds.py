"""Machine-readable site files: the Atom feed of verdicts, the sitemap and robots.txt.

XML is built with ElementTree, never by pasting strings, so maker text (names, taglines)
and critics' one-liners are always escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape

from fastapi import APIRouter, HTTPException, Request
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
from shiporskip.storage.sitemap import (
    Ranked,
    any_tool,
    category_top,
    max_tool_id,
    newest_review,
    reviewed_in_range,
    tools_in_range,
)
from shiporskip.storage.summaries import newest_seat, read_catalog_counts
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
#
# `/sitemap.xml` is a sitemap index (sitemaps.org 0.9) of files of at most
# `sitemap_urls_per_file` URLs (50,000 by the protocol): first the site's own pages (home,
# lists, critics, categories), then the tool pages by ranges of tool ids, then the compare
# pages of the tools in ranges of ids a tenth as wide (each tool adds at most
# COMPARES_PER_TOOL). A file reads only its own range, so any file, and the index, costs
# the same in a catalog of any size; a range with no tool left is not listed.


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    path: str
    lastmod: date | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One sitemap file: its number and what it lists."""

    number: int
    kind: str  # "pages", "tools" or "compare"
    first: int  # the first page, or the first tool id of the range
    last: int


def _day(moment: datetime | None) -> date | None:
    return as_utc(moment).date() if moment is not None else None


def site_pages(runtime: Runtime) -> list[SitemapUrl]:
    """The site's own pages: a few per critic and category, never per tool."""
    engine = runtime.engine
    newest = _day(newest_review(engine))
    urls = [SitemapUrl(path, newest) for path in ("/", "/tools", "/critics")]
    urls += [
        SitemapUrl(f"/critics/{c.id}", _day(newest_seat(engine, c.id))) for c in runtime.critics()
    ]
    urls.append(SitemapUrl("/categories", newest))
    counts = read_catalog_counts(engine)
    urls += [
        SitemapUrl(f"/categories/{slug}", _day(newest_review(engine, slug)))
        for slug in sorted(slug for slug, n in counts.tools.items() if n > 0)
    ]
    urls += [SitemapUrl("/methodology"), SitemapUrl("/predictions")]
    return urls


def _per_file(runtime: Runtime) -> int:
    return int(runtime.settings.sitemap_urls_per_file)


def sitemap_parts(runtime: Runtime) -> list[Part]:
    """Every sitemap file, numbered from 1."""
    size = _per_file(runtime)
    width = max(1, size // COMPARES_PER_TOOL)
    pages = len(site_pages(runtime))
    top_id = max_tool_id(runtime.engine)
    parts: list[Part] = []

    def add(kind: str, first: int, last: int) -> None:
        parts.append(Part(len(parts) + 1, kind, first, last))

    for start in range(0, pages, size):
        add("pages", start, min(pages, start + size) - 1)
    for start in range(1, top_id + 1, size):
        if any_tool(runtime.engine, start, start + size - 1):
            add("tools", start, start + size - 1)
    # The one tool of each category that lists no pair of its own (`peers_of`): a range
    # holding nothing else would be an empty file.
    categories = {c for (c, v) in read_catalog_counts(runtime.engine).verdicts if v != "none"}
    silent = {
        max(t.tool_id for t in top)
        for c in categories
        if (top := category_top(runtime.engine, c, COMPARES_PER_TOOL + 1))
    }
    for start in range(1, top_id + 1, width):
        if any_tool(runtime.engine, start, start + width - 1, reviewed=True, besides=silent):
            add("compare", start, start + width - 1)
    return parts


def peers_of(tool: Ranked, top: Sequence[Ranked], per_tool: int) -> list[Ranked]:
    """The peers a tool's compare pages pair it with: the best-rated reviewed tools of its
    category (`top`, the first per_tool + 1), itself left out. A pair of two tools that are
    both in `top` is listed once, by the tool with the lower id, so every tool lists at
    least one pair but the one with the highest id in `top`."""
    inside = any(t.tool_id == tool.tool_id for t in top)
    peers = [t for t in top if t.tool_id != tool.tool_id][:per_tool]
    return [t for t in peers if not inside or t.tool_id > tool.tool_id]


def _compare_urls(runtime: Runtime, first: int, last: int) -> Iterator[SitemapUrl]:
    owners = reviewed_in_range(runtime.engine, first, last)
    tops = {
        c: category_top(runtime.engine, c, COMPARES_PER_TOOL + 1)
        for c in sorted({t.category for t in owners})
    }
    for tool in owners:
        for peer in peers_of(tool, tops[tool.category], COMPARES_PER_TOOL):
            moments = [m for m in (tool.reviewed_at, peer.reviewed_at) if m is not None]
            yield SitemapUrl(
                compare_path(tool.slug, peer.slug), _day(max(moments)) if moments else None
            )


def part_urls(runtime: Runtime, part: Part) -> Iterator[SitemapUrl]:
    """The URLs of one sitemap file, read a batch at a time."""
    if part.kind == "pages":
        yield from site_pages(runtime)[part.first : part.last + 1]
    elif part.kind == "tools":
        for slug, reviewed_at in tools_in_range(runtime.engine, part.first, part.last):
            yield SitemapUrl(f"/tools/{slug}", _day(reviewed_at))
    else:
        yield from _compare_urls(runtime, part.first, part.last)


XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _base(runtime: Runtime) -> str:
    return escape(visible_text(runtime.settings.base_url.rstrip("/"), multiline=False))


def sitemap_index(runtime: Runtime) -> bytes:
    """The sitemap index: one entry per sitemap file."""
    base = _base(runtime)
    chunks = [XML_HEAD, f'<sitemapindex xmlns="{SITEMAP_NS}">']
    for part in sitemap_parts(runtime):
        chunks.append(f"<sitemap><loc>{base}/sitemaps/{part.number}.xml</loc></sitemap>")
    chunks.append("</sitemapindex>\n")
    return "".join(chunks).encode()


def sitemap_part(runtime: Runtime, number: int) -> bytes | None:
    """One sitemap file with absolute URLs from the base_url setting; None if no such file.

    Paths are slugs (checked on every write) and fixed words; they are escaped anyway.
    """
    part = next((p for p in sitemap_parts(runtime) if p.number == number), None)
    if part is None:
        return None
    base = _base(runtime)
    chunks = [XML_HEAD, f'<urlset xmlns="{SITEMAP_NS}">']
    for item in part_urls(runtime, part):
        lastmod = f"<lastmod>{item.lastmod.isoformat()}</lastmod>" if item.lastmod else ""
        chunks.append(f"<url><loc>{base}{escape(item.path)}</loc>{lastmod}</url>")
    chunks.append("</urlset>\n")
    return "".join(chunks).encode()


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
    """The sitemap index for search engines."""
    body = sitemap_index(runtime_of(request))
    return Response(
        body, media_type="application/xml; charset=utf-8", headers={"Cache-Control": CACHE}
    )


@router.get("/sitemaps/{name}", include_in_schema=False)
def sitemap_file(request: Request, name: str) -> Response:
    """One file of the sitemap: `/sitemaps/N.xml`."""
    number = name.removesuffix(".xml")
    body = None
    if name.endswith(".xml") and number.isdigit() and len(number) < 7:
        body = sitemap_part(runtime_of(request), int(number))
    if body is None:
        raise HTTPException(404, "No such sitemap file; /sitemap.xml lists them.")
    return Response(
        body, media_type="application/xml; charset=utf-8", headers={"Cache-Control": CACHE}
    )


@router.get("/robots.txt", response_class=PlainTextResponse, include_in_schema=False)
def robots(request: Request) -> PlainTextResponse:
    """robots.txt, pointing crawlers at the sitemap."""
    return PlainTextResponse(robots_txt(runtime_of(request)), headers={"Cache-Control": CACHE})

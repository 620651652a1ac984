"""Maker text with control, bidi-override and zero-width characters, through the real server.

XML cannot hold control characters, so one submission holding them broke the Atom feed and
the badge for everyone, and bidi overrides reordered what readers saw. Maker text is now
cleaned where it comes in, and every page, the feed and the badge clean what they show, for
rows stored before (here: written into the database directly, past the validation).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shiporskip.newsletter.digest import build_digest
from shiporskip.newsletter.render import render_issue
from shiporskip.newsletter.weeks import week_of
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.schema import submissions, tools
from shiporskip.storage.submissions import SubmissionStore
from tests.conftest import postgres_schema_url
from tests.factories import make_tool, review_record, tool_data
from tests.live import LiveServer, assert_whole

# ESC, DEL, NEL (C1), RLO, ZWSP, BOM, LRI, word joiner: none may reach a reader.
DIRTY = "\x01\x1b\x7f\x85\u202e\u200b\ufeff\u2066\u2060"
UNSHOWABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]"
)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def dirty(text: str) -> str:
    return text[:3] + DIRTY + text[3:]


def dirty_entry(name: str) -> dict[str, Any]:
    """A catalog entry with the characters in every text field a maker writes."""
    return tool_data(
        dirty(name),
        vendor=dirty("Example Co"),
        homepage=f"https://example.com/{name.lower().replace(' ', '-')}",
        aliases=[dirty(f"{name} Alias")],
        tagline=dirty("Writes code") + "\nfor you",
        description=dirty("Line one.") + "\n\tLine two.",
        licence=dirty("Apache-2.0"),
        pricing={
            "entry": "paid",
            "note": dirty("Billed monthly."),
            "plans": [
                {
                    "name": dirty("Pro plan"),
                    "amount": 20,
                    "unit": "seat",
                    "note": dirty("Per seat."),
                }
            ],
        },
    )


def assert_clean(what: str, text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in UNSHOWABLE.findall(text)})
    assert not found, f"{what} shows {found}"


def add_reviews(runtime: Runtime, slug: str, one_liner: str) -> None:
    tool_id = runtime.catalog.tool_id(slug)
    records = [
        (review_record(slug, c.id, "ship", 80, one_liner=one_liner, created_at=NOW), tool_id)
        for c in runtime.critics()
    ]
    runtime.reviews.add_many(records)


@dataclass
class Served:
    server: LiveServer
    client: httpx.Client
    settings: dict[str, str]


def seed_raw_row(runtime: Runtime) -> None:
    """A tool whose text was stored before input was cleaned: written past the model."""
    runtime.catalog.import_tools([make_tool("Raw Row"), make_tool("Peer Tool")])
    with runtime.engine.begin() as conn:
        conn.execute(
            sa.update(tools)
            .where(tools.c.slug == "raw-row")
            .values(
                name=dirty("Raw Row"),
                vendor=dirty("Old Co"),
                tagline=dirty("Stored long ago"),
                description=dirty("Old text."),
                homepage="https://exa\u202emple.com/raw-row",
            )
        )
    add_reviews(runtime, "raw-row", dirty("A critic's line."))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp(f"maker-text-{request.param}")
    schemas = postgres_schema_url() if request.param == "postgresql" else None
    settings = {"data_dir": str(data_dir)}
    if schemas is not None:
        settings["database_url"] = next(schemas)
    try:
        runtime = open_runtime(load_settings(overrides=settings))
        try:
            seed_raw_row(runtime)
        finally:
            runtime.close()
        env = {k: v for k, v in settings.items() if k != "data_dir"}
        with LiveServer(data_dir, env) as server, httpx.Client(base_url=server.base_url) as client:
            csrf = client.get("/api/v1/session").json()["csrf_token"]
            client.headers["x-csrf-token"] = csrf
            yield Served(server, client, settings)
    finally:
        if schemas is not None:
            schemas.close()


def check_surfaces(served: Served, slug: str, name: str) -> None:
    """The feed and the badge parse as XML; no page shows an unshowable character."""
    client = served.client
    feed = client.get("/feed.xml")
    assert feed.status_code == 200
    assert_whole(feed)
    root = ET.fromstring(feed.content)
    titles = [e.text or "" for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert any(t.startswith(name) for t in titles), titles
    assert_clean("/feed.xml", feed.text)
    badge = client.get(f"/badge/{slug}.svg")
    assert badge.status_code == 200
    ET.fromstring(badge.content)
    assert_clean("the badge", badge.text)
    for path in (
        f"/tools/{slug}",
        f"/embed/{slug}",
        "/tools",
        "/",
        f"/compare/peer-tool-vs-{slug}",
    ):
        page = client.get(path, follow_redirects=True)
        assert page.status_code == 200, path
        assert name in page.text, path
        assert_clean(path, page.text)


def test_a_row_stored_with_hidden_characters_is_shown_without_them(served: Served) -> None:
    check_surfaces(served, "raw-row", "Raw Row")


def test_a_submission_is_stored_clean_and_breaks_no_feed_or_badge(served: Served) -> None:
    response = served.client.post(
        "/api/v1/submissions", content=json.dumps(dirty_entry("Dirty Tool"))
    )
    assert response.status_code == 201, response.text
    runtime = open_runtime(load_settings(overrides=served.settings))
    try:
        with runtime.engine.connect() as conn:
            stored = conn.execute(sa.select(submissions.c.data, submissions.c.name)).all()
        text = json.dumps([(row.data, row.name) for row in stored], ensure_ascii=False)
        assert_clean("the stored submission", text)
        data = next(row.data for row in stored if row.name == "Dirty Tool")
        assert data["tagline"] == "Writes code for you"
        assert data["description"] == "Line one.\n\tLine two."
        assert data["pricing"]["plans"][0]["name"] == "Pro plan"
        store = SubmissionStore(runtime.engine, runtime.catalog)
        approved = store.approve(next(s.id for s in store.list() if s.tool.name == "Dirty Tool"))
        assert approved.tool_slug == "dirty-tool"
        add_reviews(runtime, "dirty-tool", "Clean line.")
    finally:
        runtime.close()
    check_surfaces(served, "dirty-tool", "Dirty Tool")


@pytest.mark.parametrize(
    "homepage",
    ["https://exa\u202emple.com/", "https://example\u200b.com/", "https://exam\x01ple.com/"],
)
def test_a_homepage_with_hidden_characters_is_refused(served: Served, homepage: str) -> None:
    entry = tool_data("Hidden Host", homepage=homepage)
    response = served.client.post("/api/v1/submissions", content=json.dumps(entry))
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert problems == [
        "homepage: 'https://example.com/' holds a control, invisible or direction-changing "
        "character; type the address again by hand"
    ]


def test_a_huge_field_gives_a_short_error(served: Served) -> None:
    """The body limit is 32 KB; the message about an over-long field quotes an excerpt."""
    entry = tool_data("Long Tagline", tagline="x" * 30_000)
    response = served.client.post("/api/v1/submissions", content=json.dumps(entry))
    assert response.status_code == 422
    assert len(response.content) < 1000, response.text[:300]
    assert "tagline" in response.json()["problems"][0]


def test_a_huge_json_field_on_the_api_gives_a_short_error(served: Served) -> None:
    """/api/v1/newsletter reads its body with FastAPI: the 422 quotes an excerpt."""
    response = served.client.post("/api/v1/newsletter", json={"email": "x" * 2_100})
    assert response.status_code == 422
    assert len(response.content) < 1000, response.text[:300]


def test_nothing_logged(served: Served) -> None:
    served.server.assert_clean_log()


def test_the_newsletter_issue_shows_no_hidden_characters(served: Served) -> None:
    """The digest mails the stored row's name and its critics' lines to every subscriber."""
    runtime = open_runtime(load_settings(overrides=served.settings))
    try:
        digest = build_digest(runtime, week_of(NOW), NOW)
        issue = render_issue(digest, "http://x")
    finally:
        runtime.close()
    assert "Raw Row" in issue.subject and "Raw Row" in issue.body_html
    for part in (issue.subject, issue.preheader, issue.body_html, issue.text):
        assert_clean("the newsletter issue", part)

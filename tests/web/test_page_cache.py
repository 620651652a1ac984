"""The page cache: shared pages served from memory until the data version moves, the same
bytes for every visitor, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from shiporskip.domain.votes import VoteValue
from shiporskip.jobs.tasks import publish_comparisons
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import replace
from shiporskip.storage.queries import current_version
from shiporskip.storage.schema import UNVERSIONED_TABLES, VERSIONED_TABLES, metadata
from shiporskip.storage.votes import Limits, VoteStore
from shiporskip.web import compare as compare_module
from shiporskip.web import tools as tools_module
from shiporskip.web.app import create_app
from shiporskip.web.identity import signer
from tests.factories import make_tool, review_record
from tests.storage.test_pairwise_store import add_picks, pick_record

TOOL = "/tools/claude-sonnet-4"
COMPARE = "/compare/claude-sonnet-4-vs-smolvlm2-2b"
SHARED_PAGES = [
    "/",
    TOOL,
    COMPARE,
    "/critics",
    "/critics/skeptic",
    "/categories",
    "/categories/models",
    "/search?q=claude",
    "/methodology",
    "/tools",
    "/tools?verdict=ship&sort=ship-pct&limit=3",
]


class Renders:
    """Counts how often the tool and compare pages are built (not served from memory)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for module, name in ((tools_module, "tool_page"), (compare_module, "compare_page")):
            real = getattr(module, name)

            def counted(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
                self.count += 1
                return _real(*args, **kwargs)

            monkeypatch.setattr(module, name, counted)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Renders:
    return Renders(monkeypatch)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(runtime)
    with TestClient(create_app(runtime)) as c:
        yield c


def pressed(html: str) -> list[str]:
    return re.findall(r'value="(ship|skip)" class="vote-\w+" aria-pressed="true"', html)


def vote(client: TestClient, slug: str, value: str | None) -> None:
    token = client.get("/api/v1/session").json()["csrf_token"]
    response = client.post(
        f"/api/v1/tools/{slug}/vote", json={"vote": value}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200, response.text


def test_a_shared_page_is_built_once_while_the_data_is_unchanged(
    client: TestClient, renders: Renders
) -> None:
    first = client.get(TOOL)
    assert renders.count == 1
    again = [client.get(TOOL) for _ in range(3)]
    assert renders.count == 1, "served from memory"
    assert all(r.status_code == 200 for r in again)
    assert {r.content for r in again} == {first.content}
    client.get(TOOL + "?usage=1000%20requests")
    assert renders.count == 2, "a different query string is a different page"


def test_a_vote_is_on_the_next_page_view(
    client: TestClient, runtime: Runtime, renders: Renders
) -> None:
    before = client.get(TOOL).text
    client.get(COMPARE)
    assert "1 vote so far" not in before
    vote(client, "claude-sonnet-4", "ship")
    after = client.get(TOOL).text
    assert renders.count == 3, "the vote changed the data version"
    assert "1 vote so far" in after
    assert pressed(after) == [], "the voter's own vote is not in the shared page"
    me = client.get("/api/v1/me?tools=claude-sonnet-4,smolvlm2-2b").json()
    assert me["votes"] == {"claude-sonnet-4": "ship"}
    assert "1 vote so far" in client.get(COMPARE).text


def test_writes_from_another_process_are_on_the_next_page_view(
    client: TestClient, runtime: Runtime
) -> None:
    client.get(TOOL)
    # A second runtime on the same database stands for the worker or the CLI.
    other = open_runtime(runtime.settings)
    try:
        record = review_record(
            "claude-sonnet-4",
            "skeptic",
            "skip",
            20,
            one_liner="A verdict written by another process",
            body="Rewritten by the worker. " * 10,
            input_hash="test:other-process",
        )
        other.reviews.add(record, other.catalog.tool_id("claude-sonnet-4"))
        assert "A verdict written by another process" in client.get(TOOL).text
        edited = other.catalog.get("claude-sonnet-4").model_copy(
            update={"tagline": "A tagline edited from the command line"}
        )
        other.catalog.replace("claude-sonnet-4", edited)
        assert "A tagline edited from the command line" in client.get(TOOL).text
        client.get("/")
        assert client.get("/tools/brand-new-tool").status_code == 404
        other.catalog.add(make_tool("Brand New Tool", category="models"))
        assert "Brand New Tool" in client.get("/").text
        for _ in range(2):  # the address that was a 404 is a page now, and stays one
            assert client.get("/tools/brand-new-tool").status_code == 200
    finally:
        other.close()


def test_moderation_is_on_the_next_page_view(client: TestClient, runtime: Runtime) -> None:
    vote(client, "claude-sonnet-4", "ship")
    assert "1 vote so far" in client.get(TOOL).text
    voter = client.get("/api/v1/session").json()["voter"]
    VoteStore(runtime.engine).void_voter(voter)
    assert "1 vote so far" not in client.get(TOOL).text


def test_each_visitor_gets_the_same_page_and_their_own_vote_from_me(
    client: TestClient, runtime: Runtime
) -> None:
    vote(client, "claude-sonnet-4", "skip")
    mine = client.get(COMPARE)
    with TestClient(client.app) as other:
        theirs = other.get(COMPARE)
        their_votes = other.get("/api/v1/me?tools=claude-sonnet-4,smolvlm2-2b").json()
        other_token = other.get("/api/v1/session").json()["csrf_token"]
    my_votes = client.get("/api/v1/me?tools=claude-sonnet-4,smolvlm2-2b").json()
    me = client.get("/api/v1/session").json()["voter"]
    assert mine.content == theirs.content and mine.headers["etag"] == theirs.headers["etag"]
    assert 'name="csrf"' not in mine.text and pressed(mine.text) == []
    assert my_votes["votes"] == {"claude-sonnet-4": "skip"}, "my vote on one side of the pair"
    assert their_votes == {"votes": {}, "csrf_token": None}
    tokens = signer(runtime)
    assert tokens.unsign("csrf", my_votes["csrf_token"]) == me
    assert tokens.unsign("csrf", other_token) != me


@pytest.mark.parametrize("path", SHARED_PAGES)
def test_no_per_visitor_bytes_reach_a_shared_page(client: TestClient, path: str) -> None:
    vote(client, "claude-sonnet-4", "ship")
    seen = set()
    for _ in range(2):  # rendered, then from memory
        for visitor in (client, TestClient(client.app)):
            response = visitor.get(path)
            assert response.status_code == 200 and "set-cookie" not in response.headers
            assert 'name="csrf' not in response.text and "aria-pressed" not in response.text
            seen.add((response.content, response.headers["etag"]))
    assert len(seen) == 1, "every visitor, every time: the same bytes"


@pytest.mark.parametrize("path", SHARED_PAGES)
def test_nothing_a_requester_sends_is_kept_for_others(client: TestClient, path: str) -> None:
    """A page is kept under its path and query only, so it must not be built from request
    headers: a forged Host would otherwise be served to every later visitor."""
    forged = client.get(path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 200
    assert "evil.example" not in forged.text
    assert "evil.example" not in client.get(path).text


def test_counted_pages_are_never_served_from_memory(client: TestClient, runtime: Runtime) -> None:
    # Three visitors (a load counts once per visitor a day), each answered by the route.
    for reader in ("reader-1", "reader-2", "reader-3"):
        page = client.get("/embed/claude-sonnet-4", headers={"user-agent": reader})
        assert page.status_code == 200
    counts = client.get("/api/v1/tools/claude-sonnet-4/embeds").json()
    assert counts["total"]["embed_loads"] == 3, counts


def test_head_and_304_from_memory(client: TestClient, renders: Renders) -> None:
    tag = client.get(TOOL).headers["etag"]
    head = client.head(TOOL)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tag
    assert client.get(TOOL, headers={"If-None-Match": tag}).status_code == 304
    assert renders.count == 1


def test_the_cache_keeps_to_its_memory_bound(runtime: Runtime, renders: Renders) -> None:
    load_samples_if_empty(runtime)
    runtime.settings = replace(runtime.settings, page_cache_mb=1)
    app = create_app(runtime)
    with TestClient(app) as c:
        # Each usage figure is a page of its own: 120 of them are over 1 MB.
        paths = [f"{TOOL}?usage={n}%20requests" for n in range(1000, 121_000, 1000)]
        for path in paths:
            assert c.get(path).status_code == 200
        cache = app.state.site.page_cache.pages
        assert cache.currsize <= cache.maxsize == 1024 * 1024
        assert 0 < len(cache) < len(paths), "pages were evicted to keep the bound"
        built = renders.count
        c.get(paths[-1])
        assert renders.count == built, "the most recent page is still held"
        c.get(paths[0])
        assert renders.count == built + 1, "the least recent page went first"


def test_a_zero_size_cache_builds_every_request(runtime: Runtime, renders: Renders) -> None:
    load_samples_if_empty(runtime)
    runtime.settings = replace(runtime.settings, page_cache_mb=0)
    with TestClient(create_app(runtime)) as c:
        pages = [c.get(TOOL) for _ in range(3)]
    assert renders.count == 3
    assert all(
        p.status_code == 200 and 'action="/tools/claude-sonnet-4/vote"' in p.text for p in pages
    )
    assert len({(p.content, p.headers["etag"], p.headers["cache-control"]) for p in pages}) == 1


def test_every_table_is_versioned_or_says_why_not() -> None:
    tables = set(metadata.tables)
    assert not set(VERSIONED_TABLES) & set(UNVERSIONED_TABLES)
    assert tables == set(VERSIONED_TABLES) | set(UNVERSIONED_TABLES)


def test_every_versioned_table_moves_the_version(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    limits = Limits(per_voter=100, per_ip=100, minimum=5)
    VoteStore(runtime.engine).cast("claude-sonnet-4", "v_test", "127.0.0.1", VoteValue.ship, limits)
    publish_comparisons(runtime, "claude-sonnet-4")
    add_picks(runtime, pick_record("aider", "cursor", "builder", "a", "a"))
    for name in VERSIONED_TABLES:
        table = metadata.tables[name]
        key = next(iter(table.primary_key.columns))
        with runtime.engine.connect() as conn:
            before = current_version(conn)
            first = conn.scalar(sa.select(sa.func.min(key)))
        assert first is not None, f"{name} has a row to touch"
        with runtime.engine.begin() as conn:
            conn.execute(sa.update(table).where(key == first).values({key.name: key}))
        with runtime.engine.connect() as conn:
            assert current_version(conn) > before, name


def test_unversioned_writes_leave_the_version(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    with runtime.engine.connect() as conn:
        before = current_version(conn)
    client = TestClient(create_app(runtime))
    with client:
        client.get("/embed/claude-sonnet-4")  # embed_counts
    with runtime.engine.connect() as conn:
        assert current_version(conn) == before


VOTELESS_PAGES = [p for p in SHARED_PAGES if p not in (TOOL, COMPARE)]


def test_votes_move_only_the_vote_counter(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    with runtime.engine.connect() as conn:
        content, votes = current_version(conn)
    limits = Limits(per_voter=100, per_ip=100, minimum=5)
    VoteStore(runtime.engine).cast("claude-sonnet-4", "v_x", "127.0.0.1", VoteValue.ship, limits)
    with runtime.engine.connect() as conn:
        after_vote = current_version(conn)
    assert after_vote[0] == content and after_vote[1] > votes
    record = review_record("claude-sonnet-4", "skeptic", "skip", 20, input_hash="test:c")
    runtime.reviews.add(record, runtime.catalog.tool_id("claude-sonnet-4"))
    with runtime.engine.connect() as conn:
        after_review = current_version(conn)
    assert after_review[0] > content and after_review[1] == after_vote[1]


@pytest.mark.parametrize("path", VOTELESS_PAGES)
def test_pages_that_say_they_show_no_votes_do_not(runtime: Runtime, path: str) -> None:
    """Rendered afresh (cache off), these pages are the same before and after votes, a
    voter's verification and moderation: so keeping them while people vote is safe."""
    load_samples_if_empty(runtime)
    runtime.settings = replace(runtime.settings, page_cache_mb=0)
    with TestClient(create_app(runtime)) as c:

        def page() -> str:
            response = c.get(path)
            assert response.status_code == 200
            return response.text

        before = page()
        limits = Limits(per_voter=100, per_ip=100, minimum=1)
        store = VoteStore(runtime.engine)
        for i, slug in enumerate(("claude-sonnet-4", "smolvlm2-2b", "cursor")):
            for n in range(3):
                value = VoteValue.ship if (i + n) % 2 else VoteValue.skip
                store.cast(slug, f"v_{i}_{n}", "127.0.0.1", value, limits)
        store.verify("v_0_0", "reader@example.com", datetime.now(UTC))
        store.void_voter("v_1_1")
        assert page() == before


def test_a_vote_keeps_pages_without_votes_and_refreshes_the_rest(
    client: TestClient, renders: Renders
) -> None:
    cache = client.app.state.site  # type: ignore[attr-defined]
    client.get(TOOL)
    client.get("/")
    vote(client, "claude-sonnet-4", "ship")
    hits = cache.page_cache.hits
    client.get("/")
    assert cache.page_cache.hits == hits + 1, "home shows no votes: still current"
    client.get(TOOL)
    assert renders.count == 2, "the tool page shows the vote, so it is built again"

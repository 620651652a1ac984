"""Invalidation per tool: a vote or review on one tool makes stale only the pages that show
it (its tool page, its compare pages, its category's tool pages, the whole-catalog lists),
in every process, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from shiporskip.domain.votes import VoteValue
from shiporskip.jobs.tasks import publish_comparisons
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import replace
from shiporskip.storage.page_versions import PageScope, key_versions, keys_of, read_versions
from shiporskip.storage.schema import metadata
from shiporskip.storage.votes import Limits, VoteStore
from shiporskip.web.app import create_app
from tests.factories import review_record
from tests.live import LiveServer, assert_whole
from tests.storage.test_pairwise_store import add_picks, pick_record
from tests.web.test_page_cache import Renders

# Two tools of one category (models) and two of another (coding-agents).
TOOL = "/tools/claude-sonnet-4"
PEER = "/tools/smolvlm2-2b"
COMPARE = "/compare/claude-sonnet-4-vs-smolvlm2-2b"
OTHER = "/tools/cursor"
OTHER_COMPARE = "/compare/aider-vs-cursor"
migration = importlib.import_module("shiporskip.storage.migrations.versions.0019_tool_versions")
LIMITS = Limits(per_voter=100, per_ip=100, minimum=1)
TOKENS = re.compile(r'(name="(?:csrf|csrf_token)" value=")[^"]*"')


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Renders:
    return Renders(monkeypatch)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(runtime)
    with TestClient(create_app(runtime)) as c:
        yield c


def served(client: TestClient, *paths: str) -> None:
    for path in paths:
        assert client.get(path).status_code == 200, path


def built(client: TestClient, renders: Renders, path: str) -> bool:
    """Whether answering `path` now builds the page (rather than serving it from memory)."""
    before = renders.count
    assert client.get(path).status_code == 200
    return renders.count > before


def review(runtime: Runtime, slug: str, tag: str) -> None:
    record = review_record(slug, "skeptic", "skip", 20, input_hash=f"test:{tag}")
    runtime.reviews.add(record, runtime.catalog.tool_id(slug))


def test_a_vote_on_one_tool_leaves_the_pages_of_others_in_memory(
    client: TestClient, runtime: Runtime, renders: Renders
) -> None:
    served(client, TOOL, COMPARE, OTHER, OTHER_COMPARE)
    VoteStore(runtime.engine).cast("cursor", "v_a", "127.0.0.1", VoteValue.ship, LIMITS)
    assert not built(client, renders, TOOL)
    assert not built(client, renders, COMPARE)
    assert built(client, renders, OTHER), "the voted tool's page shows the vote"
    assert built(client, renders, OTHER_COMPARE), "so does its compare page"
    assert "1 vote so far" in client.get(OTHER).text


def test_a_review_refreshes_its_category_and_no_other(
    client: TestClient, runtime: Runtime, renders: Renders
) -> None:
    served(client, TOOL, COMPARE, OTHER, OTHER_COMPARE)
    # Another process (the worker) reviews a tool of the models category.
    worker = open_runtime(runtime.settings)
    try:
        review(worker, "smolvlm2-2b", "peer")
    finally:
        worker.engine.dispose()
    assert built(client, renders, TOOL), "the tool page ranks its category's panels"
    assert built(client, renders, COMPARE)
    assert not built(client, renders, OTHER)
    assert not built(client, renders, OTHER_COMPARE)


def test_a_catalog_edit_refreshes_every_page(
    client: TestClient, runtime: Runtime, renders: Renders
) -> None:
    served(client, TOOL, OTHER)
    tool = runtime.catalog.get("aider")
    runtime.catalog.replace("aider", tool.model_copy(update={"tagline": "An edited tagline."}))
    assert built(client, renders, TOOL)
    assert built(client, renders, OTHER)


def test_blocking_a_voter_refreshes_every_page(
    client: TestClient, runtime: Runtime, renders: Renders
) -> None:
    store = VoteStore(runtime.engine)
    store.cast("cursor", "v_b", "127.0.0.1", VoteValue.ship, LIMITS)
    served(client, TOOL, OTHER)
    store.void_voter("v_b")
    assert built(client, renders, OTHER)
    assert "1 vote so far" not in client.get(OTHER).text


def test_scoped_pages_do_not_change_with_writes_outside_their_scope(runtime: Runtime) -> None:
    """Rendered afresh (cache off), the pages that declare a scope are byte for byte the
    same after votes, reviews, comparisons and picks on tools outside it: so keeping them
    through those writes is safe."""
    load_samples_if_empty(runtime)
    runtime.settings = replace(runtime.settings, page_cache_mb=0)
    with TestClient(create_app(runtime)) as c:

        def pages() -> list[str]:
            return [TOKENS.sub(r'\1"', c.get(p).text) for p in (TOOL, COMPARE)]

        before = pages()
        store = VoteStore(runtime.engine)
        for n, slug in enumerate(("cursor", "aider", "cursor")):
            store.cast(slug, f"v_{n}", "127.0.0.1", VoteValue.skip, LIMITS)
        review(runtime, "cursor", "outside")
        publish_comparisons(runtime, "cursor")
        add_picks(runtime, pick_record("aider", "cursor", "builder", "a", "a"))
        assert pages() == before


@pytest.mark.parametrize("table", sorted(migration.KEYED))
def test_every_keyed_table_bumps_its_tools(runtime: Runtime, table: str) -> None:
    load_samples_if_empty(runtime)
    VoteStore(runtime.engine).cast("cursor", "v_k", "127.0.0.1", VoteValue.ship, LIMITS)
    publish_comparisons(runtime, "claude-sonnet-4")
    add_picks(runtime, pick_record("aider", "cursor", "builder", "a", "a"))
    t = metadata.tables[table]
    key = next(iter(t.primary_key.columns))
    counter, specs = migration.KEYED[table]
    with runtime.engine.connect() as conn:
        row = conn.execute(sa.select(t).order_by(key).limit(1)).one()._mapping
        keys = tuple(f"{p}{row[c]}" for p, c in (s.split(":") for s in specs))
        before = key_versions(conn, keys)
        versions = read_versions(conn)
        untouched = next(f"t{i}" for i in range(1, 10**6) if f"t{i}" not in keys)
        other = key_versions(conn, [untouched])
    with runtime.engine.begin() as conn:
        conn.execute(sa.update(t).where(key == row[key.name]).values({key.name: key}))
    with runtime.engine.connect() as conn:
        after = key_versions(conn, keys)
        assert key_versions(conn, [untouched]) == other
        assert read_versions(conn)[2] == versions[2], "the catalog counter stays"
    moved = 0 if counter == "content" else 1
    for k, b, a in zip(keys, before, after, strict=True):
        assert a[moved] > b[moved], f"{table} bumps {k}"
        assert a[1 - moved] == b[1 - moved], f"{table} bumps only the {counter} of {k}"


@pytest.mark.parametrize("table", sorted(migration.CATALOG))
def test_catalog_writes_bump_the_catalog_counter(runtime: Runtime, table: str) -> None:
    load_samples_if_empty(runtime)
    VoteStore(runtime.engine).cast("cursor", "v_c", "127.0.0.1", VoteValue.ship, LIMITS)
    t = metadata.tables[table]
    key = next(iter(t.primary_key.columns))
    with runtime.engine.connect() as conn:
        before = read_versions(conn)
        first = conn.scalar(sa.select(sa.func.min(key)))
    with runtime.engine.begin() as conn:
        conn.execute(sa.update(t).where(key == first).values({key.name: key}))
    with runtime.engine.connect() as conn:
        assert read_versions(conn)[2] > before[2]


def test_a_new_voter_alone_leaves_the_catalog_counter(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    with runtime.engine.connect() as conn:
        before = read_versions(conn)
    VoteStore(runtime.engine).cast("cursor", "v_new", "127.0.0.1", VoteValue.ship, LIMITS)
    with runtime.engine.connect() as conn:
        after = read_versions(conn)
    assert after[2] == before[2] and after[1] > before[1]


def test_a_scope_names_tools_by_id_and_skips_unknown_slugs(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    ids = sorted(runtime.catalog.tool_id(s) for s in ("cursor", "aider"))
    with runtime.engine.connect() as conn:
        keys = keys_of(conn, PageScope.of(["cursor", "nope", "aider", "cursor"], ["models"]))
        assert keys == (f"t{ids[0]}", f"t{ids[1]}", "cmodels")
        assert key_versions(conn, ["never-bumped"]) == ((0, 0),)


def test_the_per_tool_counters_are_exact_under_a_day_of_writes(runtime: Runtime) -> None:
    """Each vote bumps its own tool's vote counter once, whichever process writes."""
    load_samples_if_empty(runtime)
    slugs = ("cursor", "aider", "claude-sonnet-4")
    with runtime.engine.connect() as conn:
        keys = keys_of(conn, PageScope.of(slugs))
        before = dict(zip(keys, key_versions(conn, keys), strict=True))
    store = VoteStore(runtime.engine)
    now = datetime.now(UTC)
    for n in range(6):
        store.cast(slugs[n % 3], f"v_d{n}", "127.0.0.1", VoteValue.ship, LIMITS, now=now)
    with runtime.engine.connect() as conn:
        after = dict(zip(keys, key_versions(conn, keys), strict=True))
    assert all(after[k][1] - before[k][1] == 2 for k in keys), (before, after)


def test_through_the_real_server_a_vote_refreshes_only_its_tool(tmp_path: Path) -> None:
    """`X-Page-Cache` says whether the server's memory answered. After a vote on cursor,
    claude-sonnet-4's page still comes from memory, while cursor's page shows the vote at
    once. (Other processes read the same counters: `test_a_review_refreshes_...`.)"""
    with (
        LiveServer(tmp_path / "data") as server,
        httpx.Client(base_url=server.base_url) as reader,
    ):

        def cache(path: str) -> str:
            r = reader.get(path)
            assert r.status_code == 200
            assert_whole(r)
            return r.headers["x-page-cache"]

        assert [cache(TOOL), cache(TOOL), cache(OTHER), cache(OTHER)] == [
            "miss",
            "hit",
            "miss",
            "hit",
        ]
        token = reader.get("/api/v1/session").json()["csrf_token"]
        voted = reader.post(
            "/api/v1/tools/cursor/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": token}
        )
        assert voted.status_code == 200
        assert cache(TOOL) == "hit", "a vote on another tool leaves this page current"
        first = reader.get(OTHER)
        assert first.headers["x-page-cache"] == "miss"
        assert "1 vote so far" in first.text

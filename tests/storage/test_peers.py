"""A tool page's neighbours (`storage/peers.py`), on SQLite and on PostgreSQL."""

from __future__ import annotations

from shiporskip.domain.reviews import ReviewRecord
from shiporskip.runtime import Runtime
from shiporskip.storage.peers import similar_peers, tools_named
from tests.factories import make_tool, review_record


def _record(slug: str, critic: str, verdict: str | None, score: int = 60) -> ReviewRecord:
    status = "ok" if verdict is not None else "failed"
    return review_record(slug, critic, verdict, score, status=status)


def _catalog(runtime: Runtime) -> None:
    for name in ("Delta", "alpha", "Charlie", "Bravo", "Echo"):
        runtime.catalog.add(make_tool(name, category="models"))
    runtime.catalog.add(make_tool("Foxtrot", category="voice", aliases=["Renard"]))
    ids = {t.slug: runtime.catalog.tool_id(t.slug) for t in runtime.catalog.list()}
    add = runtime.reviews.add
    add(_record("delta", "builder", "ship", 90), ids["delta"])
    add(_record("charlie", "builder", "ship", 70), ids["charlie"])
    add(_record("charlie", "buyer", "skip", 40), ids["charlie"])
    add(_record("bravo", "builder", "skip", 10), ids["bravo"])
    add(_record("echo", "builder", None), ids["echo"])


def test_similar_peers_rank_shipped_tools_first_then_the_rest_by_name(runtime: Runtime) -> None:
    _catalog(runtime)
    # Ship % above zero first (Delta 100%, Charlie 50%), everything else by name,
    # case-insensitively: never reviewed, shipped by no critic, failed only.
    peers = similar_peers(runtime.engine, "models", "", 10)
    assert [p.slug for p in peers] == ["delta", "charlie", "alpha", "bravo", "echo"]
    assert [p.slug for p in similar_peers(runtime.engine, "models", "delta", 10)] == [
        "charlie",
        "alpha",
        "bravo",
        "echo",
    ]
    # A limit that ends among the ranked tools, and one that ends among the rest.
    assert [p.slug for p in similar_peers(runtime.engine, "models", "alpha", 1)] == ["delta"]
    assert [p.slug for p in similar_peers(runtime.engine, "models", "delta", 3)] == [
        "charlie",
        "alpha",
        "bravo",
    ]
    # Each peer carries its name, and its full record when a page shows it as a card.
    first = similar_peers(runtime.engine, "models", "delta", 1)[0]
    assert (first.name, first.tool()) == ("Charlie", runtime.catalog.get("charlie"))
    assert similar_peers(runtime.engine, "voice", "foxtrot", 5) == []


def test_tools_named_finds_names_and_aliases(runtime: Runtime) -> None:
    _catalog(runtime)
    found = tools_named(runtime.engine, ["foxtrot", "foxtrot", "renard", "delta", "nobody"])
    assert found == {
        "foxtrot": ("foxtrot", "Foxtrot"),
        "renard": ("foxtrot", "Foxtrot"),
        "delta": ("delta", "Delta"),
    }
    assert tools_named(runtime.engine, []) == {}

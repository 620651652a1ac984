"""The methodology page: every published rule is on the page, and the model table is live."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from shiporskip.domain.compare import CONCLUSION_RULE
from shiporskip.domain.quality import GATE_RULES, MIN_BODY_WORDS
from shiporskip.domain.stats import wilson_interval
from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.web.app import create_app
from shiporskip.web.methodology import conclusion_steps
from tests.factories import make_tool
from tests.web.test_critics import add_review


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def section(html: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}"[^>]*>(.*?)</section>', html, re.S)
    assert match, anchor
    return match.group(1)


def test_every_section_of_the_json_is_on_the_page(client: TestClient) -> None:
    html = client.get("/methodology").text
    data = client.get("/api/v1/methodology").json()
    ids = [s["id"] for s in data["sections"]]
    for required in ("panel", "verdict", "intervals", "compare", "maker-text", "votes", "pricing"):
        assert required in ids
    for s in data["sections"]:
        block = section(html, s["id"])
        assert str(escape(s["title"])) in block
        for text in s["paragraphs"] + s["steps"]:
            assert str(escape(text)) in block
        assert f'href="#{s["id"]}"' in html


def test_the_comparison_rule_is_published_verbatim_under_compare(client: TestClient) -> None:
    data = client.get("/api/v1/methodology").json()
    assert data["conclusion_rule"] == CONCLUSION_RULE
    opening, steps = conclusion_steps()
    assert len(steps) == 4
    rebuilt = " ".join([opening, *(f"{i}. {step}" for i, step in enumerate(steps, 1))])
    assert rebuilt == " ".join(CONCLUSION_RULE.split())
    block = section(client.get("/methodology").text, "compare")
    for part in (opening, *steps):
        assert str(escape(part)) in block


def test_tie_rule_intervals_and_votes_are_stated(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    html = client.get("/methodology").text
    verdict = section(html, "verdict")
    assert "Split if the two are equal" in verdict and "5-2" in verdict
    assert "6 of 7 critics reported (1 failed)" in verdict
    assert "1 from an earlier run" in verdict and "sample reviews are set aside" in verdict
    ledger = section(html, "predictions")
    assert "/predictions" in ledger and "95% interval" in ledger
    low, high = wilson_interval(5, 7) or (0, 0)
    assert f"{100 * low:.0f}–{100 * high:.0f}%" in section(html, "intervals")
    assert "square root" in section(html, "intervals")
    votes = section(html, "votes")
    assert "Community voting is enabled on this instance" in votes
    assert "void all votes" in votes and "security token" in votes
    assert "one vote per voter per tool" in votes and "95% Wilson interval" in votes
    assert f"Below {sqlite_runtime.settings.vote_min_count} votes the page shows" in votes
    assert client.get("/api/v1/methodology").json()["community_voting_enabled"] is True


def test_critics_are_listed_and_linked(client: TestClient) -> None:
    html = client.get("/methodology").text
    critics = client.get("/api/v1/methodology").json()["critics"]
    assert len(critics) == 7
    for c in critics:
        assert f'<a href="/critics/{c["id"]}"><strong>{escape(c["name"])}</strong></a>' in html
        assert str(escape(c["lens"])) in html


def row(html: str, label: str) -> list[str]:
    match = re.search(rf'<tr><th scope="row">{re.escape(label)}</th>(.*?)</tr>', html, re.S)
    assert match, label
    return re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))


def test_models_table_counts_reviews_live(client: TestClient, sqlite_runtime: Runtime) -> None:
    assert "No reviews have been written on this instance yet" in client.get("/methodology").text
    load_samples_if_empty(sqlite_runtime)
    tool = sqlite_runtime.catalog.add(make_tool("Fresh Tool"))
    add_review(sqlite_runtime, tool.slug, "builder", "ship", 70)
    add_review(sqlite_runtime, tool.slug, "skeptic", "skip", 30)
    add_review(sqlite_runtime, tool.slug, "buyer", "skip", status="failed")
    add_review(sqlite_runtime, tool.slug, "user", "ship", model="llama3.1", provider="ollama")
    data = client.get("/api/v1/methodology").json()
    html = client.get("/methodology").text
    by_label = {m["label"]: m for m in data["models"]}
    sample = by_label["sample: written by the shiporskip team"]
    assert (sample["reviews"], sample["failed"], sample["tools"]) == (105, 0, 15)
    openai = by_label["OpenAI gpt-4o-mini"]
    assert (openai["reviews"], openai["failed"], openai["tools"]) == (2, 1, 1)
    assert openai["critics"] == ["builder", "buyer", "skeptic"]
    assert by_label["llama3.1 (local)"]["reviews"] == 1
    for m in data["models"]:
        cells = row(html, m["label"])
        assert cells[:3] == [str(m["reviews"]), str(m["failed"]), str(m["tools"])]
        assert cells[3] == ", ".join(m["critics"]) and cells[-1] == m["cost_text"]
    assert openai["cost_text"] == "$0.03"
    assert data["total_reviews"] == 108 and data["total_failed"] == 1


def test_the_quality_gate_rules_are_published_from_the_gate_itself(client: TestClient) -> None:
    data = client.get("/api/v1/methodology").json()
    (gate,) = [s for s in data["sections"] if s["id"] == "quality-gate"]
    assert gate["steps"] == [rule.sentence for rule in GATE_RULES]
    block = section(client.get("/methodology").text, "quality-gate")
    assert block.count("<li>") == len(GATE_RULES) == 7
    for rule in GATE_RULES:
        assert str(escape(rule.sentence)) in block
    assert f"at least {MIN_BODY_WORDS} words" in block
    assert "Ship needs a score of 50 or more, Skip a score below 50" in block

"""Critic pages: the panel, one critic's numbers and reviews, the category filter."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from shiporskip import critics as critics_package
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from shiporskip.web import critics as critics_module
from shiporskip.web.app import create_app
from tests.factories import make_tool, review_record

BODY = " ".join(["word"] * 90)


def add_review(
    runtime: Runtime,
    slug: str,
    critic: str,
    verdict: str,
    score: int = 60,
    *,
    provider: str = "openai",
    model: str = "gpt-4o-mini",
    one_liner: str = "A scripted take.",
    status: str = "ok",
) -> None:
    """Store one review (or a failed attempt) as the panel would."""
    record = review_record(
        slug,
        critic,
        verdict,
        score,
        one_liner=one_liner,
        body=BODY,
        status=status,
        provider=provider,
        model=model,
        input_tokens=1000,
        output_tokens=200,
        cost_usd=0.01,
    )
    runtime.reviews.add(record, runtime.catalog.tool_id(slug))


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


@pytest.fixture
def samples(sqlite_runtime: Runtime) -> Runtime:
    load_samples_if_empty(sqlite_runtime)
    return sqlite_runtime


def card(html: str, critic_id: str) -> str:
    """The HTML of one critic's card on the panel page."""
    match = re.search(
        rf'<li class="card critic-card" id="critic-{critic_id}">(.*?)</li>', html, re.S
    )
    assert match, critic_id
    return match.group(1)


def test_panel_page_shows_every_critic_with_the_numbers_of_the_json(
    client: TestClient, samples: Runtime
) -> None:
    html = client.get("/critics").text
    data = client.get("/api/v1/critics").json()
    assert data["count"] == 7 == len(data["critics"])
    for c in data["critics"]:
        block = card(html, c["id"])
        assert f'href="{c["url"]}"' in block
        for text in (c["name"], c["role"], c["motto"], c["ship_pct_text"], c["interval_text"]):
            assert str(escape(text)) in block
        assert f'<span class="review-count">{c["reviews"]}</span>' in block
        assert f'<span class="agreement">{c["agreement"]["pct_text"]}</span>' in block
        assert c["reviews"] == 15 and c["interval_text"].startswith("95% CI ")


def test_critic_page_matches_its_json(client: TestClient, samples: Runtime) -> None:
    response = client.get("/critics/skeptic")
    data = client.get("/api/v1/critics/skeptic").json()
    html = response.text
    assert response.status_code == 200
    stats = data["stats"]
    assert f'<span class="ship-rate">{stats["ship_pct_text"]}</span>' in html
    assert stats["interval_text"] in html
    for item in data["critic"]["excited_about"] + data["critic"]["tired_of"]:
        assert str(escape(item)) in html
    assert len(data["critic"]["excited_about"]) == 3 == len(data["critic"]["tired_of"])
    for tally in data["categories"]:
        row = re.search(
            rf'<th scope="row"><a href="/critics/skeptic\?category={tally["slug"]}#reviews">'
            rf'{re.escape(str(escape(tally["name"])))}</a></th><td class="tally-text">([^<]*)</td>'
            r"<td>([^<]*)</td>",
            html,
        )
        assert row, tally["slug"]
        assert (row[1], row[2]) == (tally["text"], tally["shipped_pct_text"])
        noun = "tool" if tally["tools"] == 1 else "tools"
        assert tally["text"] == f"{tally['tools']} {noun}, {tally['shipped']} shipped"
    assert sum(t["tools"] for t in data["categories"]) == stats["reviews"] == data["count"]
    assert sum(t["shipped"] for t in data["categories"]) == stats["ships"]
    for review in data["reviews"]:
        assert f'<a href="{review["tool_url"]}">{escape(review["tool_name"])}</a>' in html
        assert str(escape(review["one_liner"])) in html
    assert 'href="/critics"' in html
    assert "sample review written by the shiporskip team" in html


def test_agreement_counts_verdicts_that_match_the_panel(
    client: TestClient, samples: Runtime
) -> None:
    data = client.get("/api/v1/critics/builder").json()
    agreement = data["agreement"]
    agrees = [r["agrees"] for r in data["reviews"]]
    assert agreement["agreed"] == agrees.count(True)
    assert agreement["compared"] == agrees.count(True) + agrees.count(False)
    assert agreement["splits"] == agrees.count(None)
    assert (
        f'<span class="agreement">{agreement["pct_text"]}</span>'
        in client.get("/critics/builder").text
    )


def test_category_filter_by_slug_or_alias(client: TestClient, samples: Runtime) -> None:
    full = client.get("/api/v1/critics/buyer").json()
    models = next(t for t in full["categories"] if t["slug"] == "models")
    for label in ("models", "LLM"):
        data = client.get("/api/v1/critics/buyer", params={"category": label}).json()
        assert data["category"]["slug"] == "models"
        assert data["count"] == models["tools"] == len(data["reviews"])
        assert {r["category"]["slug"] for r in data["reviews"]} == {"models"}
    html = client.get("/critics/buyer", params={"category": "models"}).text
    assert "Reviews in Models" in html
    assert '<option value="models" selected>' in html
    assert '<tr class="selected" aria-current="true">' in html


def test_unknown_category_filter_is_a_clear_message_not_a_500(
    client: TestClient, samples: Runtime
) -> None:
    response = client.get("/critics/buyer", params={"category": "<b>nope</b>"})
    assert response.status_code == 422
    assert "Cannot filter by category: unknown category" in response.text
    assert "Models (models)" in response.text and "<b>nope</b>" not in response.text
    assert response.text.count('class="card review"') == 15  # every review is still shown
    api = client.get("/api/v1/critics/buyer", params={"category": "nope"})
    assert api.status_code == 422 and "unknown category 'nope'" in api.json()["error"]


def test_a_category_without_reviews_says_so(client: TestClient, samples: Runtime) -> None:
    html = client.get("/critics/user", params={"category": "video"}).text
    assert "has not reviewed any tool in Video yet" in html


def test_unknown_critic_is_404_naming_the_panel(client: TestClient, samples: Runtime) -> None:
    response = client.get("/critics/nobody")
    assert response.status_code == 404
    assert "no critic &#39;nobody&#39;; the panel is: builder" in response.text
    api = client.get("/api/v1/critics/nobody")
    assert api.status_code == 404 and "the panel is: builder, skeptic" in api.json()["error"]


def test_reviews_are_paged_newest_first_after_a_review_id(
    client: TestClient, samples: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(critics_module, "PAGE_SIZE", 6)
    first = client.get("/api/v1/critics/futurist").json()
    assert first["count"] == 15 and first["prev_url"] is None and first["first_url"] is None
    pages = [first]
    while pages[-1]["next_url"]:
        assert pages[-1]["next_url"].startswith("/critics/futurist?after=")
        pages.append(client.get("/api/v1" + pages[-1]["next_url"]).json())
    assert [len(p["reviews"]) for p in pages] == [6, 6, 3]
    assert all(p["count"] == 15 for p in pages)
    slugs = [r["tool_slug"] for p in pages for r in p["reviews"]]
    assert len(slugs) == len(set(slugs)) == 15
    times = [r["reviewed_at"] for p in pages for r in p["reviews"]]
    assert times == sorted(times, reverse=True)
    back = client.get("/api/v1" + pages[2]["prev_url"]).json()
    assert [r["tool_slug"] for r in back["reviews"]] == [
        r["tool_slug"] for r in pages[1]["reviews"]
    ]
    assert back["first_url"] == "/critics/futurist"
    assert client.get("/critics/futurist", params={"after": "abc"}).status_code == 200
    html = client.get(first["next_url"]).text
    assert 'rel="prev"' in html and 'rel="next"' in html and "6 of 15 reviews" in html
    models = client.get("/api/v1/critics/futurist", params={"category": "models"}).json()
    assert models["next_url"].startswith("/critics/futurist?category=models&after=")
    rest = client.get("/api/v1" + models["next_url"]).json()
    shown = models["reviews"] + rest["reviews"]
    assert len(shown) == models["count"] and rest["next_url"] is None
    assert {r["category"]["slug"] for r in shown} == {"models"}


def test_a_critic_that_ships_everything_is_flagged(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    for i in range(5):
        tool = sqlite_runtime.catalog.add(make_tool(f"Tool {i}"))
        add_review(sqlite_runtime, tool.slug, "builder", "ship", 80)
        add_review(sqlite_runtime, tool.slug, "skeptic", "skip" if i % 2 else "ship", 50)
    warning = "Bea Builder has shipped every one of 5 tools: uncalibrated so far"
    assert warning in client.get("/critics").text
    assert warning in client.get("/critics/builder").text
    assert client.get("/api/v1/critics/builder").json()["stats"]["calibration_warning"] == warning
    assert "uncalibrated" not in client.get("/critics/skeptic").text


def test_a_critic_without_reviews(client: TestClient) -> None:
    html = client.get("/critics/scientist").text
    assert "has not reviewed any tool yet" in html and "No reviews yet" in html


HOSTILE = '<script>alert("x")</script>'


def test_hostile_tool_text_is_escaped_on_critic_pages(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    tool = sqlite_runtime.catalog.add(make_tool("Evil <script>alert(1)</script>", tagline=HOSTILE))
    add_review(sqlite_runtime, tool.slug, "user", "skip", 20, one_liner=HOSTILE)
    for url in ("/critics/user", "/critics"):
        html = client.get(url).text
        assert "<script>alert" not in html
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/critics/user").text


def test_retired_critics_keep_their_page_but_leave_the_panel(tmp_path: Path) -> None:
    critics_dir = tmp_path / "critics"
    shutil.copytree(Path(critics_package.__file__).parent, critics_dir)
    user = critics_dir / "user.yaml"
    user.write_text(user.read_text(encoding="utf-8") + "retired: true\n", encoding="utf-8")
    runtime = open_runtime(load_settings(overrides={"critics_dir": str(critics_dir)}))
    try:
        with TestClient(create_app(runtime)) as client:
            data = client.get("/api/v1/critics").json()
            assert data["count"] == 6 and [c["id"] for c in data["retired"]] == ["user"]
            assert "Retired critics" in client.get("/critics").text
            response = client.get("/critics/user")
            assert response.status_code == 200 and "Uma User is retired" in response.text
    finally:
        runtime.close()

"""Readers never see operator internals: model server addresses, raw errors, CLI commands.

A review written through a private model server and a failed attempt whose error quotes that
server (and looks like a traceback) are stored; every public page family, the public API, the
feed and the digest are fetched and searched for any trace of them, in process and through
the real server. The admin area, its API and the CLI still show the full audit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shiporskip.cli.main import main
from shiporskip.newsletter.digest import build_digest
from shiporskip.newsletter.render import mail_html, mail_text, render_issue
from shiporskip.newsletter.weeks import week_of
from shiporskip.runtime import Runtime
from shiporskip.settings import replace
from shiporskip.web.app import create_app
from shiporskip.web.methodology import methodology_page
from tests.factories import make_tool, review_record
from tests.live import LiveServer, assert_whole

SPEC = "openai-compatible:llama3.1-8b@http://10.0.0.5:8000/v1"
ERROR = (
    f"{SPEC.replace('@', ' at ')} failed after 3 attempts: cannot reach "
    "http://10.0.0.5:8000/v1 (Traceback (most recent call last): File "
    '"/srv/shiporskip/llm/openai_compat.py", line 123, in complete; '
    "httpx.ConnectError: [Errno 111] Connection refused; api_key=sk-live-SECRET42)"
)
# Nothing of the spec's address, the error or the operator's commands may reach a reader.
FORBIDDEN = (
    "10.0.0.5",
    "http://10.0",
    "8000/v1",
    "openai-compatible",
    "Traceback",
    "ConnectError",
    "Errno",
    "sk-live-SECRET42",
    "/srv/shiporskip",
    "failed after 3 attempts",
    "shiporskip review",
    "shiporskip tools",
)
TOKEN = "correct-horse-battery-staple"
LABEL = "llama3.1-8b (local)"
FAILURE = "Sam Skeptic's review failed (model unreachable); it will be retried."
NOW = datetime.now(UTC)

PAGES = (
    "/",
    "/tools/alpha",
    "/tools/beta",
    "/compare/alpha-vs-beta",
    "/compare/alpha-vs-gamma",  # Gamma has no panel yet
    "/critics",
    "/critics/builder",
    "/critics/skeptic",
    "/categories",
    "/categories/developer-tools",
    "/categories/voice-audio",  # empty
    "/search?q=alpha",
    "/methodology",
    "/embed/alpha",
    "/badge/alpha.svg",
    "/feed.xml",
    "/sitemap.xml",
    "/newsletter/archive",
    "/tools/alpah",  # 404 with suggestions
    "/tools/nothing-like-it",  # 404 without: the CLI hint is stripped
    "/compare/alpha-vs-nothing-like-it",
)
API = (
    "/api/v1/home",
    "/api/v1/tools",
    "/api/v1/tools/alpha",
    "/api/v1/tools/nothing-like-it",
    "/api/v1/compare/alpha-vs-beta",
    "/api/v1/compare/alpha-vs-gamma",
    "/api/v1/critics",
    "/api/v1/critics/builder",
    "/api/v1/critics/skeptic",
    "/api/v1/categories",
    "/api/v1/categories/developer-tools",
    "/api/v1/search?q=alpha",
    "/api/v1/methodology",
    "/openapi.json",
)


def seed(runtime: Runtime) -> None:
    """Alpha: reviewed through a private server, the skeptic's call failed; Beta; bare Gamma."""
    for name in ("Alpha", "Beta", "Gamma"):
        runtime.catalog.add(make_tool(name))
    audit = {
        "provider": "openai-compatible",
        "model": SPEC,
        "prompt_version": "review-v3",
        "input_tokens": 1200,
        "output_tokens": 340,
        "cost_usd": 0.0,
        "latency_ms": 4321,
        "created_at": NOW,
    }
    for slug, critic, verdict in (
        ("alpha", "builder", "ship"),
        ("alpha", "futurist", "skip"),
        ("beta", "builder", "skip"),
        ("beta", "skeptic", "skip"),
    ):
        score = 80 if verdict == "ship" else 30
        record = review_record(slug, critic, verdict, score, **audit)
        runtime.reviews.add(record, runtime.catalog.tool_id(slug))
    failed = review_record("alpha", "skeptic", None, status="failed", **audit | {"error": ERROR})
    runtime.reviews.add(failed, runtime.catalog.tool_id("alpha"))


def leaks(text: str) -> list[str]:
    return [marker for marker in FORBIDDEN if marker in text]


@pytest.fixture
def seeded(sqlite_runtime: Runtime) -> Runtime:
    seed(sqlite_runtime)
    sqlite_runtime.settings = replace(sqlite_runtime.settings, admin_token=TOKEN)
    return sqlite_runtime


@pytest.fixture
def client(seeded: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(seeded)) as c:
        yield c


def test_no_public_page_or_api_shows_internals(client: TestClient) -> None:
    for path in PAGES + API:
        response = client.get(path)
        assert response.status_code < 500, path
        assert not leaks(response.text), (path, leaks(response.text))


def test_cards_show_the_model_label_and_a_plain_failure(client: TestClient) -> None:
    html = client.get("/tools/alpha").text
    assert f"Written by {LABEL}" in html
    assert FAILURE.replace("'", "&#39;") in html
    data = client.get("/api/v1/tools/alpha").json()
    assert {r["model"] for r in data["reviews"]} == {LABEL}
    assert all("provider" not in r for r in data["reviews"])
    assert data["failures"] == [
        {
            "critic": "skeptic",
            "critic_name": "Sam Skeptic",
            "reason": "model unreachable",
            "text": FAILURE,
        }
    ]
    critic = client.get("/api/v1/critics/builder").json()
    assert {r["model"] for r in critic["reviews"]} == {LABEL}
    assert f"written by {LABEL}" in client.get("/critics/builder").text
    gamma = client.get("/compare/alpha-vs-gamma").text
    assert "No critic has reviewed Gamma yet, so it cannot win or lose here." in gamma


def test_methodology_counts_by_label_one_row_per_model(runtime: Runtime) -> None:
    seed(runtime)
    # The same model behind a second address is the same row for a reader.
    other = SPEC.replace("10.0.0.5", "10.0.0.6")
    record = review_record("gamma", "builder", "ship", model=other, provider="openai-compatible")
    runtime.reviews.add(record, runtime.catalog.tool_id("gamma"))
    rows = methodology_page(runtime).model_dump()["models"]
    assert [(r["label"], r["reviews"], r["failed"], r["tools"]) for r in rows] == [(LABEL, 5, 1, 3)]
    assert rows[0]["critics"] == ["builder", "futurist", "skeptic"]
    assert not {"provider", "model"} & set(rows[0])


def test_error_pages_carry_no_cli_hint_or_exception_text(seeded: Runtime) -> None:
    app = create_app(seeded)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(ERROR)

    with TestClient(app, raise_server_exceptions=False) as c:
        missing = c.get("/api/v1/tools/nothing-like-it").json()["error"]
        assert missing == "no tool with slug 'nothing-like-it'"
        page = c.get("/tools/nothing-like-it")
        assert page.status_code == 404 and "no tool with slug" in page.text
        assert not leaks(page.text)
        crash = c.get("/boom")
        assert crash.status_code == 500 and not leaks(crash.text)


def test_the_feed_and_the_digest_show_no_internals(client: TestClient, seeded: Runtime) -> None:
    feed = client.get("/feed.xml").text
    assert "Alpha" in feed and not leaks(feed)
    digest = build_digest(seeded, week_of(NOW), NOW)
    content = render_issue(digest, "https://ship.example")
    for text in (
        content.subject,
        content.body_html,
        content.text,
        mail_html(content, "https://ship.example", None),
        mail_text(content, "https://ship.example", None),
        digest.model_dump_json(),
    ):
        assert not leaks(text), leaks(text)


def test_the_admin_area_and_api_show_the_full_audit(client: TestClient) -> None:
    assert client.get("/api/v1/admin/tools/alpha/reviews").status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    data = client.get("/api/v1/admin/tools/alpha/reviews", headers=auth).json()
    assert data["count"] == 3 and data["reviews"][0]["status"] == "failed"
    failed = data["reviews"][0]
    assert failed["model"] == SPEC and failed["error"] == ERROR
    ok = data["reviews"][-1]
    assert ok["model"] == SPEC and ok["prompt_version"] == "review-v3"
    assert (ok["input_tokens"], ok["output_tokens"], ok["latency_ms"]) == (1200, 340, 4321)
    form = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    login = {"csrf": csrf.group(1), "token": TOKEN, "next": "/admin/tools"}
    assert client.post("/admin/login", data=login, follow_redirects=False).status_code == 303
    assert 'href="/admin/tools/alpha/reviews"' in client.get("/admin/tools").text
    html = client.get("/admin/tools/alpha/reviews").text
    assert SPEC in html and "sk-live-SECRET42" in html and "review-v3" in html
    assert "4.3 s" in html and "1200 / 340" in html
    assert client.get("/admin/tools/nothing/reviews").status_code == 404


def test_the_cli_shows_the_full_spec(seeded: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "show", "alpha", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_critic = {r["critic"]: r for r in data["reviews"]}
    assert by_critic["builder"]["model"] == SPEC
    assert by_critic["skeptic"]["error"] == ERROR and by_critic["skeptic"]["status"] == "failed"
    assert main(["tools", "show", "alpha"]) == 0
    out = capsys.readouterr().out
    assert f"builder    ok     ship 80  {SPEC}  (prompt review-v3 · 1200/340 tokens" in out
    assert f"error: {ERROR}" in out


def test_the_real_server_shows_labels_and_hides_internals(seeded: Runtime) -> None:
    data_dir = Path(seeded.settings.data_dir)
    with LiveServer(data_dir, settings={"admin_token": TOKEN}) as server:
        for path in PAGES + API:
            response = httpx.get(server.url(path), timeout=30)
            assert_whole(response)
            assert response.status_code < 500, path
            assert not leaks(response.text), (path, leaks(response.text))
        tool = httpx.get(server.url("/tools/alpha"), timeout=30).text
        assert f"Written by {LABEL}" in tool and FAILURE.replace("'", "&#39;") in tool
        auth = {"Authorization": f"Bearer {TOKEN}"}
        audit = httpx.get(server.url("/api/v1/admin/tools/alpha/reviews"), headers=auth).json()
        assert audit["reviews"][0]["model"] == SPEC and audit["reviews"][0]["error"] == ERROR

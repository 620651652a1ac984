"""The digest of a week, computed from the append-only review history (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from shiporskip.errors import UserError
from shiporskip.newsletter.digest import build_digest
from shiporskip.newsletter.render import mail_html, mail_text, render_issue
from shiporskip.newsletter.weeks import parse_week
from shiporskip.runtime import Runtime
from tests.newsletter.helpers import add_tool, vote

NOW = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)
W44 = datetime(2026, 10, 28, 9, 0, tzinfo=UTC)
W45 = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)
W46 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)  # the week under test: 9-15 November
W47 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


@pytest.fixture
def week46(runtime: Runtime) -> Runtime:
    alpha = add_tool(runtime, "Alpha")
    vote(runtime, alpha, "SSSSSKK", W46, scores=[90, 80, 75, 70, 65, 20, 35])
    beta = add_tool(runtime, "Beta")
    vote(runtime, beta, "SSSKKKK", W44)
    vote(runtime, beta, "...S", W46)  # the buyer changes its mind: Skip 3-4 becomes Ship 4-3
    steady = add_tool(runtime, "Steady")
    vote(runtime, steady, "SSSSSSS", W45)
    later = add_tool(runtime, "Later")
    vote(runtime, later, "KKKKKKK", W47)
    add_tool(runtime, "Unreviewed")
    return runtime


def test_the_week_has_new_verdicts_splits_changes_comparisons_and_a_tool_to_watch(
    week46: Runtime,
) -> None:
    digest = build_digest(week46, parse_week("2026-W46"), NOW)
    assert digest.week == "2026-W46" and digest.label == "9–15 November 2026"
    assert not digest.in_progress and not digest.sample and not digest.empty
    assert [(t.name, t.verdict_label, t.tally) for t in digest.new_verdicts] == [
        ("Alpha", "Ship", "5-2")
    ]
    assert digest.new_verdicts[0].url == "http://127.0.0.1:8000/tools/alpha"
    assert [(c.tool.name, c.before, c.tool.tally) for c in digest.changes] == [
        ("Beta", "Skip 3-4", "4-3")
    ]
    assert [t.name for t in digest.splits] == ["Beta"]
    assert digest.watch is not None and digest.watch.tool.name == "Alpha"
    assert digest.watch.reason.startswith("Scores run from 20 (Uma User) to 90 (Bea Builder)")
    urls = [c.url for c in digest.comparisons]
    assert "http://127.0.0.1:8000/compare/alpha-vs-beta" in urls
    assert digest.subject == "Ship or Skip 2026-W46: 1 new verdict: Alpha"
    assert digest.summary == "1 new verdict · 1 split · 1 verdict change · 3 new comparisons"


def test_a_past_week_is_the_same_whenever_it_is_built(week46: Runtime) -> None:
    before = build_digest(week46, parse_week("2026-W46"), NOW)
    vote(week46, "alpha", "KKKKKKK", W47)  # later re-reviews do not rewrite history
    after = build_digest(week46, parse_week("2026-W46"), NOW)
    assert before.new_verdicts == after.new_verdicts and before.changes == after.changes


def test_other_weeks(week46: Runtime) -> None:
    w47 = build_digest(week46, parse_week("2026-W47"), NOW)
    assert w47.in_progress and [t.name for t in w47.new_verdicts] == ["Later"]
    quiet = build_digest(week46, parse_week("2026-W40"), NOW)
    assert quiet.empty and quiet.watch is None
    with pytest.raises(UserError, match="week 2026-W48 has not started yet"):
        build_digest(week46, parse_week("2026-W48"), NOW)


def test_sample_content_is_labelled(runtime: Runtime) -> None:
    slug = add_tool(runtime, "Sampled", sample=True)
    vote(runtime, slug, "SSSSKKK", W46, sample=True)
    digest = build_digest(runtime, parse_week("2026-W46"), NOW)
    assert digest.sample and digest.new_verdicts[0].sample
    assert digest.subject.startswith("[Sample] ")
    content = render_issue(digest, "https://v.example")
    assert "Sample data" in content.body_html and "[sample data]" in content.text


def test_the_mail_renders_with_inline_css_and_no_external_resources(week46: Runtime) -> None:
    base = week46.settings.base_url
    digest = build_digest(week46, parse_week("2026-W46"), NOW)
    content = render_issue(digest, base)
    html = mail_html(content, base, f"{base}/newsletter/unsubscribe?t=1")
    for section in ("New verdicts", "Tool to watch", "Biggest splits", "Verdict changes"):
        assert section in html and section.upper() in content.text
    assert "<img" not in html and "<link" not in html and "<style" not in html
    assert "<script" not in html
    assert 'role="presentation"' in html
    links = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert links and all(u.startswith(base + "/") for u in links)
    assert f'href="{base}/compare/alpha-vs-beta"' in html
    text = mail_text(content, base, f"{base}/newsletter/unsubscribe?t=1")
    assert f"Unsubscribe in one click: {base}/newsletter/unsubscribe?t=1" in text
    assert f"{base}/tools/alpha" in text


def test_maker_text_is_escaped_in_the_html(runtime: Runtime) -> None:
    slug = add_tool(runtime, "Evil", tagline="<script>alert(1)</script> & more")
    vote(runtime, slug, "SSSSKKK", W46)
    content = render_issue(build_digest(runtime, parse_week("2026-W46"), NOW), "https://v.example")
    assert "<script>" not in content.body_html and "&lt;script&gt;" in content.body_html

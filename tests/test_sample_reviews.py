"""The bundled sample reviews: real content out of the box, labelled, calibrated."""

from collections import Counter

from fastapi.testclient import TestClient

from shiporskip.panel.critics import load_critics
from shiporskip.runtime import Runtime
from shiporskip.sample_data import (
    SAMPLE_PROVIDER,
    load_samples_if_empty,
    read_sample_reviews,
    sample_review_files,
)
from shiporskip.web.app import create_app
from tests.test_sample_catalog import SEED_COMPETITORS, SEED_TOOLS


def test_sample_reviews_cover_the_seed_tools_with_all_seven_critics() -> None:
    critics = {c.id: c for c in load_critics()}
    samples = [read_sample_reviews(p) for p in sample_review_files()]
    slugs = {s.tool_slug for s in samples}
    assert len(samples) >= 10
    assert slugs >= SEED_TOOLS
    assert len(slugs & SEED_COMPETITORS) >= 7
    for sample in samples:
        assert set(sample.reviews) == set(critics), sample.tool_slug
        for critic_id, draft in sample.reviews.items():
            assert draft.quality_notes(wants_prediction=critics[critic_id].prediction) == [], (
                sample.tool_slug,
                critic_id,
            )


def test_no_critic_ships_or_skips_everything() -> None:
    verdicts: Counter[tuple[str, str]] = Counter()
    panels = Counter()
    for path in sample_review_files():
        sample = read_sample_reviews(path)
        ships = 0
        for critic_id, draft in sample.reviews.items():
            verdicts[(critic_id, draft.verdict.value)] += 1
            ships += draft.verdict.value == "ship"
        panels["ship" if ships > 3 else "skip"] += 1
    for critic in load_critics():
        assert verdicts[(critic.id, "ship")] and verdicts[(critic.id, "skip")], critic.id
    assert panels["ship"] and panels["skip"]


def test_samples_load_once_and_show_as_sample_content(sqlite_runtime: Runtime) -> None:
    tools, reviews = load_samples_if_empty(sqlite_runtime)
    assert tools >= 30 and reviews == 7 * len(sample_review_files())
    assert load_samples_if_empty(sqlite_runtime) == (0, 0)
    current, failed = sqlite_runtime.reviews.current("smolvlm2-2b")
    assert len(current) == 7 and not failed
    assert all(r.is_sample and r.provider == SAMPLE_PROVIDER for r in current.values())
    with TestClient(create_app(sqlite_runtime)) as client:
        page = client.get("/api/v1/tools/smolvlm2-2b").json()
        html = client.get("/tools/smolvlm2-2b").text
    assert page["panel"]["status"] == "7 of 7 critics reported"
    assert len(page["reviews"]) == 7 and all(r["sample"] for r in page["reviews"])
    assert html.count("Sample review written by the shiporskip team") == 7
    # The date a sample review carries is when this site loaded it, and says so: the
    # sample was written long before (its prices were checked in 2025).
    assert html.count("Sample review written by the shiporskip team, added to this site on") == 7
    assert "Sample review written by the shiporskip team on" not in html
    assert page["panel"]["tally"] in html and page["panel"]["verdict_label"] in html

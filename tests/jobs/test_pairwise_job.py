"""The daily review asks the pairwise picks for the comparisons it publishes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shiporskip.comparisons import comparisons_for
from shiporskip.errors import UserError
from shiporskip.jobs.tasks import pick_comparisons
from shiporskip.runtime import open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from tests.llm.fault_server import FaultServer, serve


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


def test_the_job_picks_on_each_published_comparison_and_retries_failures(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPORSKIP_MODEL", f"openai-compatible:scripted@{server.base_url}")
    monkeypatch.setenv("SHIPORSKIP_LLM_RETRIES", "0")
    rt = open_runtime(load_settings())
    try:
        load_samples_if_empty(rt)
        pairs = comparisons_for(rt, rt.catalog.get("cursor"))
        assert pairs, "the sample has reviewed competitors of Cursor"
        server.set(("ok", "not JSON at all"))
        with pytest.raises(UserError, match="pairwise picks failed"):
            pick_comparisons(rt, "cursor")
        server.set(("ok", json.dumps({"pick": "B", "reason": "Second is better."})))
        message = pick_comparisons(rt, "cursor")
        assert (
            message
            == f"pairwise picks on {len(pairs)} comparisons ({7 * len(pairs)} critics asked)"
        )
        for a, b in pairs:
            current = rt.pairwise.current(a, b)
            assert len(current) == 7 and all(r.ok for r in current.values())
        again = pick_comparisons(rt, "cursor")
        assert again.endswith("(0 critics asked)"), "stored picks are not asked again"
    finally:
        rt.close()

"""The bundled sample catalog: real tools, valid, labelled as sample data."""

from decimal import Decimal

from shiporskip import catalog as catalog_files
from shiporskip.domain.categories import BY_SLUG
from shiporskip.domain.pricing import Unit, plan_cost
from shiporskip.runtime import Runtime

SEED_TOOLS = {"smolvlm2-2b", "perplexity-sonar-pro", "claude-sonnet-4"}
SEED_COMPETITORS = {
    "moondream2",
    "paligemma",
    "qwen2-vl-2b",
    "mobilevlm",
    "gpt-4o",
    "gemini-1-5-pro",
    "azure-openai-bing-grounding",
    "gemini-google-search-grounding",
    "internvl2-8b",
    "qwen2-vl-7b",
}


def test_sample_catalog_is_valid_real_and_labelled() -> None:
    tools = catalog_files.sample_tools()
    slugs = {t.slug for t in tools}
    assert len(tools) >= 30
    assert slugs >= SEED_TOOLS | SEED_COMPETITORS
    assert all(t.sample for t in tools), "every sample record is flagged as sample data"
    assert all(t.pricing.source and t.pricing.checked for t in tools), "prices need a source"
    assert {t.category for t in tools} <= set(BY_SLUG)
    assert len({t.category for t in tools}) >= 6


def test_seed_names_resolve_to_one_record_each() -> None:
    tools = {t.slug: t for t in catalog_files.sample_tools()}
    assert "Claude 4 Sonnet" in tools["claude-sonnet-4"].aliases
    assert "SmolVLM2" in tools["smolvlm2-2b"].aliases


def test_sonar_pro_request_fee_matches_the_seed_arithmetic() -> None:
    sonar = next(t for t in catalog_files.sample_tools() if t.slug == "perplexity-sonar-pro")
    costs = [plan_cost(p, {Unit.request: Decimal(50_000)}) for p in sonar.pricing.plans]
    request_fees = [
        c.amount * 50_000 / c.per
        for p in sonar.pricing.plans
        for c in p.charges
        if c.unit is Unit.request
    ]
    assert Decimal(250) in request_fees
    assert any(c.cost is not None for c in costs)


def test_sample_loads_only_into_an_empty_database(sqlite_runtime: Runtime) -> None:
    added = catalog_files.load_sample_if_empty(sqlite_runtime.catalog)
    assert added == sqlite_runtime.catalog.count() >= 30
    assert catalog_files.load_sample_if_empty(sqlite_runtime.catalog) == 0

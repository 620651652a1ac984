"""The bundled sample content: catalog and panel reviews, loaded into an empty database.

Sample reviews were written by the shiporskip team to show how the panel reads before an
operator connects a model. They are stored like any review, with provider "sample", and
flagged `is_sample` so every page labels them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from shiporskip import catalog as catalog_files
from shiporskip.domain.reviews import ReviewDraft, ReviewRecord
from shiporskip.errors import UserError
from shiporskip.runtime import Runtime

SAMPLE_PROVIDER = "sample"
SAMPLE_MODEL = "sample:written-by-the-shiporskip-team"


@dataclass(frozen=True, slots=True)
class SampleReviews:
    tool_slug: str
    reviews: dict[str, ReviewDraft]


def sample_review_files() -> list[Path]:
    root = resources.files("shiporskip.sample").joinpath("reviews")
    with resources.as_file(root) as path:
        return sorted(Path(path).glob("*.yaml"))


def read_sample_reviews(path: Path) -> SampleReviews:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    drafts: dict[str, ReviewDraft] = {}
    try:
        for entry in data["reviews"]:
            entry = dict(entry)
            critic = entry.pop("critic")
            drafts[critic] = ReviewDraft.model_validate(entry)
    except (KeyError, TypeError, ValidationError) as exc:
        raise UserError(f"sample reviews {path.name} are invalid: {exc}") from None
    return SampleReviews(tool_slug=data["tool"], reviews=drafts)


def load_sample_reviews(runtime: Runtime) -> int:
    """Store the bundled sample reviews for the sample tools present; return how many."""
    critics = {c.id: c for c in runtime.critics()}
    rows = []
    for path in sample_review_files():
        sample = read_sample_reviews(path)
        tool = runtime.catalog.find(sample.tool_slug)
        if tool is None or not tool.sample:
            continue
        tool_id = runtime.catalog.tool_id(tool.slug)
        for critic_id, draft in sample.reviews.items():
            critic = critics.get(critic_id)
            if critic is None:
                continue  # an operator retired or replaced this critic
            record = ReviewRecord(
                tool_slug=tool.slug,
                critic_id=critic_id,
                status="ok",
                draft=draft,
                provider=SAMPLE_PROVIDER,
                model=SAMPLE_MODEL,
                prompt_version="sample",
                input_hash=f"sample:{tool.slug}:{critic_id}",
                params={},
                raw_output=None,
                notes=tuple(draft.quality_notes(wants_prediction=critic.prediction)),
                attempts=0,
                is_sample=True,
            )
            rows.append((record, tool_id))
    runtime.reviews.add_many(rows)
    return len(rows)


def load_samples_if_empty(runtime: Runtime) -> tuple[int, int]:
    """Load the sample catalog and its reviews into an empty database."""
    tools = catalog_files.load_sample_if_empty(runtime.catalog)
    reviews = load_sample_reviews(runtime) if tools else 0
    return tools, reviews


def load_sample_into_empty(runtime: Runtime) -> tuple[int, int]:
    """Load the sample on request: (0, 0) when it is already there; refused over other tools."""
    if not runtime.catalog.count():
        return load_samples_if_empty(runtime)
    own = [tool.slug for tool in runtime.catalog.list() if not tool.sample]
    if own:
        raise UserError(
            f"the database already holds {len(own)} tools of its own (e.g. {own[0]}), so the "
            "sample is not mixed in; load it into an empty database, e.g. with "
            "--data-dir /tmp/shiporskip-sample"
        )
    return 0, 0

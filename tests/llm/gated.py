"""What a panel run on a real model left in the database, held to the quality gate.

Shared by the tiny-model tests and the SmolLM2 tests: every attempt a run stored either
passes the gate or is a failed attempt that says why, with the model's raw answers kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shiporskip.domain.quality import MIN_BODY_WORDS, RULES_BY_ID, check, words
from shiporskip.domain.reviews import SHIP_MIN_SCORE, ReviewRecord, Verdict
from shiporskip.panel.prompting import build_prompt
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings

REPAIR_SEPARATOR = "\n--- repair ---\n"


@dataclass(frozen=True, slots=True)
class Outcome:
    passed: list[ReviewRecord]
    failed: list[ReviewRecord]

    @property
    def errors(self) -> list[str]:
        return [r.error or "" for r in self.failed]


def stored_attempts(slug: str, provider: str) -> list[ReviewRecord]:
    """Every attempt this provider left for the tool, from the data dir the CLI used."""
    runtime = open_runtime(load_settings())
    try:
        return [r for r in runtime.reviews.history(slug) if r.provider == provider]
    finally:
        runtime.close()


def check_attempts(slug: str, provider: str) -> Outcome:
    """Each attempt passed the gate (checked again, and rule by rule by hand) or failed
    with its reason and its raw answers."""
    runtime = open_runtime(load_settings())
    try:
        tool = runtime.catalog.get(slug)
        critics = {c.id: c for c in runtime.critics()}
    finally:
        runtime.close()
    passed, failed = [], []
    for record in stored_attempts(slug, provider):
        if record.ok:
            draft = record.draft
            assert draft is not None and record.error is None
            prompt = build_prompt(tool, critics[record.critic_id], today=record.created_at.date())
            assert check(draft, tool=tool, prompt=prompt) == [], record.critic_id
            # The junk a small model once got published, checked without the gate's code:
            text = " ".join([draft.body, draft.one_liner, *draft.competitors])
            assert "maker-text" not in text and "⟦" not in text, record.critic_id
            assert len(draft.body.split()) >= MIN_BODY_WORDS, record.critic_id
            assert (draft.verdict is Verdict.ship) == (draft.score >= SHIP_MIN_SCORE)
            line = " ".join(words(draft.one_liner))
            assert line and line != " ".join(words(draft.body)), record.critic_id
            for maker in (tool.tagline, tool.description):
                assert line not in " ".join(words(maker)), record.critic_id
            passed.append(record)
            continue
        assert record.status == "failed" and record.draft is None
        error = record.error or ""
        assert error, f"{record.critic_id} failed without a reason"
        if error.startswith("quality gate: "):
            rules = re.findall(r"(?:^quality gate: |; )([a-z-]+): ", error)
            assert rules and set(rules) <= set(RULES_BY_ID), error
        if error.startswith(("quality gate: ", "invalid output")):
            assert record.attempts >= 2
            assert (record.raw_output or "").count(REPAIR_SEPARATOR) == 1, "both answers kept"
        failed.append(record)
    return Outcome(passed, failed)

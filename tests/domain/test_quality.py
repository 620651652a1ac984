"""The quality gate: each hard rule passes a good answer and fails the junk a small model wrote."""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any

import pytest
import yaml

from shiporskip.domain.quality import (
    COPIED_RUN_WORDS,
    GATE_RULES,
    MIN_BODY_WORDS,
    RULES_BY_ID,
    GateFailure,
    check,
    describe,
    words,
)
from shiporskip.domain.reviews import SHIP_MIN_SCORE, ReviewDraft
from shiporskip.domain.tools import Tool
from shiporskip.panel.critics import Critic, load_critics
from shiporskip.panel.prompting import Prompt, build_prompt
from shiporskip.sample_data import read_sample_reviews, sample_review_files
from tests.factories import make_tool

TAGLINE = "The AI code editor for teams"
DESCRIPTION = (
    "Quill is an editor built to make you extraordinarily productive, with agents that "
    "write, edit and review code across your whole repository while you keep control."
)
GOOD_BODY = (
    "The primitive is an editor fork that owns the whole loop from completion to agent run, "
    "and the bet is that owning the editor beats shipping a plugin. The moment of truth comes "
    "on the second day, when the agent edits six files for one change and the diff view has "
    "to make that reviewable in under a minute. It mostly does, and the rules file keeps "
    "house conventions in the prompt without ceremony. The decision that earns the verdict: "
    "usage pricing is visible before a run starts, so a team lead can cap spend. Weak spots "
    "are large monorepos and indexing time."
)
GOOD: dict[str, Any] = {
    "verdict": "ship",
    "score": 72,
    "one_liner": "An editor that earns its seat if you cap the agent spend.",
    "body": GOOD_BODY,
    "competitors": ["GitHub Copilot", "Windsurf"],
}


@pytest.fixture(scope="module")
def tool() -> Tool:
    return make_tool(
        "Quill",
        aliases=["Quill Editor"],
        tagline=TAGLINE,
        description=DESCRIPTION,
        pricing={
            "entry": "paid",
            "plans": [
                {
                    "name": "API",
                    "charges": [
                        {"amount": 3, "unit": "input_token", "per": 1_000_000},
                        {"amount": 15, "unit": "output_token", "per": 1_000_000},
                        {"amount": 5, "unit": "request", "per": 1000},
                    ],
                }
            ],
            "note": "Usage beyond the included requests is billed at the model provider's "
            "list prices, with no markup and no minimum commitment.",
        },
    )


@pytest.fixture(scope="module")
def builder() -> Critic:
    return next(c for c in load_critics() if c.id == "builder")


@pytest.fixture(scope="module")
def prompt(tool: Tool, builder: Critic) -> Prompt:
    return build_prompt(tool, builder, today=date(2026, 12, 4))


def draft(**changes: Any) -> ReviewDraft:
    return ReviewDraft.model_validate({**GOOD, **changes})


def failures(tool: Tool, prompt: Prompt, **changes: Any) -> list[str]:
    return [str(f) for f in check(draft(**changes), tool=tool, prompt=prompt)]


def rules(tool: Tool, prompt: Prompt, **changes: Any) -> list[str]:
    return [f.rule for f in check(draft(**changes), tool=tool, prompt=prompt)]


def test_a_good_review_passes(tool: Tool, prompt: Prompt) -> None:
    assert failures(tool, prompt) == []


def test_the_rules_are_data_with_unique_ids_and_one_sentence_each() -> None:
    ids = [r.id for r in GATE_RULES]
    assert len(ids) == len(set(ids)) == 7
    assert set(RULES_BY_ID) == set(ids)
    for rule in GATE_RULES:
        assert rule.sentence.endswith(".") and rule.sentence.count(". ") == 0, rule.id
    assert str(MIN_BODY_WORDS) in RULES_BY_ID["body-length"].sentence
    assert str(COPIED_RUN_WORDS) in RULES_BY_ID["prompt-echo"].sentence
    assert str(SHIP_MIN_SCORE) in RULES_BY_ID["verdict-score"].sentence


def test_the_prompt_states_the_ship_rule_the_gate_applies(prompt: Prompt) -> None:
    assert f'Verdict "ship" needs a score of {SHIP_MIN_SCORE} or more' in prompt.system
    assert f'"skip" a score below {SHIP_MIN_SCORE}' in prompt.system


def test_body_below_the_minimum_fails_with_its_count(tool: Tool, prompt: Prompt) -> None:
    body = " ".join(GOOD_BODY.split()[:MIN_BODY_WORDS])
    assert failures(tool, prompt, body=body) == []
    short = " ".join(GOOD_BODY.split()[: MIN_BODY_WORDS - 1])
    assert failures(tool, prompt, body=short) == [
        "body-length: the body has 49 words, below the minimum of 50"
    ]
    assert failures(tool, prompt, body="Great tool, ship.") == [
        "body-length: the body has 3 words, below the minimum of 50"
    ]


def test_the_fence_marker_fails_anywhere_in_the_answer(tool: Tool, prompt: Prompt) -> None:
    assert f"{prompt.fence.open_tag} field=tagline" in prompt.user
    marker = f"{prompt.fence.close_tag} field=tagline"  # what SmolLM2 wrote as a body
    assert failures(tool, prompt, body=marker) == [
        "body-length: the body has 3 words, below the minimum of 50",
        "fence-marker: the body contains the fence marker of the maker's text "
        "(⟦maker-text …⟧), which is never part of a review",
    ]
    assert rules(tool, prompt, body=GOOD_BODY + " " + prompt.fence.open_tag) == ["fence-marker"]
    assert rules(tool, prompt, one_liner="[maker-text] says it all", competitors=["⟦x⟧"]) == [
        "fence-marker"
    ]


def test_echoing_the_instructions_fails(tool: Tool, prompt: Prompt) -> None:
    instruction = "Judge only from the facts given and what you reliably know. Say when you are"
    assert instruction in prompt.system.replace("\n", " ") or instruction in " ".join(
        prompt.system.split()
    )
    assert len(instruction.split()) == COPIED_RUN_WORDS + 3
    assert failures(tool, prompt, body=f"{GOOD_BODY} {instruction}") == [
        "prompt-echo: the body repeats 15 consecutive words of the instructions, "
        "where 11 is the most allowed"
    ]
    shorter = " ".join(instruction.split()[: COPIED_RUN_WORDS - 1])
    assert failures(tool, prompt, body=f"{GOOD_BODY} {shorter}") == []


def test_echoing_the_user_message_fails_but_quoting_a_price_passes(
    tool: Tool, prompt: Prompt
) -> None:
    echoed = " ".join(prompt.user.split()[:20])  # "Review this tool. Today is … Name: Quill …"
    assert rules(tool, prompt, body=f"{GOOD_BODY} {echoed}") == ["prompt-echo"]
    price = tool.pricing.plans[0].describe()
    assert len(words(price)) > COPIED_RUN_WORDS, price
    assert failures(tool, prompt, body=f"{GOOD_BODY} The API costs {price}.") == []


def test_copying_the_makers_text_fails(tool: Tool, prompt: Prompt) -> None:
    copied = " ".join(DESCRIPTION.split()[2:16])
    assert failures(tool, prompt, body=f"{GOOD_BODY} {copied}") == [
        "maker-copy: the body copies 14 consecutive words of the maker's description, "
        "where 11 is the most allowed"
    ]
    quoted = " ".join(DESCRIPTION.split()[2 : 2 + COPIED_RUN_WORDS - 1])
    assert failures(tool, prompt, body=f"{GOOD_BODY} The maker says {quoted}.") == []
    note = tool.pricing.note or ""
    assert rules(tool, prompt, body=f"{GOOD_BODY} {note}") == ["maker-copy"]


@pytest.mark.parametrize(
    ("one_liner", "reason"),
    [
        ("...", "the one-liner has no words, and needs a take of its own"),
        ("Quill!", "the one-liner has only the tool's name, and needs a take of its own"),
        ("Quill Editor", "the one-liner has only the tool's name, and needs a take of its own"),
        (TAGLINE, "the one-liner's 6 words are copied from the maker's tagline"),
        (
            "Quill: the AI code editor",
            "the one-liner's 5 words are copied from the maker's tagline",
        ),
        (
            "agents that write, edit and review code",
            "the one-liner's 7 words are copied from the maker's description",
        ),
        (
            "The moment of truth comes on the second day",
            "the one-liner's 9 words are copied from the body, and need to be a take of their own",
        ),
    ],
)
def test_an_empty_or_copied_one_liner_fails(
    tool: Tool, prompt: Prompt, one_liner: str, reason: str
) -> None:
    assert failures(tool, prompt, one_liner=one_liner) == [f"one-liner: {reason}"]


def test_a_one_liner_of_its_own_passes(tool: Tool, prompt: Prompt) -> None:
    for line in ("Ship it.", "Quill earns its seat; cap the agent spend.", "Too early, skip."):
        assert rules(tool, prompt, one_liner=line, verdict="ship", score=60) == [], line


@pytest.mark.parametrize(
    ("verdict", "score", "ok"),
    [
        ("ship", 50, True),
        ("ship", 49, False),
        ("ship", 5, False),
        ("skip", 49, True),
        ("skip", 50, False),
        ("skip", 0, True),
        ("ship", 100, True),
    ],
)
def test_the_verdict_must_agree_with_the_score(
    tool: Tool, prompt: Prompt, verdict: str, score: int, ok: bool
) -> None:
    found = failures(tool, prompt, verdict=verdict, score=score)
    assert (found == []) is ok
    if not ok:
        needs = "a score of 50 or more" if verdict == "ship" else "a score below 50"
        assert found == [
            f"verdict-score: the verdict is {verdict} but the score is {score}, "
            f"and {verdict} needs {needs}"
        ]


@pytest.mark.parametrize(
    ("competitors", "reasons"),
    [
        (["GitHub Copilot", "github copilot"], ["competitors 1 and 2 name the same product"]),
        (["Windsurf", "Zed", "wind-surf "], ["competitors 1 and 3 name the same product"]),
        (["Quill"], ["competitor 1 is the tool itself, not a competitor"]),
        (["Zed", "quill editor"], ["competitor 2 is the tool itself, not a competitor"]),
        (["Zed", " "], ["competitor 2 has no name"]),
        (
            ["Quill", "Zed", "zed", "ZED", "", "-", "Quill Editor"],
            [
                "competitors 5 and 6 have no name",
                "competitors 1 and 7 name the tool itself, not a competitor",
                "competitors 3 and 4 repeat earlier ones, 2 duplicates in 7 names",
            ],
        ),
    ],
)
def test_duplicate_competitors_or_the_tool_itself_fail(
    tool: Tool, prompt: Prompt, competitors: list[str], reasons: list[str]
) -> None:
    assert failures(tool, prompt, competitors=competitors) == [f"competitors: {r}" for r in reasons]


def test_distinct_competitors_pass(tool: Tool, prompt: Prompt) -> None:
    assert failures(tool, prompt, competitors=["GitHub Copilot", "Copilot Workspace", "Zed"]) == []
    assert failures(tool, prompt, competitors=[]) == []


def test_the_junk_smollm2_published_fails_every_time(tool: Tool, prompt: Prompt) -> None:
    """What SmolLM2-135M-Instruct got stored as a 'Ship 7-0' panel, rule by rule."""
    marker = f"{prompt.fence.close_tag} field=tagline"
    junk = [
        {"body": marker, "one_liner": TAGLINE},
        {"body": marker, "one_liner": "Quill"},
        {"body": "It is good.", "one_liner": TAGLINE, "score": 5},
        {"body": " ".join(GOOD_BODY.split()[:40]), "one_liner": "Quill: " + TAGLINE},
        {"body": GOOD_BODY, "verdict": "ship", "score": 5},
        {"body": f"{DESCRIPTION} {GOOD_BODY}", "one_liner": TAGLINE.lower()},
        {"body": GOOD_BODY, "competitors": ["Quill", "Copilot", "copilot"]},
    ]
    for answer in junk:
        assert check(draft(**answer), tool=tool, prompt=prompt), answer


def test_failures_read_as_one_line() -> None:
    found = [GateFailure("body-length", "the body has 3 words"), GateFailure("a", "b")]
    assert describe(found) == "body-length: the body has 3 words; a: b"
    assert describe([]) == ""


def test_the_bundled_sample_reviews_pass_the_gate() -> None:
    """The gate must not refuse good writing: every hand-written sample review passes."""
    critics = {c.id: c for c in load_critics()}
    text = resources.files("shiporskip.sample").joinpath("catalog.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    entries = data if isinstance(data, list) else data["tools"]
    tools = {t.slug: t for t in (Tool.model_validate(e) for e in entries)}
    checked = 0
    for path in sample_review_files():
        sample = read_sample_reviews(path)
        tool = tools[sample.tool_slug]
        for critic_id, review in sample.reviews.items():
            prompt = build_prompt(tool, critics[critic_id], today=date(2026, 12, 4))
            assert check(review, tool=tool, prompt=prompt) == [], (tool.slug, critic_id)
            checked += 1
    assert checked >= 70

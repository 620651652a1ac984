"""The quality gate: hard checks that turn a schema-valid answer into a failed attempt.

A small model can fill the review schema with junk: a body of three words, the fence marker
around the maker's text, the tagline as its one-line take, a Ship verdict with a score of 5.
Such an answer parses, so the schema cannot stop it; these checks do. The rules are data
(`GATE_RULES`): the panel names a broken rule in its repair request and in the stored
error, and `/methodology` publishes the same sentences. Softer problems (a body shorter
than asked but above the minimum) stay notes on a published review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from shiporskip.domain.reviews import SHIP_MIN_SCORE, ReviewDraft, Verdict
from shiporskip.domain.text import name_key
from shiporskip.domain.tools import Tool
from shiporskip.domain.untrusted import clean

MIN_BODY_WORDS = 50
# A run this long is copied, not a coincidence; shorter quotes (a plan's price, a claim of a
# few words) are how a reviewer cites what it assesses.
COPIED_RUN_WORDS = 12

_FENCE_MARK = re.compile(r"maker-text|[⟦⟧]", re.I)
_WORD = re.compile(r"\w+(?:[.,']\w+)*")


@dataclass(frozen=True, slots=True)
class GateRule:
    """One published rule: a stable id and the sentence a reader sees."""

    id: str
    sentence: str


GATE_RULES: tuple[GateRule, ...] = (
    GateRule(
        "body-length",
        f"The review body has at least {MIN_BODY_WORDS} words.",
    ),
    GateRule(
        "fence-marker",
        "No part of the answer contains the markers that fence the maker's text in the "
        "prompt (⟦maker-text …⟧).",
    ),
    GateRule(
        "prompt-echo",
        f"No part of the answer repeats {COPIED_RUN_WORDS} or more consecutive words of "
        "the instructions the critic was given.",
    ),
    GateRule(
        "maker-copy",
        f"No part of the answer copies {COPIED_RUN_WORDS} or more consecutive words of "
        "the maker's own text (tagline, description, pricing notes).",
    ),
    GateRule(
        "one-liner",
        "The one-line take has words of its own: it is not empty, not the tool's name, not "
        "a piece of the maker's text and not a copy of words from the body.",
    ),
    GateRule(
        "verdict-score",
        f"The verdict agrees with the critic's own score: Ship needs a score of "
        f"{SHIP_MIN_SCORE} or more, Skip a score below {SHIP_MIN_SCORE}.",
    ),
    GateRule(
        "competitors",
        "Each named competitor is a different product (names compared ignoring case, "
        "spaces and punctuation), and none of them is the tool itself.",
    ),
)
RULES_BY_ID = {rule.id: rule for rule in GATE_RULES}


class PromptText(Protocol):
    """The messages a critic was sent (`panel.prompting.Prompt` is one)."""

    @property
    def system(self) -> str: ...

    @property
    def user(self) -> str: ...


@dataclass(frozen=True, slots=True)
class GateFailure:
    """One broken rule, said in one sentence with its numbers."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def describe(failures: Iterable[GateFailure]) -> str:
    """The failures as one line, for a repair request and a stored error."""
    return "; ".join(str(f) for f in failures)


def words(text: str) -> list[str]:
    """Lower-case words; a number such as 1,000.50 is one word."""
    return _WORD.findall(clean(text).lower())


def _runs(tokens: list[str], n: int) -> Iterator[tuple[str, ...]]:
    for i in range(len(tokens) - n + 1):
        yield tuple(tokens[i : i + n])


def _longest_copied_run(tokens: list[str], grams: set[tuple[str, ...]], n: int) -> int:
    """The longest stretch of `tokens` made of overlapping n-word runs found in `grams`."""
    best = run = 0
    for gram in _runs(tokens, n):
        run = run + 1 if gram in grams else 0
        if run:
            best = max(best, run + n - 1)
    return best


def _contains(haystack: list[str], needle: list[str]) -> bool:
    if not needle or len(needle) > len(haystack):
        return False
    first = needle[0]
    return any(
        haystack[i] == first and haystack[i : i + len(needle)] == needle
        for i in range(len(haystack) - len(needle) + 1)
    )


def _answer_fields(draft: ReviewDraft) -> dict[str, str]:
    fields = {"body": draft.body, "one-liner": draft.one_liner}
    if draft.prediction is not None:
        fields["prediction"] = draft.prediction.claim
    return fields


def _maker_fields(tool: Tool) -> dict[str, str]:
    return {k: v for k, v in tool.maker_text().items() if k != "name" and v}


def _fact_grams(tool: Tool, n: int) -> set[tuple[str, ...]]:
    """Runs a review may quote from the prompt: the catalog's own facts, such as a price."""
    facts = [tool.name, tool.vendor, *(plan.describe() for plan in tool.pricing.plans)]
    return {g for fact in facts for g in _runs(words(fact), n)}


def check(draft: ReviewDraft, *, tool: Tool, prompt: PromptText) -> list[GateFailure]:
    """Every hard rule this answer breaks (empty when it may be published)."""
    failures: list[GateFailure] = []
    n = COPIED_RUN_WORDS
    fields = _answer_fields(draft)
    tokens = {name: words(text) for name, text in fields.items()}

    body_words = len(draft.body.split())
    if body_words < MIN_BODY_WORDS:
        failures.append(
            GateFailure(
                "body-length",
                f"the body has {body_words} words, below the minimum of {MIN_BODY_WORDS}",
            )
        )

    texts = {**fields, **{f"competitor {i}": c for i, c in enumerate(draft.competitors, 1)}}
    marked = [name for name, text in texts.items() if _FENCE_MARK.search(text)]
    if marked:
        failures.append(
            GateFailure(
                "fence-marker",
                f"{' and '.join('the ' + m for m in marked)} "
                f"{'contains' if len(marked) == 1 else 'contain'} the fence marker of the "
                "maker's text (⟦maker-text …⟧), which is never part of a review",
            )
        )

    maker = {field: words(text) for field, text in _maker_fields(tool).items()}
    maker_grams = {field: set(_runs(toks, n)) for field, toks in maker.items()}
    all_maker = set().union(*maker_grams.values()) if maker_grams else set()
    prompt_grams = set(_runs(words(prompt.system), n)) | set(_runs(words(prompt.user), n))
    prompt_grams -= all_maker | _fact_grams(tool, n)
    for name, toks in tokens.items():
        echoed = _longest_copied_run(toks, prompt_grams, n)
        if echoed:
            failures.append(
                GateFailure(
                    "prompt-echo",
                    f"the {name} repeats {echoed} consecutive words of the instructions, "
                    f"where {n - 1} is the most allowed",
                )
            )
        for field, grams in maker_grams.items():
            copied = _longest_copied_run(toks, grams, n)
            if copied:
                failures.append(
                    GateFailure(
                        "maker-copy",
                        f"the {name} copies {copied} consecutive words of the maker's {field}, "
                        f"where {n - 1} is the most allowed",
                    )
                )

    failures.extend(_one_liner(draft, tool, tokens, maker))

    if (draft.verdict is Verdict.ship) != (draft.score >= SHIP_MIN_SCORE):
        needs = (
            f"a score of {SHIP_MIN_SCORE} or more"
            if draft.verdict is Verdict.ship
            else f"a score below {SHIP_MIN_SCORE}"
        )
        failures.append(
            GateFailure(
                "verdict-score",
                f"the verdict is {draft.verdict.value} but the score is {draft.score}, "
                f"and {draft.verdict.value} needs {needs}",
            )
        )

    failures.extend(_competitors(draft, tool))
    return failures


def _one_liner(
    draft: ReviewDraft,
    tool: Tool,
    tokens: dict[str, list[str]],
    maker: dict[str, list[str]],
) -> list[GateFailure]:
    line = tokens["one-liner"]
    names = {w for n in (tool.name, *tool.aliases) for w in words(n)}
    own = [w for w in line if w not in names]
    if not own:
        what = "no words" if not line else "only the tool's name"
        return [GateFailure("one-liner", f"the one-liner has {what}, and needs a take of its own")]
    for field, text in maker.items():
        if _contains(text, line) or _contains(text, own):
            return [
                GateFailure(
                    "one-liner",
                    f"the one-liner's {len(line)} words are copied from the maker's {field}",
                )
            ]
    if len(line) >= 3 and _contains(tokens["body"], line):
        return [
            GateFailure(
                "one-liner",
                f"the one-liner's {len(line)} words are copied from the body, "
                "and need to be a take of their own",
            )
        ]
    return []


def _numbers(items: list[int]) -> str:
    text = ", ".join(str(i) for i in items[:-1])
    return f"{text} and {items[-1]}" if text else str(items[-1])


def _competitors(draft: ReviewDraft, tool: Tool) -> list[GateFailure]:
    blank: list[int] = []
    itself: list[int] = []
    repeats: list[tuple[int, int]] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(draft.competitors, 1):
        key = name_key(name)
        if not key:
            blank.append(i)
        elif key in tool.name_keys:
            itself.append(i)
        elif key in seen:
            repeats.append((seen[key], i))
        else:
            seen[key] = i
    failures = []
    if blank:
        many = len(blank) > 1
        failures.append(
            GateFailure(
                "competitors",
                f"competitor{'s' if many else ''} {_numbers(blank)} "
                f"{'have' if many else 'has'} no name",
            )
        )
    if itself:
        many = len(itself) > 1
        failures.append(
            GateFailure(
                "competitors",
                f"competitor{'s' if many else ''} {_numbers(itself)} "
                f"{'name' if many else 'is'} the tool itself, not a competitor",
            )
        )
    if len(repeats) == 1:
        ((first, again),) = repeats
        failures.append(
            GateFailure("competitors", f"competitors {first} and {again} name the same product")
        )
    elif repeats:
        failures.append(
            GateFailure(
                "competitors",
                f"competitors {_numbers([again for _, again in repeats])} repeat earlier "
                f"ones, {len(repeats)} duplicates in {len(draft.competitors)} names",
            )
        )
    return failures

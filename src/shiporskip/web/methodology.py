"""The methodology page: the published rules behind every verdict, number and comparison."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from shiporskip.domain.compare import CONCLUSION_RULE
from shiporskip.domain.pairwise import PAIRWISE_RULE
from shiporskip.domain.quality import GATE_RULES
from shiporskip.domain.reviews import BODY_WORDS
from shiporskip.domain.stats import Proportion
from shiporskip.llm.labels import public_model_label
from shiporskip.runtime import Runtime
from shiporskip.sample_data import SAMPLE_PROVIDER
from shiporskip.storage.queries import ModelUsage, model_usage, tools_reviewed
from shiporskip.web.openapi import errors
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()

SAMPLE_LABEL = "sample: written by the shiporskip team"
# Flip when the community vote ships on the site; the votes section words itself from this.
VOTING_ENABLED = True
# The worked example on the page: five Ship votes out of seven.
EXAMPLE = Proportion(5, 7)


class Section(BaseModel):
    """One part of the page: paragraphs, then an optional ordered list of steps."""

    id: str
    title: str
    paragraphs: list[str]
    steps: list[str] = []


class MethodCritic(BaseModel):
    id: str
    name: str
    role: str
    motto: str
    lens: str
    url: str


class ModelRow(BaseModel):
    """Reviews by public model label (llm/labels.py): no server address, path or spec."""

    label: str
    sample: bool
    reviews: int
    failed: int
    tools: int
    critics: list[str]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cost_text: str


class MethodologyPage(Page):
    critics: list[MethodCritic]
    sections: list[Section]
    conclusion_rule: str
    community_voting_enabled: bool
    models: list[ModelRow]
    total_reviews: int
    total_failed: int
    swap_consistency: float | None


def conclusion_steps() -> tuple[str, list[str]]:
    """CONCLUSION_RULE split into its opening sentence and its numbered steps, verbatim."""
    parts = re.split(r"\s+(?=\d\.\s)", CONCLUSION_RULE.strip())
    return parts[0], [re.sub(r"^\d\.\s+", "", p) for p in parts[1:]]


def _panel(count: int) -> Section:
    low, high = BODY_WORDS
    return Section(
        id="panel",
        title="How the panel works",
        paragraphs=[
            f"Every tool is put to each of the {count} critics listed below. A critic is a "
            "language model given a single lens, and the lens is data, not code: a name, a "
            "motto, what the critic is looking for, what it is tired of seeing and the steps "
            "its review has to follow. The critics read the same facts about the tool and "
            "answer independently; none sees another's review.",
            "Each review has the same structure: a Ship or Skip verdict, a score from 0 to "
            f"100, a one-line take, a review of roughly {low} to {high} words, the "
            "competitors it names and, when its lens asks for one, a falsifiable prediction "
            "with a horizon in months.",
            "Every attempt is stored, failures included, with the provider and model that "
            "wrote it, the prompt version, token counts, cost and latency, so any verdict "
            "can be audited and asked again. The table at the end of this page counts them.",
        ],
    )


def _verdict() -> Section:
    return Section(
        id="verdict",
        title="The verdict and the tie rule",
        paragraphs=[
            "The panel verdict is decided by the critics who reported: Ship if there are "
            "more Ship votes than Skip votes, Skip if there are more Skip votes than Ship "
            "votes, and Split if the two are equal. The same rule applies on every page, in "
            "the API and in the command line.",
            "The tally is written Ship votes first: 5-2 means five Ship and two Skip. Panel "
            "ship % is the Ship votes divided by the reviews that reported, so 5-2 is "
            f"{EXAMPLE.percent()}. The score out of 10 is the mean of the critics' 0–100 "
            "scores, divided by ten.",
            "With an odd number of critics a complete panel always has a majority. A Split "
            "can only happen when a critic's call failed or an operator runs an even panel. "
            "A failed call is stored and shown, never hidden: the panel is marked incomplete, "
            "for example “6 of 7 critics reported (1 failed)”, and the verdict is taken "
            "over the critics who did report.",
            "A re-review that fails never hides behind an older one: the critic's earlier "
            "review still counts, and the panel says so, for example “7 of 7 critics "
            "reported — 1 from an earlier run”, with that review's date and model on its "
            "card. Sample reviews, written by the shiporskip team to show how the panel "
            "reads, count only in a panel made entirely of sample reviews; once any critic "
            "has reviewed a tool with a model, its sample reviews are set aside.",
            "Every change of a tool's panel is kept: its page lists the verdict history "
            "(for example “Ship 4-3 → Skip 3-4, re-review with …”), the API returns it "
            "at /api/v1/tools/SLUG/history, and the feed announces a verdict that flips.",
        ],
    )


def _predictions() -> Section:
    return Section(
        id="predictions",
        title="Predictions and the track record",
        paragraphs=[
            "Some critics end a review with a prediction: a claim that can be checked and a "
            "horizon in months. Each becomes an entry in the predictions ledger, due on the "
            "review's date plus its horizon; a claim the same critic repeats about the same "
            "tool keeps its first entry and due date, so a re-review cannot push it back. "
            "Sample claims count from June 2025, when the sample was written.",
            "An operator resolves a prediction as right, wrong or unclear with a link to the "
            "evidence, once. A critic's track record is the share of its resolved "
            "predictions that came true, with its 95% interval; unclear ones are left out. "
            "The whole ledger is public at /predictions.",
        ],
    )


def _intervals() -> Section:
    return Section(
        id="intervals",
        title="Percentages and 95% intervals",
        paragraphs=[
            "A percentage made of votes is always shown with the number of votes behind it "
            "and, where there is room, a 95% Wilson score interval: the range of underlying "
            "rates that fit what was observed. Seven critics are a small sample. "
            f"{EXAMPLE.k} Ship votes out of {EXAMPLE.n} is {EXAMPLE.percent()}, but the "
            f"interval is {EXAMPLE.interval_text().removeprefix('95% CI ')}.",
            "How it is computed, in words: let p be the observed share (for example Ship "
            "votes divided by votes), n the number of votes, and z = 1.96, the value for 95% "
            "confidence. Divide everything by the same correction, 1 plus z squared over n. "
            "The centre of the interval is p plus z squared over 2n, divided by that "
            "correction. Its half-width is z times the square root of p times (1 minus p) "
            "over n plus z squared over 4n squared, also divided by the correction. The "
            "interval runs from the centre minus the half-width to the centre plus the "
            "half-width, kept within 0% and 100%.",
            "The Wilson interval is used instead of the textbook p plus or minus 1.96 "
            "standard errors because it stays within 0–100% and stays honest for small "
            "counts and for rates near 0% or 100%, which is where a panel of seven lives.",
        ],
    )


def _calibration() -> Section:
    return Section(
        id="calibration",
        title="Critic ship rates, calibration and agreement",
        paragraphs=[
            "Each critic's page shows its ship rate: the share of the tools it reviewed that "
            "it shipped, with the same 95% interval. A critic that has shipped every one of "
            "at least five tools, or skipped every one, is flagged as uncalibrated, because "
            "a judge who never says no (or never says yes) tells a reader nothing.",
            "Agreement is the share of a critic's verdicts that match the panel verdict on "
            "the same tool. Split panels are left out. The critic's own vote is part of the "
            "majority it is compared with, so agreement runs somewhat high by construction; "
            "read it as a comparison between critics, not as an absolute.",
        ],
    )


def _compare() -> Section:
    opening, steps = conclusion_steps()
    return Section(
        id="compare",
        title="How a comparison is concluded",
        paragraphs=[
            "Each “A vs B” page ends with a conclusion reached by a fixed rule, "
            "published here word for word.",
            opening,
        ],
        steps=steps,
    )


def _pairwise(runtime: Runtime) -> tuple[Section, float | None]:
    measured = runtime.pairwise.swap_consistency()
    share = Proportion(measured.agreed, measured.answered)
    if measured.answered:
        pairs = "comparison" if measured.pairs == 1 else "comparisons"
        found = (
            f"Measured on this instance: {measured.agreed} of {measured.answered} critic "
            f"answers on {measured.pairs} {pairs} were the same in both orders, a swap "
            f"consistency of {share.percent()} ({share.interval_text()}), counted live from "
            "every stored pick."
        )
    else:
        found = "No pairwise picks have been made on this instance yet, so there is no measure."
    section = Section(
        id="pairwise",
        title="Pairwise picks and swap consistency",
        paragraphs=[PAIRWISE_RULE, found],
    )
    return section, share.value


def _quality_gate() -> Section:
    return Section(
        id="quality-gate",
        title="The quality gate",
        paragraphs=[
            "A critic's answer has to fit the review format, and that is not enough: a small "
            "model can fill every field with text that is no review at all. So each answer "
            "also passes a quality gate before it can be published. An answer that breaks a "
            "rule below goes back to the model once, with the broken rule named; if the "
            "second answer breaks a rule too, the attempt is stored as failed with its "
            "reasons and the panel shows that critic as failed. It never counts as a review. "
            "Smaller shortfalls, such as a review shorter than the length asked for but above "
            "the minimum, do not stop an answer; they are kept as notes for the operator.",
            "The rules, checked on every answer:",
        ],
        steps=[rule.sentence for rule in GATE_RULES],
    )


def _maker_text() -> Section:
    return Section(
        id="maker-text",
        title="How maker text is treated",
        paragraphs=[
            "A tool's tagline, description and pricing notes are written by its maker. The "
            "critics treat them as untrusted data, never as instructions.",
            "Before that text reaches a critic, characters that display as nothing or "
            "reorder what is displayed (zero-width and bidirectional controls), HTML "
            "comments and hidden HTML elements are removed, so nothing reaches the model "
            "that a human reader of the page would not see.",
            "What remains is fenced between delimiters that carry a random value, new for "
            "every call. Text written in advance cannot know that value, so it cannot close "
            "the fence early. The critics are told that fenced text is data and that an "
            "instruction found inside it counts against the tool.",
            "When a tool is added, its text is checked for attempts to instruct the critics. "
            "Such attempts are flagged, not hidden: the flag and the offending excerpt are "
            "shown on the tool page, in the API and to the operator. "
            "On this site every stored text is escaped when it is displayed; no maker markup "
            "is rendered.",
        ],
    )


def _votes(enabled: bool, minimum: int) -> Section:
    status = (
        "Community voting is enabled on this instance."
        if enabled
        else "Community voting is not yet enabled on this instance. Until it is, pages "
        "show “—” where the community percentage will appear."
    )
    return Section(
        id="votes",
        title="Community votes",
        paragraphs=[
            status,
            f"{'It follows' if enabled else 'When it is switched on, it will follow'} these "
            "published rules: one vote per voter per tool, Ship or Skip; a voter can change "
            "their vote, and only the latest one counts; the result is shown as a percentage "
            "with the number of votes and its 95% Wilson interval, computed as above. Below "
            f"{minimum} {'vote' if minimum == 1 else 'votes'} the page shows “—” with the "
            "count so far, because a percentage of a handful of votes is noise. Community "
            "votes are shown next to the panel verdict and are not mixed into it.",
            "Who is a voter: anyone, without an account. A visitor gets a random identity in "
            "a signed cookie; votes from the same cookie replace each other. Signing in with "
            "an email link marks the identity as verified, and pages count verified votes "
            "apart (e.g. “12 votes (5 verified)”).",
            "Abuse rules: every vote form carries a security token bound to the visitor, so "
            "another site cannot vote for you; a visitor and a network address may each cast "
            "only a limited number of votes per minute; forms filled in by robots are refused; "
            "every vote, change, withdrawal and refusal is kept in an audit log. Moderators "
            "can void all votes of one identity or of an address range; the counts are "
            "recomputed at once and those identities cannot vote again.",
            "When the community and the panel clearly disagree — the community's 95% interval "
            "lies entirely on the other side of 50% from the panel verdict — the page says so.",
        ],
    )


def _pricing() -> Section:
    return Section(
        id="pricing",
        title="Pricing",
        paragraphs=[
            "Prices are stored as structured plans, not prose. A plan has a currency, a "
            "billing period and one or more charges; each charge is an amount per number of "
            "units (requests, tokens, seats, images, minutes and so on), after an included "
            "quota and up to an optional limit. A free-text note is kept as well, never as "
            "the only data.",
            "That is what lets a page compute the cost of a plan at your monthly usage: "
            "the sum of its charges at that usage. For example, $5 per 1,000 requests at "
            "50,000 requests a month is $250. A comparison page costs both tools at the same "
            "usage when their units are comparable and says why not when they are not, "
            "instead of inventing a number.",
            "The entry tier (Free, Free tier + paid plans, Paid, Open source) is checked "
            "against the plans, so a tool cannot be labelled Paid while listing a free plan. "
            "Each price records its source and the date it was checked.",
        ],
    )


def _rows(runtime: Runtime) -> list[ModelRow]:
    """One row per public model label: the same model served from two addresses is one row."""
    groups: dict[str, list[ModelUsage]] = {}
    for usage in model_usage(runtime.engine):
        sample = usage.provider == SAMPLE_PROVIDER
        label = SAMPLE_LABEL if sample else public_model_label(usage.model, usage.provider)
        groups.setdefault(label, []).append(usage)
    rows = []
    for label, group in groups.items():
        sample = group[0].provider == SAMPLE_PROVIDER
        cost = sum(u.cost_usd for u in group)
        tools = (
            group[0].tools
            if len(group) == 1
            else tools_reviewed(runtime.engine, [(u.provider, u.model) for u in group])
        )
        rows.append(
            ModelRow(
                label=label,
                sample=sample,
                reviews=sum(u.ok for u in group),
                failed=sum(u.failed for u in group),
                tools=tools,
                critics=sorted({c for u in group for c in u.critics}),
                input_tokens=sum(u.input_tokens for u in group),
                output_tokens=sum(u.output_tokens for u in group),
                cost_usd=round(cost, 4),
                cost_text="—" if sample else f"${cost:,.2f}",
            )
        )
    return sorted(rows, key=lambda r: (-(r.reviews + r.failed), r.label))


def methodology_page(runtime: Runtime) -> MethodologyPage:
    """The rules, the panel and the live table of which models wrote the reviews."""
    critics = runtime.critics()
    rows = _rows(runtime)
    pairwise, swap = _pairwise(runtime)
    return MethodologyPage(
        critics=[
            MethodCritic(
                id=c.id,
                name=c.name,
                role=c.role,
                motto=c.motto,
                lens=c.lens,
                url=f"/critics/{c.id}",
            )
            for c in critics
        ],
        sections=[
            _panel(len(critics)),
            _verdict(),
            _intervals(),
            _calibration(),
            _compare(),
            pairwise,
            _quality_gate(),
            _predictions(),
            _maker_text(),
            _votes(VOTING_ENABLED, runtime.settings.vote_min_count),
            _pricing(),
        ],
        conclusion_rule=CONCLUSION_RULE,
        community_voting_enabled=VOTING_ENABLED,
        models=rows,
        total_reviews=sum(r.reviews for r in rows),
        total_failed=sum(r.failed for r in rows),
        swap_consistency=swap,
    )


@router.get("/methodology", response_class=HTMLResponse, include_in_schema=False)
def methodology(request: Request, s: SiteDep) -> Response:
    page = methodology_page(s.runtime)
    meta = Meta(
        title="Methodology: how the panel decides · shiporskip",
        description=(
            "How the critic panel votes, the tie rule, how percentages and 95% intervals are "
            "computed, how comparisons are concluded, how maker text is handled and which "
            "models wrote the reviews."
        ),
        path="/methodology",
    )
    return s.render(request, "methodology.html", page, meta, shared=True, shows_votes=False)


@router.get(
    "/api/v1/methodology", response_model=MethodologyPage, tags=["pages"], responses=errors()
)
def api_methodology(request: Request) -> MethodologyPage:
    """The published rules and the live count of reviews by provider and model."""
    return methodology_page(runtime_of(request))

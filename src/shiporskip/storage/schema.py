"""The tables. Migrations in `migrations/versions` create them; this module describes them."""

from __future__ import annotations

import sqlalchemy as sa

from shiporskip.storage.types import UTCDateTime

# The largest id an Integer column holds on every database (PostgreSQL's is 32-bit): a
# larger number in a URL names no row, and passing it to the database would raise.
MAX_ID = 2**31 - 1


def is_row_id(value: int) -> bool:
    """Whether `value` could be the id of a row (so it is safe to query for)."""
    return 0 < value <= MAX_ID


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tools = sa.Table(
    "tools",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("vendor", sa.String(80), nullable=False),
    sa.Column("homepage", sa.String(500), nullable=False),
    sa.Column("homepage_key", sa.String(500), nullable=False, unique=True),
    sa.Column("category", sa.String(40), nullable=False, index=True),
    sa.Column("tagline", sa.String(140), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("licence", sa.String(60)),
    sa.Column("open_weights", sa.Boolean, nullable=False),
    sa.Column("links", sa.JSON, nullable=False),
    sa.Column("aliases", sa.JSON, nullable=False),
    sa.Column("launch_date", sa.Date),
    sa.Column("entry", sa.String(20), nullable=False),
    sa.Column("pricing", sa.JSON, nullable=False),
    sa.Column("is_sample", sa.Boolean, nullable=False),
    sa.Column("flags", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# Every normalised name (the name and each alias) belongs to one tool only: the database
# itself refuses a second record for the same product, even under a race.
tool_names = sa.Table(
    "tool_names",
    metadata,
    sa.Column("name_key", sa.String(120), primary_key=True),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("is_alias", sa.Boolean, nullable=False),
)
sa.Index("ix_tool_names_tool_id", tool_names.c.tool_id)

# Slugs a tool had before it was renamed: links and embedded badges out in the world still
# use them, so they redirect to the tool's current slug. A rename chain a -> b -> c leaves
# rows a and b, both pointing at the tool (now c). A slug is never both a tool's and an old
# one: taking a slug (a new tool, or a rename back) removes its row here.
tool_slugs = sa.Table(
    "tool_slugs",
    metadata,
    sa.Column("old_slug", sa.String(64), primary_key=True),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_tool_slugs_tool_id", tool_slugs.c.tool_id)

# Reviews are append-only: a re-review adds rows, so the verdict history is kept. The current
# panel is each critic's latest successful review.
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("critic_id", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("verdict", sa.String(10)),
    sa.Column("score", sa.Integer),
    sa.Column("one_liner", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("competitors", sa.JSON, nullable=False),
    sa.Column("prediction_claim", sa.Text),
    sa.Column("prediction_months", sa.Integer),
    sa.Column("notes", sa.JSON, nullable=False),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("model", sa.String(300), nullable=False),
    sa.Column("prompt_version", sa.String(40), nullable=False),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("raw_output", sa.Text),
    sa.Column("parsed", sa.JSON),
    sa.Column("error", sa.Text),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("cost_usd", sa.Float),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("is_sample", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_reviews_tool_critic", reviews.c.tool_id, reviews.c.critic_id, reviews.c.id)
sa.Index("ix_reviews_input_hash", reviews.c.input_hash)

# Badge and widget traffic: one row per tool, kind and UTC day, incremented by an upsert so
# concurrent loads never lose a count or collide on the primary key.
embed_counts = sa.Table(
    "embed_counts",
    metadata,
    sa.Column(
        "tool_id",
        sa.Integer,
        sa.ForeignKey("tools.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.CheckConstraint("hits >= 0", name="hits_not_negative"),
)

# Who was counted today: one row per tool, kind, UTC day and visitor, so a visitor counts
# once a day however often it loads a badge. `visitor` is a keyed hash that changes every
# day (`storage/embeds.py`), never an address; rows of past days are deleted as days pass.
embed_visits = sa.Table(
    "embed_visits",
    metadata,
    sa.Column(
        "tool_id",
        sa.Integer,
        sa.ForeignKey("tools.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("visitor", sa.String(32), primary_key=True),
)

# Allowances per client address shared by every process (`storage/client_limits.py`): mail
# asked for on someone's behalf and admin token guesses. `client` is a keyed hash, never an
# address; a window's rows go when a later window of the same allowance begins.
client_limits = sa.Table(
    "client_limits",
    metadata,
    sa.Column("what", sa.String(20), primary_key=True),
    sa.Column("client", sa.String(32), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("uses", sa.Integer, nullable=False),
)

# The embedded job queue: one table in the main database. A running job holds a lease that
# its worker's heartbeat extends; a job whose lease ran out (its worker died) is claimed
# again. `key` makes scheduling idempotent (one daily review per day, one digest per week).
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("task", sa.String(60), nullable=False),
    sa.Column("args", sa.JSON, nullable=False),
    sa.Column("key", sa.String(120), unique=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("run_after", UTCDateTime(), nullable=False),
    sa.Column("locked_by", sa.String(80)),
    sa.Column("locked_until", UTCDateTime()),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime()),
)
sa.Index("ix_jobs_status_run_after", jobs.c.status, jobs.c.run_after)

# Comparisons published by the daily review (a new tool against its nearest competitors).
comparisons = sa.Table(
    "comparisons",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "a_tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "b_tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("a_tool_id", "b_tool_id", name="uq_comparisons_pair"),
)

# Pairwise picks (`storage/pairwise.py`, migration 0017): one row per critic asked about a
# pair, both orders in one row. The pair is stored in slug order at the time of asking
# (a_tool_id, b_tool_id); the answers are sides ("a", "b", "neither", or null when there is
# no valid answer), so a renamed tool keeps its picks.
pairwise_picks = sa.Table(
    "pairwise_picks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "a_tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "b_tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("critic_id", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("first_pick", sa.String(10)),
    sa.Column("swapped_pick", sa.String(10)),
    sa.Column("first_reason", sa.Text),
    sa.Column("swapped_reason", sa.Text),
    sa.Column("first_raw", sa.Text),
    sa.Column("swapped_raw", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("model", sa.String(300), nullable=False),
    sa.Column("prompt_version", sa.String(40), nullable=False),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("input_tokens", sa.Integer),
    sa.Column("output_tokens", sa.Integer),
    sa.Column("cost_usd", sa.Float),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index(
    "ix_pairwise_picks_pair",
    pairwise_picks.c.a_tool_id,
    pairwise_picks.c.b_tool_id,
    pairwise_picks.c.critic_id,
    pairwise_picks.c.id,
)
sa.Index("ix_pairwise_picks_input_hash", pairwise_picks.c.input_hash)

# Why attempts of Procrastinate jobs failed (its own tables keep no error text).
job_errors = sa.Table(
    "job_errors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("engine_job_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("task", sa.String(60), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

# Newsletter subscribers. `email_key` (lower-cased) is the identity, so one person cannot
# subscribe twice by changing case. Rows are kept after unsubscribing: the status says so.
newsletter_subscribers = sa.Table(
    "newsletter_subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("email_key", sa.String(254), nullable=False, unique=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("confirm_sent_at", UTCDateTime()),
    sa.Column("confirmed_at", UTCDateTime()),
    sa.Column("unsubscribed_at", UTCDateTime()),
    sa.Column("bounce_reason", sa.Text),
)

# One digest issue per ISO week, frozen when first sent (data, archive HTML and text). The
# sender columns are a lease: one `digest send` per issue at a time.
newsletter_issues = sa.Table(
    "newsletter_issues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("week", sa.String(8), nullable=False, unique=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("is_sample", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime()),
    sa.Column("sender", sa.String(120)),
    sa.Column("sender_seen_at", UTCDateTime()),
)

# One row per (issue, subscriber): the row is marked "sending" and committed before the
# SMTP conversation, so a crash leaves evidence of the copy that may or may not have left.
newsletter_sends = sa.Table(
    "newsletter_sends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "issue_id",
        sa.Integer,
        sa.ForeignKey("newsletter_issues.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("newsletter_subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime()),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime()),
    sa.UniqueConstraint("issue_id", "subscriber_id", name="uq_newsletter_sends_issue_subscriber"),
)
sa.Index("ix_newsletter_sends_issue_state", newsletter_sends.c.issue_id, newsletter_sends.c.state)

# Community voting. A voter is an anonymous signed-cookie identity, optionally verified by
# an email magic link. One vote per voter per tool (unique), changeable; every attempt is
# in the audit log, accepted or not.
voters = sa.Table(
    "voters",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("email", sa.String(254), unique=True),
    sa.Column("verified_at", UTCDateTime()),
    sa.Column("blocked_at", UTCDateTime()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

votes = sa.Table(
    "votes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("voter_id", sa.String(40), sa.ForeignKey("voters.id"), nullable=False),
    sa.Column("value", sa.String(4), nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
    sa.Column("voided_at", UTCDateTime()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tool_id", "voter_id", name="uq_votes_tool_voter"),
)

vote_events = sa.Table(
    "vote_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tool_id", sa.Integer),
    sa.Column("voter_id", sa.String(40), nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
    sa.Column("action", sa.String(10), nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(200)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_vote_events_voter_time", vote_events.c.voter_id, vote_events.c.created_at)
sa.Index("ix_vote_events_ip_time", vote_events.c.ip, vote_events.c.created_at)

# Single-use sign-in links: a token is accepted once, before it expires.
magic_links = sa.Table(
    "magic_links",
    metadata,
    sa.Column("jti", sa.String(40), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("voter_id", sa.String(40), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime()),
)

# Signed-in admin browsers. The cookie names a random session id; only its SHA-256 is kept.
# Signing out deletes the row, so a copied cookie stops working at once in every server
# process; rows past `expires_at` are refused and deleted at the next sign-in.
admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_admin_sessions_expires", admin_sessions.c.expires_at)

# Tools proposed by the public, waiting for a moderator. `data` is the tool entry in the
# import format, validated before it is stored; the identity columns let a second proposal
# of the same product be refused while the first is pending (the partial unique indexes
# make that hold under a race too).
submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("slug", sa.String(64), nullable=False),
    sa.Column("homepage_key", sa.String(500), nullable=False),
    sa.Column("name_keys", sa.JSON, nullable=False),
    sa.Column("flags", sa.JSON, nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("ip", sa.String(45), nullable=False),
    sa.Column("voter_id", sa.String(40)),
    sa.Column("reason", sa.Text),
    sa.Column("tool_slug", sa.String(64)),
    sa.Column("job_id", sa.BigInteger),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("decided_at", UTCDateTime()),
)
sa.Index("ix_submissions_status_id", submissions.c.status, submissions.c.id)
sa.Index("ix_submissions_ip_time", submissions.c.ip, submissions.c.created_at)
sa.Index(
    "uq_submissions_pending_homepage",
    submissions.c.homepage_key,
    unique=True,
    sqlite_where=sa.text("status = 'pending'"),
    postgresql_where=sa.text("status = 'pending'"),
)
sa.Index(
    "uq_submissions_pending_slug",
    submissions.c.slug,
    unique=True,
    sqlite_where=sa.text("status = 'pending'"),
    postgresql_where=sa.text("status = 'pending'"),
)

# Each tool's current panel in brief, kept in step with `reviews` in the same transaction
# (see `storage/reviews.py`), so list pages rank and page a category of 100k tools by
# walking an index instead of reading every review. Counts cover every critic that has
# reviewed the tool; pages still compute the exact summary (against the configured panel)
# for the few tools they show. A tool with no review attempt has no row. The tool's
# category and name are copied here for the ranking indexes; a database trigger (created
# by migration 0008) keeps them equal to the tool's when a tool is edited. Names sort
# bytewise ("C") on PostgreSQL, as Python sorts them, whatever the database's locale.
_NAME = sa.String(80).with_variant(sa.String(80, collation="C"), "postgresql")

tool_panels = sa.Table(
    "tool_panels",
    metadata,
    sa.Column(
        "tool_id",
        sa.Integer,
        sa.ForeignKey("tools.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("name", _NAME, nullable=False),
    sa.Column("sort_name", _NAME, nullable=False),
    sa.Column("ships", sa.Integer, nullable=False),
    sa.Column("skips", sa.Integer, nullable=False),
    sa.Column("reported", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("mean_score", sa.Float),
    sa.Column("ship_pct", sa.Float),
    sa.Column("reviewed_at", UTCDateTime()),
    sa.Column("is_sample", sa.Boolean, nullable=False),
)
sa.Index("ix_tool_panels_reviewed_at", tool_panels.c.reviewed_at)
# The category page's order (ship %, mean score, name) and the tool page's (ship %, name).
sa.Index(
    "ix_tool_panels_rank",
    tool_panels.c.category,
    tool_panels.c.ship_pct.desc(),
    tool_panels.c.mean_score.desc(),
    tool_panels.c.sort_name,
    tool_panels.c.name,
)
sa.Index(
    "ix_tool_panels_similar",
    tool_panels.c.category,
    tool_panels.c.ship_pct.desc(),
    tool_panels.c.sort_name,
    tool_panels.c.name,
)
# The tools index's orders (`storage/listing.py`, migration 0011): ship % across
# categories, newest review within one. Migration 0011 also indexes `tools` by entry tier
# and by name order (lower-cased name, name, id; collation "C" on PostgreSQL), as
# expressions this module does not repeat.
sa.Index(
    "ix_tool_panels_ship_order",
    tool_panels.c.ship_pct.desc(),
    tool_panels.c.mean_score.desc(),
    tool_panels.c.sort_name,
    tool_panels.c.name,
    tool_panels.c.tool_id,
)
sa.Index(
    "ix_tool_panels_category_reviewed",
    tool_panels.c.category,
    tool_panels.c.reviewed_at.desc(),
    tool_panels.c.tool_id.desc(),
)
sa.Index("ix_tools_entry", tools.c.entry, tools.c.category)

# The verdict history: one row per change of a tool's panel (ships, skips, or whether it is
# sample content), written by `storage/history.py` in the same transaction as the review
# write that changed it. Counted like `tool_panels`: every critic that has reviewed the tool.
# `models` holds public labels (`llm/labels.py`), never a spec with a server address.
panel_history = sa.Table(
    "panel_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("ships", sa.Integer, nullable=False),
    sa.Column("skips", sa.Integer, nullable=False),
    sa.Column("expected", sa.Integer, nullable=False),
    sa.Column("ship_pct", sa.Float),
    sa.Column("models", sa.JSON, nullable=False),
    sa.Column("is_sample", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(300), nullable=False),
)
sa.Index("ix_panel_history_tool_id", panel_history.c.tool_id, panel_history.c.id)

# The predictions ledger (`storage/predictions.py`, migration 0018): a critic's prediction
# with its due date (made_at + horizon) and, once resolved, its outcome and evidence. One
# entry per tool, critic and normalised claim: a claim repeated in a re-review keeps the
# entry of the review that first made it. Written in the same transaction as the review.
predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "review_id",
        sa.Integer,
        sa.ForeignKey("reviews.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("critic_id", sa.String(40), nullable=False),
    sa.Column("claim", sa.Text, nullable=False),
    sa.Column("claim_key", sa.String(64), nullable=False),
    sa.Column("horizon_months", sa.Integer, nullable=False),
    sa.Column("made_at", UTCDateTime(), nullable=False),
    sa.Column("due", UTCDateTime(), nullable=False),
    sa.Column("outcome", sa.String(10)),
    sa.Column("evidence", sa.String(500)),
    sa.Column("resolved_at", UTCDateTime()),
    sa.Column("is_sample", sa.Boolean, nullable=False),
    sa.UniqueConstraint("tool_id", "critic_id", "claim_key", name="uq_predictions_claim"),
    sa.CheckConstraint(
        "outcome IS NULL OR outcome IN ('right', 'wrong', 'unclear')", name="outcome"
    ),
)
sa.Index("ix_predictions_due", predictions.c.due)
sa.Index("ix_predictions_critic_id", predictions.c.critic_id, predictions.c.outcome)

# Two counters, bumped by database triggers (migration 0009) in the same transaction as
# every write to a table in VERSIONED_TABLES: what the public pages are built from. Row 1
# follows the content, row 2 the community vote. A page rendered at versions (c, v) is
# current while the counters still read (c, v), or just c for a page that shows no votes
# (`web/caching.py`).
data_version = sa.Table(
    "data_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

# Per-key counters, bumped by triggers (migration 0019) on the writes that change what a
# page shows of one tool (`t<tool id>`) or of one category's panel ranking (`c<category>`):
# a page that declares its tools is invalidated by writes to those, not by every write.
# Row 3 of `data_version` follows the catalog itself (tools and their names, voters' state).
page_versions = sa.Table(
    "page_versions",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("content", sa.BigInteger, nullable=False),
    sa.Column("votes", sa.BigInteger, nullable=False),
)

# Summaries of the whole catalog (migration 0020), so pages that count every tool read a
# few rows instead of the catalog. Counters are kept by database triggers in the writing
# transaction; `panel_seats` is written by `refresh_panels` next to `tool_panels`.
tool_counts = sa.Table(
    "tool_counts",
    metadata,
    sa.Column("category", sa.String(40), primary_key=True),
    sa.Column("entry", sa.String(20), primary_key=True),
    sa.Column("is_sample", sa.Boolean, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)
# Rows of `tool_panels` by category and verdict ('ship', 'skip', 'split', 'none').
panel_counts = sa.Table(
    "panel_counts",
    metadata,
    sa.Column("category", sa.String(40), primary_key=True),
    sa.Column("verdict", sa.String(10), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)
# Each critic's counted review of each tool (the read model over every critic that has
# reviewed it, as `tool_panels`), with the panel verdict it is compared with.
panel_seats = sa.Table(
    "panel_seats",
    metadata,
    sa.Column(
        "tool_id",
        sa.Integer,
        sa.ForeignKey("tools.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("critic_id", sa.String(40), primary_key=True),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("verdict", sa.String(10), nullable=False),
    sa.Column("panel_verdict", sa.String(10), nullable=False),
    sa.Column("review_id", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_panel_seats_critic", panel_seats.c.critic_id, panel_seats.c.review_id)
sa.Index(
    "ix_panel_seats_critic_category",
    panel_seats.c.critic_id,
    panel_seats.c.category,
    panel_seats.c.review_id,
)
# `panel_seats` summed per critic and category.
critic_totals = sa.Table(
    "critic_totals",
    metadata,
    sa.Column("critic_id", sa.String(40), primary_key=True),
    sa.Column("category", sa.String(40), primary_key=True),
    sa.Column("reviews", sa.Integer, nullable=False),
    sa.Column("ships", sa.Integer, nullable=False),
    sa.Column("agreed", sa.Integer, nullable=False),
    sa.Column("compared", sa.Integer, nullable=False),
    sa.Column("splits", sa.Integer, nullable=False),
)
# Every review attempt summed per model, critic and outcome; `model_tools` counts the
# tools each model reviewed.
model_usage = sa.Table(
    "model_usage",
    metadata,
    sa.Column("provider", sa.String(40), primary_key=True),
    sa.Column("model", sa.String(300), primary_key=True),
    sa.Column("critic_id", sa.String(40), primary_key=True),
    sa.Column("ok", sa.Boolean, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost_usd", sa.Float, nullable=False),
)
model_tools = sa.Table(
    "model_tools",
    metadata,
    sa.Column("provider", sa.String(40), primary_key=True),
    sa.Column("model", sa.String(300), primary_key=True),
    sa.Column("tools", sa.Integer, nullable=False),
)

CONTENT_TABLES = (
    "tools",
    "tool_names",
    "reviews",
    "tool_panels",
    "comparisons",
    "pairwise_picks",
    "panel_history",
    "predictions",
)
VOTE_TABLES = ("voters", "votes")
VERSIONED_TABLES = CONTENT_TABLES + VOTE_TABLES
# Every other table, and why writing to it leaves cached public pages current.
UNVERSIONED_TABLES = {
    "data_version": "the counters themselves",
    "page_versions": "the per-tool and per-category counters themselves",
    "embed_counts": "badge and widget counts are in the JSON API only, which is not cached",
    "embed_visits": "who was counted today is never shown",
    "client_limits": "allowances are never shown",
    "jobs": "the queue is shown only in the admin area and the CLI",
    "job_errors": "the queue is shown only in the admin area and the CLI",
    "newsletter_subscribers": "subscribers are never shown",
    "newsletter_issues": "the archive under /newsletter/ is not cached",
    "newsletter_sends": "sends are never shown",
    "vote_events": "the vote audit log is shown only in the admin area",
    "magic_links": "sign-in links are never shown",
    "admin_sessions": "admin sessions are never shown",
    "submissions": "submission pages are personal and not cached; approval writes `tools`",
    "tool_slugs": "written only in a transaction that writes `tools`; redirects are not kept",
    "tool_counts": "derived: written only with the rows it sums, in the same transaction",
    "panel_counts": "derived: written only with the rows it sums, in the same transaction",
    "panel_seats": "derived: written only with the rows it sums, in the same transaction",
    "critic_totals": "derived: written only with the rows it sums, in the same transaction",
    "model_usage": "derived: written only with the rows it sums, in the same transaction",
    "model_tools": "derived: written only with the rows it sums, in the same transaction",
}

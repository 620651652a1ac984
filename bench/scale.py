"""Scale: page latency on a 100k-tool catalog divided by the same on a 1k-tool catalog.

A generator writes each catalog straight through SQLAlchemy Core (`executemany` in
batches: tools, tool_names, reviews, voters, votes, then the `tool_panels` back-fill; on
PostgreSQL without row triggers, the catalog summaries computed once at the end),
not through the per-tool import path, which checks every record for duplicates. The real
import path (`CatalogStore.import_tools`) is timed separately for the tools/s figure.

Every catalog holds 7 reviews per tool and 10 votes per tool (1M votes at 100k). The
pages are fetched in-process through the app (HTML, rendering included) on SQLite and on
PostgreSQL (a fresh schema, dropped afterwards); each figure is the median of repeated
requests for several tools, and the ratio divides the big catalog's by the small one's.

    python -m bench.scale [--tools 100000] [--small 1000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shiporskip.domain.text import name_key
from shiporskip.domain.tools import Tool
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings, replace
from shiporskip.storage.reviews import refresh_panels
from shiporskip.storage.schema import reviews, tool_names, tools, voters, votes
from shiporskip.storage.summaries import rebuild_counters
from shiporskip.web.common import compare_path

POSTGRES = os.environ.get(
    "SHIPORSKIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BIG, SMALL = 100_000, 1_000
CRITICS = ("builder", "buyer", "futurist", "operator", "scientist", "skeptic", "user")
FIRST = [
    "Nova",
    "Quill",
    "Orbit",
    "Atlas",
    "Ember",
    "Prism",
    "Vector",
    "Pilot",
    "Lumen",
    "Forge",
    "Delta",
    "Cobalt",
]
SECOND = [
    "Lens",
    "Code",
    "Voice",
    "Draft",
    "Flow",
    "Mind",
    "Scout",
    "Frame",
    "Stack",
    "Spark",
    "Relay",
    "Loom",
]
TAGLINES = (
    "Vision-language model for documents and charts",
    "Code completion in the editor with repository context",
    "Speech to text with speaker labels",
    "Web search API that answers with citations",
    "Agent that books meetings from email threads",
    "Image generation with style references",
    "Vector database for retrieval",
    "Meeting notes and action items",
)
VOTES_PER_TOOL = 10
BATCH = 10_000
REPEAT = 15


def _categories() -> tuple[str, ...]:
    from shiporskip.domain.categories import CATEGORIES as KNOWN

    return tuple(c.slug for c in KNOWN)


def _name(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {SECOND[(i // len(FIRST)) % len(SECOND)]} {i}"


def _template() -> dict[str, Any]:
    from shiporskip.storage.catalog import _row_values

    tool = Tool.model_validate(
        {
            "slug": "template",
            "name": "Template",
            "vendor": "Bench",
            "homepage": "https://bench.example/template",
            "category": "models",
            "tagline": TAGLINES[0],
            "description": "A generated tool for the scale benchmark.",
            "pricing": {
                "entry": "freemium",
                "plans": [
                    {"name": "Free", "charges": []},
                    {
                        "name": "Pro",
                        "period": "month",
                        "charges": [{"amount": "20", "unit": "seat"}],
                    },
                ],
            },
        }
    )
    return _row_values(tool)


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(engine: Engine, n: int, seed: int = 7) -> dict[str, Any]:
    """Write n tools, 7 reviews each and 10 votes per tool; return counts and seconds."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    base = _template()
    categories = _categories()
    started = time.perf_counter()

    def tool_rows() -> Iterator[dict[str, Any]]:
        for i in range(n):
            slug = f"tool-{i}"
            yield {
                **base,
                "id": i + 1,
                "slug": slug,
                "name": _name(i),
                "vendor": f"Vendor {i % 500}",
                "homepage": f"https://bench.example/{slug}",
                "homepage_key": f"bench.example/{slug}",
                "category": categories[i % len(categories)],
                "tagline": TAGLINES[i % len(TAGLINES)],
                "created_at": now,
                "updated_at": now,
            }

    def name_rows() -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield {"name_key": name_key(_name(i)), "tool_id": i + 1, "is_alias": False}

    def review_rows() -> Iterator[dict[str, Any]]:
        for i in range(n):
            for c, critic in enumerate(CRITICS):
                score = rng.randint(5, 95)
                rival = _name(rng.randrange(n))
                yield {
                    "tool_id": i + 1,
                    "critic_id": critic,
                    "status": "ok",
                    "verdict": "ship" if score >= 50 else "skip",
                    "score": score,
                    "one_liner": f"{critic} on {_name(i)}: a generated verdict.",
                    "body": "A generated review body for the scale benchmark. " * 4,
                    "competitors": [rival, "Not In Catalog"],
                    "prediction_claim": None,
                    "prediction_months": None,
                    "notes": [],
                    "provider": "bench",
                    "model": "bench-model",
                    "prompt_version": "bench",
                    "input_hash": f"{i:08x}{c}",
                    "params": {},
                    "raw_output": None,
                    "parsed": None,
                    "error": None,
                    "input_tokens": 900,
                    "output_tokens": 300,
                    "cost_usd": 0.001,
                    "latency_ms": 1200,
                    "attempts": 1,
                    "is_sample": False,
                    "created_at": now - timedelta(minutes=i * 7 + c),
                }

    n_voters = max(VOTES_PER_TOOL, n)
    voter_ids = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(n_voters)]

    def voter_rows() -> Iterator[dict[str, Any]]:
        for v in voter_ids:
            yield {
                "id": v,
                "email": None,
                "verified_at": None,
                "blocked_at": None,
                "created_at": now,
            }

    def vote_rows() -> Iterator[dict[str, Any]]:
        # Voter j votes on tools j, j+1, ... j+9 (mod n): unique (tool, voter) pairs.
        for j, voter in enumerate(voter_ids):
            for k in range(VOTES_PER_TOOL):
                yield {
                    "tool_id": (j + k) % n + 1,
                    "voter_id": voter,
                    "value": "ship" if rng.random() < 0.6 else "skip",
                    "ip": f"10.{j % 250}.{k}.1",
                    "voided_at": None,
                    "created_at": now,
                    "updated_at": now,
                }

    counts: dict[str, int] = {}
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            # A bulk load without row triggers (nor foreign-key checks: the rows are made
            # consistent here); the summaries they keep are computed once at the end.
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table, rows in (
            (tools, tool_rows()),
            (tool_names, name_rows()),
            (reviews, review_rows()),
            (voters, voter_rows()),
            (votes, vote_rows()),
        ):
            count = 0
            for batch in _batches(rows):
                conn.execute(sa.insert(table), batch)
                count += len(batch)
            counts[table.name] = count
        refresh_panels(conn)
        if postgres:
            rebuild_counters(conn)
        if postgres:
            # Explicit ids leave the sequences behind; later inserts need them caught up.
            for table in ("tools", "reviews", "votes"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # What autovacuum would do after a bulk load: statistics and the visibility
            # map (index-only scans).
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    counts["seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[assignment]
    return counts


def database_bytes(engine: Engine, path: Path | None) -> int:
    if path is not None:
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with engine.connect() as conn:
        return int(
            conn.scalar(
                sa.text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
                )
            )
            or 0
        )


def _paths(n: int) -> dict[str, list[str]]:
    picks = [n // 2 + 1, n // 3 + 2, n - 5, 17, n // 5 + 3]
    return {
        "tool": [f"/tools/tool-{i}" for i in picks],
        "compare": [compare_path(f"tool-{i}", f"tool-{(i + 10) % n}") for i in picks],
        "category": [f"/categories/{c}" for c in ("models", "agents", "writing")]
        + ["/categories/models?page=3"],
        "search": [f"/search?{urlencode({'q': _name(i)})}" for i in picks[:3]],
        "tools index": [
            "/tools",
            "/tools?category=models&sort=ship-pct",
            "/tools?sort=name",
            "/tools?category=agents&verdict=ship",
        ],
        "tools API": ["/api/v1/tools", "/api/v1/tools?sort=ship-pct"],
    }


def _deep_pages(runtime: Runtime, n: int) -> list[str]:
    """Index pages that start in the middle of the catalog, from a cursor made here (a
    keyset page must cost the same wherever it starts)."""
    from shiporskip.storage.listing import Position
    from shiporskip.storage.schema import tool_panels
    from shiporskip.web.tools_index import make_cursor, page_url, parse_request

    middle = n // 2
    with runtime.engine.connect() as conn:
        reviewed_at = conn.scalar(
            sa.select(tool_panels.c.reviewed_at).where(tool_panels.c.tool_id == middle)
        )
    name = _name(middle - 1)
    out = []
    for sort, key in (("name", (name.lower(), name)), ("newest", (reviewed_at, middle))):
        applied = parse_request(None, None, None, sort, None)
        cursor = make_cursor(runtime, applied, Position(0, key))
        out.append(page_url("/tools", applied, cursor))
    return out


def measure(runtime: Runtime, n: int) -> dict[str, float]:
    """Median milliseconds per page kind, fetched in-process through the app."""
    from fastapi.testclient import TestClient

    from shiporskip.web.app import create_app

    # The page cache off: this measures rendering, the part that could grow with the
    # catalog. A page served from memory costs the same at any catalog size.
    runtime.settings = replace(runtime.settings, page_cache_mb=0)
    out: dict[str, float] = {}
    with TestClient(create_app(runtime)) as client:
        kinds = _paths(n)
        kinds["tools index, mid-catalog page"] = _deep_pages(runtime, n)
        for kind, paths in kinds.items():
            times = []
            for path in paths:
                response = client.get(path)  # warm-up
                assert response.status_code == 200, (path, response.status_code)
                for _ in range(REPEAT):
                    t0 = time.perf_counter()
                    client.get(path)
                    times.append(time.perf_counter() - t0)
            out[kind] = round(1000 * statistics.median(times), 2)
    return out


def import_throughput(runtime: Runtime, tmp: Path, count: int = 2_000) -> float:
    """Tools/s through the real import path: parse and validate a catalog file, check every
    entry for duplicates against the catalog already stored, write in one transaction."""
    from shiporskip.catalog import dump, import_file

    batch = [
        Tool.model_validate(
            {
                "slug": f"imported-{i}",
                "name": f"Imported Tool {i}",
                "vendor": "Bench",
                "homepage": f"https://import.example/{i}",
                "category": "developer-tools",
                "tagline": "An imported tool",
                "pricing": {"entry": "free"},
            }
        )
        for i in range(count)
    ]
    path = tmp / "import.json"
    path.write_text(dump(batch, "json"))
    t0 = time.perf_counter()
    result = import_file(runtime.catalog, path)
    elapsed = time.perf_counter() - t0
    assert len(result.created) == count
    return round(count / elapsed, 1)


@contextmanager
def database(kind: str, tmp: Path, label: str) -> Iterator[tuple[str, Path | None]]:
    if kind == "sqlite":
        path = tmp / f"{label}.db"
        yield f"sqlite:///{path}", path
        return
    admin = sa.create_engine(POSTGRES)
    schema = f"scale_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}", None
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_one(kind: str, big: int = BIG, small: int = SMALL) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SHIPORSKIP_DATA_DIR"] = tmp
        for n in (small, big):
            with database(kind, Path(tmp), f"c{n}") as (url, path):
                runtime = open_runtime(load_settings(overrides={"database_url": url}))
                try:
                    generated = generate(runtime.engine, n)
                    pages = measure(runtime, n)
                    entry: dict[str, Any] = {
                        "generated": generated,
                        "pages_ms": pages,
                        "database_mb": round(database_bytes(runtime.engine, path) / 1e6, 1),
                    }
                    if n == big:
                        entry["import_tools_per_s"] = import_throughput(runtime, Path(tmp))
                    result[str(n)] = entry
                    print(kind, n, json.dumps(entry), flush=True)
                finally:
                    runtime.close()
    small_ms, big_ms = result[str(small)]["pages_ms"], result[str(big)]["pages_ms"]
    result["ratios"] = {k: round(big_ms[k] / small_ms[k], 2) for k in big_ms}
    return result


def run(big: int = BIG, small: int = SMALL, postgres: bool = True) -> dict[str, Any]:
    """Ratios (big / small catalog) per page on SQLite and PostgreSQL; target <= 2."""
    out: dict[str, Any] = {"tools": big, "small": small, "target": 2.0}
    for kind in ("sqlite", "postgresql") if postgres else ("sqlite",):
        out[kind] = run_one(kind, big, small)
    out["met"] = all(
        ratio <= 2.0
        for kind in ("sqlite", "postgresql")
        if kind in out
        for ratio in out[kind]["ratios"].values()
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=BIG, help="size of the big catalog")
    parser.add_argument("--small", type=int, default=SMALL, help="size of the small catalog")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    print(json.dumps(run(args.tools, args.small, not args.no_postgres), indent=2))


if __name__ == "__main__":
    main()

"""The catalog repository, on SQLite and on PostgreSQL."""

import pytest
import sqlalchemy as sa

from shiporskip.errors import DuplicateToolError, NotFoundError
from shiporskip.runtime import Runtime
from shiporskip.storage import migrate
from shiporskip.storage.schema import tool_names, tools
from tests.factories import make_tool


def test_migrations_reach_head_and_are_idempotent(runtime: Runtime) -> None:
    assert migrate.is_current(runtime.engine)
    migrate.upgrade(runtime.engine)
    assert migrate.current_revision(runtime.engine) == migrate.head_revision()
    inspector = sa.inspect(runtime.engine)
    assert {"tools", "tool_names", "alembic_version"} <= set(inspector.get_table_names())


def test_migrations_from_empty_match_the_schema_module(runtime: Runtime) -> None:
    inspector = sa.inspect(runtime.engine)
    for table in (tools, tool_names):
        stored = {c["name"] for c in inspector.get_columns(table.name)}
        assert stored == {c.name for c in table.columns}, table.name


def test_add_get_list_remove(runtime: Runtime) -> None:
    store = runtime.catalog
    tool = make_tool("Alpha", aliases=["Alpha One"], category="models")
    store.add(tool)
    store.add(make_tool("Beta"))
    assert store.get("alpha") == tool
    assert [t.slug for t in store.list()] == ["alpha", "beta"]
    assert [t.slug for t in store.list(category="models")] == ["alpha"]
    store.remove("alpha")
    assert store.count() == 1
    with pytest.raises(NotFoundError, match="no tool with slug 'alpha'"):
        store.get("alpha")


def test_not_found_suggests_near_slugs(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Claude Sonnet 4"))
    with pytest.raises(NotFoundError, match="did you mean claude-sonnet-4"):
        runtime.catalog.get("claude-sonet-4")


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        ({"name": "A.L.P.H.A", "homepage": "https://example.org/"}, "same name"),
        ({"name": "Alpha Two", "aliases": ["alpha-one"]}, "same name"),
        ({"name": "Gamma", "homepage": "https://www.example.com/alpha/"}, "same homepage"),
        ({"name": "Gamma", "slug": "alpha"}, "same slug"),
    ],
)
def test_one_record_per_product(runtime: Runtime, second: dict[str, object], reason: str) -> None:
    runtime.catalog.add(make_tool("Alpha", aliases=["Alpha One"]))
    duplicate = make_tool(**second)  # type: ignore[arg-type]
    with pytest.raises(DuplicateToolError) as info:
        runtime.catalog.add(duplicate)
    message = str(info.value)
    assert reason in message
    assert info.value.existing_slug == "alpha"
    assert "shiporskip tools edit alpha" in message
    assert runtime.catalog.count() == 1


def test_import_is_all_or_nothing(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Existing"))
    batch = [make_tool("New One"), make_tool("New Two"), make_tool("Existing", slug="other")]
    with pytest.raises(DuplicateToolError) as info:
        runtime.catalog.import_tools(batch)
    assert info.value.index == 2
    assert [t.slug for t in runtime.catalog.list()] == ["existing"]


def test_import_update_replaces_by_slug(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Existing", tagline="old line"))
    result = runtime.catalog.import_tools(
        [make_tool("Existing", tagline="new line"), make_tool("Fresh")], update=True
    )
    assert result.updated == ("existing",) and result.created == ("fresh",)
    assert runtime.catalog.get("existing").tagline == "new line"


def test_replace_can_rename_and_frees_old_names(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Old Name"))
    renamed = make_tool("New Name", homepage="https://example.com/old-name")
    runtime.catalog.replace("old-name", renamed)
    assert runtime.catalog.get("new-name").name == "New Name"
    runtime.catalog.add(make_tool("Old Name", homepage="https://example.org/x"))
    assert runtime.catalog.count() == 2


def test_database_refuses_duplicate_names_even_without_the_check(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha"))
    with pytest.raises(sa.exc.IntegrityError), runtime.engine.begin() as conn:
        conn.execute(sa.insert(tool_names).values(name_key="alpha", tool_id=1, is_alias=True))


def test_pricing_survives_storage_exactly(runtime: Runtime) -> None:
    tool = make_tool(
        "Tokens",
        pricing={
            "entry": "freemium",
            "plans": [
                {"name": "Free", "amount": 0, "unit": "request", "limit": 100},
                {
                    "name": "API",
                    "period": "usage",
                    "charges": [
                        {"amount": 0.075, "unit": "input_token", "per": 1_000_000},
                        {"amount": 0.3, "unit": "output_token", "per": 1_000_000},
                    ],
                },
            ],
            "note": "Batch is half price.",
            "source": "https://example.com/pricing",
            "checked": "2025-06-01",
        },
    )
    runtime.catalog.add(tool)
    assert runtime.catalog.get("tokens") == tool


def renamed(runtime: Runtime, slug: str, new: str) -> None:
    tool = runtime.catalog.get(slug)
    runtime.catalog.replace(slug, make_tool(tool.name, slug=new))


def test_a_renamed_slug_leads_to_the_tool_through_a_chain(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha", slug="a"))
    renamed(runtime, "a", "b")
    renamed(runtime, "b", "c")
    assert runtime.catalog.moved("a") == "c"
    assert runtime.catalog.moved("b") == "c"
    assert runtime.catalog.moved("c") is None, "a current slug is not moved"
    assert runtime.catalog.moved("zzz") is None
    with pytest.raises(NotFoundError, match="no tool with slug 'a'; it was renamed to 'c'"):
        runtime.catalog.get("a")


def test_renaming_back_and_a_new_tool_take_old_slugs_over(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha", slug="a"))
    renamed(runtime, "a", "b")
    renamed(runtime, "b", "a")
    assert runtime.catalog.moved("a") is None and runtime.catalog.moved("b") == "a"
    runtime.catalog.add(make_tool("Beta", slug="b"))
    assert runtime.catalog.moved("b") is None, "the new tool owns its slug"
    assert runtime.catalog.get("b").name == "Beta"
    renamed(runtime, "b", "beta")
    assert runtime.catalog.moved("b") == "beta", "the slug moves with its newest owner"
    runtime.catalog.remove("beta")
    assert runtime.catalog.moved("b") is None, "a removed tool leaves no redirect"


def test_a_stored_row_is_validated_once_and_a_changed_row_read_anew(runtime: Runtime) -> None:
    store = runtime.catalog
    store.add(make_tool("Alpha", category="models"))
    store.add(make_tool("Bravo", category="models"))
    first = store.get("alpha")
    # The same row again is the tool validated before (pages read the same rows each time).
    assert store.get("alpha") is first
    assert store.get_all(["bravo", "alpha"])[1] is first
    # A row changed behind the store's back (no updated_at either) is read as it now is,
    # cleaned as any stored row is.
    with runtime.engine.begin() as conn:
        conn.execute(
            sa.update(tools).where(tools.c.slug == "alpha").values(tagline="New\u202e tagline")
        )
    assert store.get("alpha").tagline == "New tagline"
    assert [t.slug for t in store.get_all(["bravo", "alpha"])] == ["bravo", "alpha"]
    with pytest.raises(NotFoundError, match="charlie"):
        store.get_all(["alpha", "charlie"])

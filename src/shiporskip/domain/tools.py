"""A tool in the catalog: the product record every page, review and vote hangs on."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shiporskip.domain.categories import BY_SLUG, Category, resolve_category
from shiporskip.domain.pricing import Pricing
from shiporskip.domain.text import (
    CLEAN_LINE,
    MakerLine,
    MakerText,
    WebUrl,
    check_slug,
    excerpt,
    homepage_key,
    name_key,
    scrub_url,
    slugify,
)
from shiporskip.domain.untrusted import InjectionFlag, find_injections


class Links(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    docs: WebUrl | None = None
    pricing: WebUrl | None = None
    repository: WebUrl | None = None


class Tool(BaseModel):
    """A product. Maker-supplied text (tagline, description, pricing note) is untrusted."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    slug: str = Field(default="", max_length=64)
    name: MakerLine = Field(min_length=1, max_length=80)
    aliases: tuple[MakerLine, ...] = ()
    vendor: MakerLine = Field(min_length=1, max_length=80)
    homepage: WebUrl
    category: str
    tagline: MakerLine = Field(min_length=1, max_length=140)
    description: MakerText = Field(default="", max_length=4000)
    licence: Annotated[Annotated[str, Field(max_length=60)], CLEAN_LINE] | None = None
    open_weights: bool = False
    links: Links = Links()
    launch_date: date | None = None
    pricing: Pricing
    sample: bool = False

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a category name such as 'Models'")
        try:
            return resolve_category(value).slug
        except Exception as exc:  # UserError -> ValueError so pydantic reports the field
            raise ValueError(str(exc)) from None

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for alias in value:
            if not name_key(alias):
                raise ValueError(f"alias {excerpt(alias)!r} has no letters or digits")
        return value

    @model_validator(mode="after")
    def _slug(self) -> Self:
        if not name_key(self.name):
            raise ValueError(f"name {self.name!r} needs at least one letter or digit")
        slug = self.slug or slugify(self.name)
        check_slug(slug)
        object.__setattr__(self, "slug", slug)
        if self.pricing.entry.value == "open-source" and not self.licence:
            raise ValueError("entry 'open-source' needs a licence, e.g. licence: Apache-2.0")
        return self

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Tool:
        """A tool from a stored row: addresses written before `check_url` refused hidden
        characters are read without them rather than failing every page that shows them."""
        data = dict(data, homepage=scrub_url(data.get("homepage")))
        if isinstance(data.get("links"), dict):
            data["links"] = {k: scrub_url(v) for k, v in data["links"].items()}
        if isinstance(data.get("pricing"), dict) and "source" in data["pricing"]:
            data["pricing"] = dict(data["pricing"], source=scrub_url(data["pricing"]["source"]))
        return cls.model_validate(data)

    @property
    def category_info(self) -> Category:
        return BY_SLUG[self.category]

    @property
    def name_keys(self) -> set[str]:
        """Every normalised name this product answers to."""
        return {name_key(n) for n in (self.name, *self.aliases)}

    @property
    def homepage_key(self) -> str:
        return homepage_key(self.homepage)

    def maker_text(self) -> dict[str, str]:
        """The fields a maker wrote, which the critics must treat as untrusted data."""
        fields = {"name": self.name, "tagline": self.tagline, "description": self.description}
        if self.pricing.note:
            fields["pricing note"] = self.pricing.note
        for plan in self.pricing.plans:
            if plan.note:
                fields[f"plan {plan.name} note"] = plan.note
        return fields

    def injection_flags(self) -> list[InjectionFlag]:
        """Places where maker text tries to instruct the critics."""
        return [
            f for field, text in self.maker_text().items() for f in find_injections(field, text)
        ]

    def to_data(self) -> dict[str, Any]:
        """The tool as import-ready data (what `tools export` writes)."""
        data: dict[str, Any] = {
            "slug": self.slug,
            "name": self.name,
        }
        if self.aliases:
            data["aliases"] = list(self.aliases)
        data |= {
            "vendor": self.vendor,
            "homepage": self.homepage,
            "category": self.category,
            "tagline": self.tagline,
            "description": self.description,
        }
        if self.licence:
            data["licence"] = self.licence
        data["open_weights"] = self.open_weights
        links = self.links.model_dump(exclude_none=True)
        if links:
            data["links"] = links
        if self.launch_date:
            data["launch_date"] = self.launch_date.isoformat()
        pricing: dict[str, Any] = {"entry": self.pricing.entry.value}
        pricing["plans"] = [p.to_data() for p in self.pricing.plans]
        if self.pricing.note:
            pricing["note"] = self.pricing.note
        if self.pricing.source:
            pricing["source"] = self.pricing.source
        if self.pricing.checked:
            pricing["checked"] = self.pricing.checked.isoformat()
        data["pricing"] = pricing
        if self.sample:
            data["sample"] = True
        return data

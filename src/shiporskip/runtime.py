"""Open an instance: settings -> data dir -> engine -> migrated schema -> repositories.

Nothing is built at import time; the CLI, the web app and the tests all call `open_runtime`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from shiporskip.panel.critics import Critic, load_critics
from shiporskip.settings import Settings, ensure_data_dir
from shiporskip.storage import migrate
from shiporskip.storage.catalog import CatalogStore
from shiporskip.storage.engine import create_engine
from shiporskip.storage.pairwise import PairwiseStore
from shiporskip.storage.reviews import ReviewStore


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    catalog: CatalogStore
    reviews: ReviewStore
    pairwise: PairwiseStore
    _critics: dict[tuple[str, bool], list[Critic]] = field(default_factory=dict)

    def critics(self, *, include_retired: bool = False) -> list[Critic]:
        """The panel: the built-in critics, or those in the critics_dir setting.

        Read and validated once per process and critics_dir (pages ask on every request);
        edits to critic files take effect when the server or worker restarts.
        """
        key = (self.settings.critics_dir, include_retired)
        if key not in self._critics:
            directory = Path(self.settings.critics_dir) if self.settings.critics_dir else None
            self._critics[key] = load_critics(directory, include_retired=include_retired)
        return list(self._critics[key])

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(settings: Settings, *, upgrade: bool = True) -> Runtime:
    """Everything a command or the web app needs, with migrations applied."""
    ensure_data_dir(settings)
    engine = create_engine(settings.sqlalchemy_url)
    if upgrade:
        migrate.upgrade(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        catalog=CatalogStore(engine),
        reviews=ReviewStore(engine),
        pairwise=PairwiseStore(engine),
    )

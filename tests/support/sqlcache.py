"""SQLite engines of one test process sharing one dialect and one cache of compiled SQL.

Each test gets a new database file and so a new engine, and SQLAlchemy keys the SQL it
compiled by the engine's dialect object: every test compiled every statement it ran again,
about a quarter of the server tests' time. The compiled form of a statement depends only on
the dialect (the same SQLite library for every file here), never on a database's rows, so
engines of different files may share it. PostgreSQL engines are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.util import LRUCache

from server.db import engine as server_engine

# Statements of the whole suite, with room to spare (an engine keeps 500 by default).
CACHE_SIZE = 5000


@contextmanager
def shared_compiled_sql() -> Iterator[Callable[[Engine], bool]]:
    """While open, every SQLite engine `server.db.engine` makes shares the first one's
    dialect and compiled-SQL cache; yields a check that an engine does."""
    make = server_engine.create_engine
    shared: dict[str, Any] = {}

    def create_engine(url: Any, *args: Any, **kwargs: Any) -> Engine:
        engine = make(url, *args, **kwargs)
        if engine.dialect.name != "sqlite":
            return engine
        if not shared:
            shared.update(dialect=engine.dialect, cache=LRUCache(CACHE_SIZE))
        engine.dialect = shared["dialect"]
        engine._compiled_cache = shared["cache"]  # SQLAlchemy keeps its cache here
        return engine

    def sharing(engine: Engine) -> bool:
        return engine.dialect is shared.get("dialect") and engine._compiled_cache is shared.get(
            "cache"
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_engine, "create_engine", create_engine)
        yield sharing

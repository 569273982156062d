"""The engines of one test process sharing, per database kind, one dialect and one cache
of compiled SQL.

Each test gets a new database (a SQLite file, or a PostgreSQL database) and so a new
engine, and SQLAlchemy keys the SQL it compiled by the engine's dialect object: every test
compiled every statement it ran again, about a quarter of the server tests' time. The
compiled form of a statement depends only on the dialect (the same SQLite library, or the
same PostgreSQL server and driver, for every database here), never on a database's rows,
so engines of different databases may share it.
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
    """While open, every engine `server.db.engine` makes shares the dialect and the
    compiled-SQL cache of the first one of its kind; yields a check that an engine does."""
    make = server_engine.create_engine
    shared: dict[str, tuple[Any, LRUCache[Any, Any]]] = {}  # by dialect name

    def create_engine(url: Any, *args: Any, **kwargs: Any) -> Engine:
        engine = make(url, *args, **kwargs)
        kind = engine.dialect.name
        if kind not in shared or shared[kind][0].server_version_info is None:
            # A dialect learns its server at its own engine's first connection: until one
            # of this kind has, each new engine keeps its own, the latest the candidate.
            shared[kind] = (engine.dialect, LRUCache(CACHE_SIZE))
        dialect, cache = shared[kind]
        engine.dialect = dialect
        engine._compiled_cache = cache  # SQLAlchemy keeps its cache here
        return engine

    def sharing(engine: Engine) -> bool:
        dialect, cache = shared.get(engine.dialect.name, (None, None))
        return engine.dialect is dialect and engine._compiled_cache is cache

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_engine, "create_engine", create_engine)
        yield sharing

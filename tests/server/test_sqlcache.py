"""Test engines share compiled SQL (support.sqlcache), and each still reads its own
database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.database import migrated_database
from support.factories import member

from server.db import models
from server.db.engine import make_engine, make_sessions

pytestmark = pytest.mark.unit


def test_two_databases_share_compiled_sql_and_keep_their_own_rows(tmp_path, shared_sql) -> None:  # type: ignore[no-untyped-def]
    engines = [make_engine(migrated_database(tmp_path / f"{name}.db")) for name in ("a", "b")]
    try:
        assert all(shared_sql(engine) for engine in engines)
        with make_sessions(engines[0], writer=True)() as session, session.begin():
            member(session, name="Only in A")
        names = []
        for engine in engines:
            with make_sessions(engine)() as session:
                names.append(session.scalars(select(models.Member.name)).all())
        assert names == [["Only in A"], []]
    finally:
        for engine in engines:
            engine.dispose()

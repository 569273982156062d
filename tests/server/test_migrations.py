"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from server.db.engine import migrate
from server.db.models import Base


def test_migrations_match_the_models(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrating_twice_changes_nothing(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    migrate(engine)
    migrate(engine)
    engine.dispose()

"""The tests' databases: a new migrated one for each test, on SQLite or on PostgreSQL.

SQLite (the default): one migrated file per test process, copied for each test that needs
one. Running the Alembic migrations on a new file costs about a tenth of a second; copying
a migrated file costs almost nothing, and `ServerContext.create` then finds the schema at
the head revision and leaves it alone. Given a site file, the copy also holds that site's
rooms, doors and devices, so `ServerContext.create` finds its inventory in line and writes
nothing (the `meta` row is not in the copy: each database still draws its own epoch).

PostgreSQL: with `SPACEHUB_TEST_DATABASE` set to a server's URL (`postgresql://user@host:
port/postgres`, a role that may create databases; `.ci/postgres` starts such a server),
each test gets a new database made from a migrated template of its process
(`CREATE DATABASE ... TEMPLATE ...`), dropped when the test ends (`drop_databases`).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import sqlite3
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from server.db.engine import MIGRATIONS, make_engine, make_sessions, migrate
from server.db.inventory import sync_site
from server.db.meta import ensure_meta
from server.site import load_site

if TYPE_CHECKING:  # Alembic and psycopg are imported by the tests that use them
    import psycopg

# The PostgreSQL server the tests run on, or None for SQLite files.
POSTGRES_URL = os.environ.get("SPACEHUB_TEST_DATABASE") or None
ON_POSTGRES = POSTGRES_URL is not None


def sqlite_only(why: str) -> pytest.MarkDecorator:
    """Skips a test about SQLite itself (its files, its pragmas) on PostgreSQL."""
    return pytest.mark.skipif(ON_POSTGRES, reason=f"SQLite only: {why}")


_created: list[str] = []  # this test's PostgreSQL databases, dropped at its end


def migrated_database(path: Path, site_config: Path | None = None) -> str:
    """The URL of a new migrated database for the test whose file would be `path` (holding
    the inventory of `site_config` when given), unless that database exists already (a test
    that restarts the server keeps its data): the SQLite file `path` itself, copied from
    the migrated template, or on PostgreSQL a database named after `path`."""
    site = site_config and site_config.resolve()
    if ON_POSTGRES:
        return _postgres_database(path, site)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template(site), path)
        path.chmod(0o600)  # as the server's own (protocol.files.private_file)
    return f"sqlite:///{path}"


def empty_database(path: Path) -> str:
    """The URL of a new database with nothing in it, not even the schema (the migrations'
    tests): the SQLite file `path`, or on PostgreSQL a database named after it."""
    if ON_POSTGRES:
        name = _name(path)
        _admin().execute(f'CREATE DATABASE "{name}"')
        _created.append(name)
        return _url(name)
    return f"sqlite:///{path}"


def database_at(path: Path, revision: str) -> str:
    """The URL of a new database with the schema of Alembic's `revision` and no rows (the
    migrations' tests): on SQLite a copy of this process's file at that revision, on
    PostgreSQL a database named after `path` migrated there."""
    if ON_POSTGRES:
        url = empty_database(path)
        engine = create_engine(url)
        try:
            upgrade(engine, revision)
        finally:
            engine.dispose()
        return url
    shutil.copyfile(_at_revision(revision), path)
    return f"sqlite:///{path}"


def upgrade(engine: Engine, revision: str) -> None:
    """Migrate `engine`'s database up to Alembic's `revision`."""
    _alembic(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate `engine`'s database down to Alembic's `revision`."""
    _alembic(engine, "downgrade", revision)


def _alembic(engine: Engine, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def read_rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`?` marks its arguments) read from the database at `url` directly,
    while a server writes it (another process): a SQLite file opened read-only (fine: WAL),
    or a PostgreSQL database."""
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        return [tuple(row) for row in conn.execute(sql.replace("?", "%s"), args).fetchall()]


def drop_databases() -> None:
    """Drop the PostgreSQL databases made since the last call (at the end of each test);
    connections still open to them are ended."""
    while _created:
        name = _created.pop()
        _admin().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- SQLite ---------------------------------------------------------------------------------


@cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="spacehub-template-db-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@cache
def _template(site_config: Path | None) -> Path:
    path = _folder() / f"migrated-{len(list(_folder().iterdir()))}.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        _fill(engine, site_config)
    finally:
        engine.dispose()  # the last connection closed: the WAL is checkpointed and removed
    return path


@cache
def _at_revision(revision: str) -> Path:
    path = _folder() / f"at-{revision}.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    return path


def _fill(engine, site_config: Path | None) -> None:  # type: ignore[no-untyped-def]
    migrate(engine)
    if site_config is not None:
        site = load_site(site_config)
        with make_sessions(engine, writer=True)() as session, session.begin():
            ensure_meta(session)
            sync_site(session, site)


# --- PostgreSQL -----------------------------------------------------------------------------


def _url(database: str) -> str:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


@cache
def _admin() -> psycopg.Connection:
    """A connection to the server's own database, outside transactions (CREATE DATABASE)."""
    import psycopg

    assert POSTGRES_URL is not None
    conn = psycopg.connect(POSTGRES_URL, autocommit=True)
    atexit.register(_drop_templates, conn)
    return conn


_templates: list[str] = []


@cache
def _postgres_template(site_config: Path | None) -> str:
    name = f"spacehub_template_{os.getpid()}_{len(_templates)}"
    _admin().execute(f'CREATE DATABASE "{name}"')
    _templates.append(name)
    engine = make_engine(_url(name))
    try:
        _fill(engine, site_config)
    finally:
        engine.dispose()  # a template must have no connection when it is copied
    return name


def _postgres_database(path: Path, site_config: Path | None) -> str:
    name = _name(path)
    if name not in _created:
        template = _postgres_template(site_config)
        _admin().execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        _created.append(name)
    return _url(name)


def _name(path: Path) -> str:
    return "t_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]


def _drop_templates(conn: psycopg.Connection) -> None:
    drop_databases()
    for name in _templates:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()

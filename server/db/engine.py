"""Engine, sessions and migrations."""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from protocol.files import open_to_others, private_file

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


BUSY_TIMEOUT_S = 30  # how long a writer waits for SQLite's write lock
_TURN = "spacehub_write_turn"  # in a connection's info while it holds its process's turn
# The key of the advisory lock every writer transaction takes on PostgreSQL ("spacehub").
WRITER_LOCK = 0x7370616365687562


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout, and its folder;
    PostgreSQL (`postgresql+psycopg://`; `postgresql://` means the same) gets psycopg 3,
    a checked pool and the writers' lock."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and ":memory:" not in path:
            _private_database(Path(path))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
        )
        turns = WriteTurns()
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", turns.begin)
        event.listen(engine.pool, "checkin", turns.end)
        event.listen(engine.pool, "invalidate", turns.end)
        return engine
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    # SQLAlchemy's pool (5 connections, 10 more at a peak), each checked before it is used:
    # a restarted or failed-over PostgreSQL costs the next request nothing.
    engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
    event.listen(engine, "begin", _postgresql_begin)
    return engine


def _private_database(path: Path) -> None:
    """Members' personal data and card hashes: the server's user alone reads them (SQLite
    gives the -wal and -shm files the database file's mode). A folder made for it is 0700;
    one that was there is not the server's to change, so one open to others is told."""
    existed = path.parent.exists()
    private_file(path)
    if existed and open_to_others(path.parent):
        log.warning(
            "the database's folder %s is open to other users: make it theirs alone "
            "(chmod 700) or move the database",
            path.parent.resolve(),
        )


def _sqlite_pragmas(dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
    # pysqlite's own transaction handling would emit BEGIN itself; we do it in "begin".
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class WriteTurns:
    """The writers of one process take SQLite's write lock in turns, each woken as soon as
    the one before it has finished, rather than by SQLite's busy handler, which looks
    again after sleeping 1, 2, 5, 10, 15... ms: a tap's record waiting behind a batch of
    sensor events would wait that much longer than the batch.

    A writer's turn begins with its transaction (`BEGIN IMMEDIATE`: it takes SQLite's
    write lock, so a read-then-write transaction never fails on a snapshot another writer
    changed; readers stay deferred and never block) and ends when its connection goes
    back to the pool, once committed or rolled back. Other processes still meet SQLite's
    own lock and busy timeout; so does a writer that waited `BUSY_TIMEOUT_S` for its turn.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None  # the thread whose turn it is

    def begin(self, conn: Connection) -> None:
        if not conn.get_execution_options().get("immediate", False):
            conn.exec_driver_sql("BEGIN")
            return
        me = threading.get_ident()
        # A thread whose turn it is already (on another connection) waits on SQLite alone.
        mine = conn.info.get(_TURN) or self._holder == me
        if not mine and self._lock.acquire(timeout=BUSY_TIMEOUT_S):
            self._holder = me
            conn.info[_TURN] = True
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def end(self, dbapi_conn: object, record: Any, *_: object) -> None:
        if record.info.pop(_TURN, False):
            self._holder = None
            self._lock.release()


def _postgresql_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # What `BEGIN IMMEDIATE` is on SQLite: writers take one lock, held to the end of their
    # transaction, so a read-then-write transaction never acts on a row another writer is
    # changing; readers take none and never wait. (The bookings' overlap rule is also an
    # exclusion constraint on PostgreSQL, which holds for any writer: migration 0008.)
    if conn.get_execution_options().get("immediate", False):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")


def make_sessions(engine: Engine, *, writer: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or (`writer=True`) for transactions that write."""
    bind = engine.execution_options(immediate=True) if writer else engine
    return sessionmaker(bind, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration (run at start); nothing to do at the head revision."""
    with engine.connect() as conn:
        if _revision(conn) == _head():
            return
    # Alembic only when there is something to migrate: 11 MB and 140 modules that a server
    # would keep for nothing once its database is at the head.
    from alembic import command

    cfg = _config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        # SQLite changes a table by copying it and dropping the old one, which its foreign
        # keys would refuse while other tables' rows refer to it: they are off (outside a
        # transaction, the only place SQLite hears it) while migrating, and every row is
        # checked against them before the migration commits.
        if sqlite:
            _foreign_keys(conn, on=False)
        try:
            # Replicas starting together on PostgreSQL: one migrates, the others then find
            # the head.
            with conn.execution_options(immediate=True).begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all() if sqlite else []
                if broken:
                    raise RuntimeError(f"the migration left rows that refer to none: {broken}")
        finally:
            if sqlite:
                _foreign_keys(conn, on=True)


def _foreign_keys(conn: Connection, *, on: bool) -> None:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _revision(conn: Connection) -> str | None:
    """The database's revision, read from Alembic's table as Alembic's own check does but
    without its set-up (a few milliseconds, on every start and in every test)."""
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no such table: a new database
        return None


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


# A migration's file is named after its revision, which revises the one of the file before
# it (0012_sessions_site.py is revision "0012", down_revision "0011"):
# tests/server/test_migration_head.py checks that every file keeps to this.
REVISION_FILES = "[0-9][0-9][0-9][0-9]_*.py"


@cache
def _head() -> str | None:
    """The head revision: the newest migration file's number, found without Alembic
    (which would import its scripts and itself to say the same)."""
    names = sorted(path.name for path in (MIGRATIONS / "versions").glob(REVISION_FILES))
    return names[-1][:4] if names else None

"""Engine, sessions and migrations."""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from protocol.files import open_to_others, private_file

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        turns = WriterTurns()
        event.listen(engine, "begin", turns.begin)
        event.listen(engine, "commit", turns.end)
        event.listen(engine, "rollback", turns.end)
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


class WriterTurns:
    """SQLite's writers of one process take turns here before BEGIN IMMEDIATE.

    A writer takes SQLite's write lock at BEGIN, so a read-then-write transaction never
    fails on a snapshot another writer changed; readers stay deferred and never block.
    A writer that finds the lock taken would wait in SQLite's busy handler, which polls
    (sleeping up to 100 ms between tries) and can lose every turn to a writer that takes
    the lock back at once (the release sweep's next batch): here it is woken as soon as
    the writer before it is through. Waited for `TURN_WAIT_S` at most, after which SQLite's
    own wait applies as before."""

    TURN_WAIT_S = 30.0

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a nested writer then fails as SQLite makes it

    def begin(self, conn: Connection) -> None:
        immediate = conn.get_execution_options().get("immediate", False)
        if immediate and self._lock.acquire(timeout=self.TURN_WAIT_S):
            conn.info["writer_turn"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: Connection) -> None:
        """The transaction's commit or rollback: the next writer's turn."""
        if conn.info.pop("writer_turn", False):
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
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def _head() -> str | None:
    # Reading the migration scripts costs more than the check itself: once per process.
    return ScriptDirectory.from_config(_config()).get_current_head()

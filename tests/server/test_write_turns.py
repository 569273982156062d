"""SQLite's writers of one process take the write lock in turns (server.db.engine.WriteTurns):
one after the other, and a writer that fails gives its turn back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from server.db.engine import make_engine, make_sessions

pytestmark = pytest.mark.unit


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/turns.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    try:
        yield engine
    finally:
        engine.dispose()


def write(writes: sessionmaker[Session], n: int) -> None:
    with writes() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})


def in_thread(fn: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=fn, args=args)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_a_writer_begins_once_the_one_before_has_committed(engine: Engine) -> None:
    writes = make_sessions(engine, writer=True)
    seen: list[str] = []
    inside, done = threading.Event(), threading.Event()

    def first() -> None:
        with writes() as session, session.begin():
            session.execute(text("INSERT INTO t VALUES (1)"))
            inside.set()
            done.wait(10)
            seen.append("first committed")

    def second() -> None:
        inside.wait(10)
        with writes() as session, session.begin():
            count = session.execute(text("SELECT count(*) FROM t")).scalar_one()
            seen.append(f"second saw {count}")
            session.execute(text("INSERT INTO t VALUES (2)"))

    threads = [in_thread(first), in_thread(second)]
    inside.wait(10)
    done.set()
    for thread in threads:
        thread.join(20)
    assert seen == ["first committed", "second saw 1"]


def test_a_writer_that_fails_gives_its_turn_back(engine: Engine) -> None:
    writes = make_sessions(engine, writer=True)
    with pytest.raises(RuntimeError), writes() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("a bug in the middle of a transaction")
    other = in_thread(write, writes, 2)  # a turn never given back would hold it 30 s
    other.join(10)
    assert not other.is_alive()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [2]


def test_readers_take_no_turn(engine: Engine) -> None:
    writes, reads = make_sessions(engine, writer=True), make_sessions(engine)

    def read() -> None:
        with reads() as session:
            session.execute(text("SELECT count(*) FROM t")).all()

    with writes() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (1)"))
        reader = in_thread(read)
        reader.join(10)
        assert not reader.is_alive()  # WAL: a reader never waits for the writer

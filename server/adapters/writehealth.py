"""Whether the database takes writes, and which failures may go away by themselves.

health = WriteHealth()
health.watch(ctx.writes)      # hears every commit that wrote something
health.failed()               # a consumer's write failed transiently
health.writable               # False until a write works again
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    NotSupportedError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker


def transient(exc: BaseException) -> bool:
    """Whether a failure may go away by itself: the database locked, gone or full."""
    if isinstance(exc, (ProgrammingError, DataError, NotSupportedError)):
        return False  # the statement, not the database: a bug
    return isinstance(exc, (DBAPIError, DisconnectionError, PoolTimeout, sqlite3.OperationalError))


class WriteHealth:
    """Whether the database takes writes, from the outcome of the latest ones: a transient
    failure more recent than the last commit that wrote something says it does not.

    `watch(sessions)` hears every commit of a writer sessionmaker; consumers report their
    transient failures with `failed()`."""

    def __init__(self) -> None:
        self._n = 0
        self._committed = 0
        self._failed = 0
        self._watching: dict[int, int] = {}
        self._key = ("wrote", id(self))  # in session.info: it flushed in this transaction
        self._lock = threading.Lock()

    @property
    def writable(self) -> bool:
        with self._lock:
            return self._failed <= self._committed

    def committed(self) -> None:
        with self._lock:
            self._n += 1
            self._committed = self._n

    def failed(self) -> None:
        with self._lock:
            self._n += 1
            self._failed = self._n

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Hear the commits of `sessions` (until as many `unwatch` calls)."""
        with self._lock:
            self._watching[id(sessions)] = self._watching.get(id(sessions), 0) + 1
            if self._watching[id(sessions)] > 1:
                return
        event.listen(sessions, "after_flush", self._after_flush)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_rollback", self._after_rollback)

    def unwatch(self, sessions: sessionmaker[Session]) -> None:
        with self._lock:
            left = self._watching.get(id(sessions), 0) - 1
            if left < 0:
                return
            self._watching[id(sessions)] = left
            if left:
                return
        event.remove(sessions, "after_flush", self._after_flush)
        event.remove(sessions, "after_commit", self._after_commit)
        event.remove(sessions, "after_rollback", self._after_rollback)

    def _after_flush(self, session: Session, _context: Any) -> None:
        session.info[self._key] = True

    def _after_commit(self, session: Session) -> None:
        # Only a commit that wrote rows says the database takes writes: an empty
        # transaction commits on a full disk too.
        if session.info.pop(self._key, False):
            self.committed()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(self._key, None)

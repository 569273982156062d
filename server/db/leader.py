"""Which replica runs the periodic jobs: the one holding a PostgreSQL advisory lock.

    lead = Lead(engine, jobs_lock("piaseczno"))
    if lead.held():     # asked before every pass; cheap (from any thread)
        run_the_jobs()
    lead.release()

The lock is a session lock on a connection of its own, kept open: PostgreSQL lets it go
when that connection ends, a replica killed included, and another replica takes it at
its next pass. Should the connection break, the lock is gone with it, and the replica
asks for it again on a new one. The jobs are safe even if two replicas ran them at once
(every change is a conditional UPDATE in a writer transaction): the lock keeps them from
doing the work twice, not from doing it wrong. On SQLite there is one server process:
the lock is always held. Each site of a deployment has a lock of its own (`jobs_lock`),
so each has a replica running its jobs, which touch only its own rooms and devices.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)


def jobs_lock(site_id: str) -> int:
    """The key of a site's periodic jobs' advisory lock: a signed 64-bit number drawn from
    its id (PostgreSQL's advisory locks take a bigint)."""
    digest = hashlib.blake2b(f"spacehub-jobs:{site_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Lead:
    """Whether this replica runs its site's periodic jobs (`held()`); `key`: the site's
    `jobs_lock`."""

    def __init__(self, engine: Engine, key: int) -> None:
        self.engine = engine
        self.key = key
        self.alone = engine.dialect.name != "postgresql"
        self._conn: Connection | None = None
        self._held = False
        self._lock = threading.Lock()  # one connection, asked from several threads

    def held(self) -> bool:
        """Whether this replica holds the lock, taking it when it is free."""
        if self.alone:
            return True
        with self._lock:
            return self._ask()

    def _ask(self) -> bool:
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self._held:
                self._conn.execute(text("SELECT 1"))  # still connected, so still ours
            else:
                taken = self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar()
                if taken:
                    self._held = True
                    log.info("this replica now runs the periodic jobs")
        except Exception as exc:
            self._lost(exc)
        return self._held

    def release(self) -> None:
        """Let the lock go, and close its connection for good (never back to the pool,
        where a lock would stay with it): another replica takes the lock."""
        with self._lock:
            if self._held and self._conn is not None:
                try:
                    unlock = text("SELECT pg_advisory_unlock(:key)")
                    self._conn.execute(unlock, {"key": self.key})
                except Exception as exc:  # the connection is gone, and the lock with it
                    self._lost(exc)
            self._lost(None)

    def _lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.warning("the periodic jobs' lock: %s", str(exc).splitlines()[0][:200])
            if self._held:
                log.warning("this replica no longer runs the periodic jobs")
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.invalidate()  # closes the database connection, and the lock goes with it

"""Door-path work done after a decision is out, on a thread of its own.

Two kinds: the emergency hashes of a staff card just tapped (scrypt, about 10 ms a door,
`server.access.emergency.remember_tap`) and the alerts the tap limits raise. The ingest thread
only queues them, so neither a hash nor an alert's write ever delays the next tap's
decision. A card's UID stays in memory only until its hashes are stored; the thread ends
when it has been idle for a moment and starts again with the next job.

    after = AfterTap(ctx.writes, ctx.events, ctx.clock)
    after.staff_tapped(uid_hash, uid, version=(snapshot.epoch, snapshot.n))
    after.alert("unknown_card_flood", room_id="sala-a", device_id="reader-sala-a", details={})
    after.wait_idle(5)  # tests: until everything queued is done
    after.stop()  # at close: the hashes queued are dropped, the alerts written
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from server.access import emergency
from server.live.events import EventBus
from server.monitoring import alerts

log = logging.getLogger(__name__)

IDLE_S = 2.0  # the thread ends after this long without work
MAX_JOBS = 1000  # beyond this, new jobs are dropped (and logged): memory stays bounded


@dataclass(frozen=True)
class _Hash:
    uid_hash: str
    uid: str
    version: tuple[str, int]


@dataclass(frozen=True)
class _Alert:
    kind: str
    room_id: str | None
    device_id: str | None
    details: dict[str, Any] = field(default_factory=dict)


class AfterTap:
    """A queue of work and the one thread that does it."""

    def __init__(
        self,
        writes: sessionmaker[Session],
        events: EventBus,
        clock: Callable[[], datetime],
        *,
        idle_s: float = IDLE_S,
    ) -> None:
        self.writes = writes
        self.events = events
        self.clock = clock
        self.idle_s = idle_s
        self._jobs: deque[_Hash | _Alert] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._pending: set[str] = set()  # uid hashes queued or being hashed
        # Staff cards known to have every door's hash, as of a policy version (any change
        # that could take hashes away moves the version on).
        self._complete: set[str] = set()
        self._version: tuple[str, int] | None = None
        self._stopped = False

    def staff_tapped(self, uid_hash: str, uid: str, *, version: tuple[str, int]) -> None:
        """A staff card was tapped: give it any emergency hash it lacks, unless it is known
        to have them all at this policy version."""
        with self._cond:
            if version != self._version:
                self._version, self._complete = version, set()
            if uid_hash in self._complete or uid_hash in self._pending:
                return
            if self._put(_Hash(uid_hash, uid, version)):
                self._pending.add(uid_hash)

    def alert(
        self,
        kind: str,
        *,
        room_id: str | None,
        device_id: str | None,
        details: dict[str, Any],
    ) -> None:
        """Raise an alert (and publish it) from the worker thread."""
        with self._cond:
            self._put(_Alert(kind, room_id, device_id, details))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued job is done; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Take no more work and drop the hashes still queued (the card's next tap asks for
        them again); wait up to `timeout` seconds for the alerts queued and the job under
        way, so that nothing is written once the database is closed."""
        with self._cond:
            self._stopped = True
            dropped = {job.uid_hash for job in self._jobs if isinstance(job, _Hash)}
            self._jobs = deque(job for job in self._jobs if not isinstance(job, _Hash))
            self._pending -= dropped
            thread = self._thread
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout)

    def _put(self, job: _Hash | _Alert) -> bool:
        """Queue a job and make sure the thread runs (the caller holds the lock)."""
        if self._stopped:
            return False
        if len(self._jobs) >= MAX_JOBS:
            log.warning("after-tap queue full: %s dropped", type(job).__name__)
            return False
        self._jobs.append(job)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="after-tap", daemon=True)
            self._thread.start()
        self._cond.notify_all()
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs:
                    if not self._stopped:
                        self._cond.wait(self.idle_s)
                    if not self._jobs:
                        self._thread = None
                        self._cond.notify_all()
                        return
                job = self._jobs.popleft()
                self._busy = True
            try:
                self._do(job)
            except Exception:  # logged; the next tap of the card tries its hashes again
                log.exception("after-tap work failed: %s", type(job).__name__)
            finally:
                with self._cond:
                    self._busy = False
                    if isinstance(job, _Hash):
                        self._pending.discard(job.uid_hash)
                    self._cond.notify_all()

    def _do(self, job: _Hash | _Alert) -> None:
        if isinstance(job, _Hash):
            added = emergency.remember_tap(self.writes, uid_hash=job.uid_hash, uid=job.uid)
            if not added:
                with self._cond:
                    if self._version == job.version:
                        self._complete.add(job.uid_hash)
            return
        with self.writes() as session, session.begin():
            alert = alerts.raise_alert(
                session,
                kind=job.kind,
                now=self.clock(),
                room_id=job.room_id,
                device_id=job.device_id,
                details=job.details,
            )
            shown = alerts.alert_event(alert)
        self.events.publish(shown)

"""The scheduler: a daemon thread that sweeps bookings (and waitlist offers) every
quarter of a second, so a no-show is released within a second of its grace ending.

    scheduler = Scheduler(ctx, start_after=backlog_applied)
    scheduler.start()   # first sweep once `backlog_applied` is set (or after 10 s)
    ...
    scheduler.stop()

Each pass is its own writer transaction; an exception is logged and the next pass runs
as usual. Tests call `run_once()` with a moved clock instead of starting the thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from server import occupancy, release, waitlist
from server.release import SweepReport

if TYPE_CHECKING:
    from server.context import ServerContext

log = logging.getLogger(__name__)


class Scheduler:
    """Runs `release.sweep` (and the waitlist's `expire_offers`) every `interval` seconds.

    `start_after`: the first sweep waits until this event is set (the server sets it once
    the door path's backlog is applied, so people a gateway let in while the server was
    away are not counted as no-shows), or until `start_timeout` has passed.
    `on_report`: called after each sweep that changed something, once it is committed
    (e.g. to push booking events to dashboards)."""

    def __init__(
        self,
        ctx: ServerContext,
        *,
        interval: float = 0.25,
        start_after: threading.Event | None = None,
        start_timeout: float = 10.0,
        on_report: Callable[[SweepReport], object] | None = None,
    ) -> None:
        self.ctx = ctx
        self.interval = interval
        self.start_after = start_after
        self.start_timeout = start_timeout
        self.on_report = on_report
        self.passes = 0  # sweeps that committed
        self._occupancy_at: datetime | None = None  # the last occupancy tick's time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="server-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for the pass under way to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> SweepReport:
        """One pass: the release sweep, then the waitlist's offers, then occupancy's tick,
        each committed alone so a failing waitlist never holds back a release."""
        ctx = self.ctx
        with ctx.writes() as session, session.begin():
            report = release.sweep(session, site=ctx.site, now=ctx.clock())
        self.passes += 1
        try:
            with ctx.writes() as session, session.begin():
                waitlist.expire_offers(session, site=ctx.site, now=ctx.clock())
        except Exception:
            log.exception("expiring waitlist offers failed")
        self._tick_occupancy()
        if self.on_report is not None and (report.changed_policy or report.reminded):
            self.on_report(report)
        return report

    def _tick_occupancy(self) -> None:
        """Occupancy's pass (resets, vacant walk-ins, alerts, device health), committed
        alone and published after; a failure is logged and never holds back a release."""
        now = self.ctx.clock()
        try:
            with self.ctx.writes() as session, session.begin():
                changes = occupancy.tick(
                    session, site=self.ctx.site, now=now, since=self._occupancy_at
                )
        except Exception:
            log.exception("the occupancy tick failed")
            return
        self._occupancy_at = now
        changes.publish(self.ctx.events)

    def _run(self) -> None:
        ready = self.start_after
        waited = ready is None or _wait_either(ready, self._stop, self.start_timeout)
        if not waited and not self._stop.is_set():
            log.warning(
                "door-path backlog not applied within %.0f s: sweeping anyway", self.start_timeout
            )
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("scheduler pass failed; trying again in %.2f s", self.interval)
            self._stop.wait(self.interval)


def _wait_either(ready: threading.Event, stop: threading.Event, timeout: float) -> bool:
    """Wait for `ready` until `timeout`, waking early when `stop` is set."""
    step = 0.05
    waited = 0.0
    while waited < timeout and not stop.is_set():
        if ready.wait(step):
            return True
        waited += step
    return ready.is_set()

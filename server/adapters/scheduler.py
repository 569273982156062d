"""The scheduler: a daemon thread that sweeps bookings (and waitlist offers) every
quarter of a second, so a no-show is released within a second of its grace ending, and
once a day purges events past the site's retention (server.people.gdpr).

    scheduler = Scheduler(ctx, start_after=ingest.backlog_applied)
    scheduler.start()   # first sweep once the door path's backlog is applied
    ...
    scheduler.stop()

Each pass is its own writer transaction (the sweep's reminders and releases a batch a
transaction, when many are due at once); an exception is logged and the next pass runs
as usual. A sweep that changed what doors decide has the new policy snapshot built
after its commit on a thread of its own (`PolicyBuilder`), so that neither a tap nor
the next sweep waits for it. With several replicas on PostgreSQL, only the one holding
the periodic jobs' advisory lock runs the passes (server.db.leader); another takes over
within a pass of its death. Tests call `run_once()` with a moved clock instead of
starting the thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from server.adapters.background import Background
from server.adapters.rejections import LOG_EVERY_S, LogEvery
from server.adapters.writehealth import transient
from server.noshows import release
from server.noshows.release import SweepReport
from server.notify.reminders import remind_starts
from server.occupancy.tick import tick
from server.people import gdpr, logins
from server.waitlist import offers

if TYPE_CHECKING:
    from server.context import ServerContext

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0  # the backlog's marker never came back: sweep anyway
# A transaction at most: reminders (each renders a mail), and releases (every commit of
# one changes the doors' policy, and a snapshot is built again for it).
REMINDERS_BATCH = 20
RELEASES_BATCH = 200
BATCH_PAUSE_S = 0.005


class PolicyBuilder(Background):
    """Builds the policy snapshot a sweep's changes make on a thread of its own, soon after
    the sweep's commit (`soon`): neither the next tap's answer nor the next sweep waits for
    the build (a tap finds it of the stored version, or waits for the build under way)."""

    THREAD = "policy-builder"

    def __init__(self, ctx: ServerContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._asked = threading.Event()

    def soon(self) -> None:
        self._asked.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._asked.set()  # wake the thread to see it
        super().stop(timeout)

    def _run(self) -> None:
        while True:
            self._asked.wait()
            if self._stop.is_set():
                return
            self._asked.clear()
            try:
                with self.ctx.reads() as session:
                    self.ctx.policy.get(session, self.ctx.clock())
            except Exception:
                log.exception("building the policy snapshot failed (the next tap builds it)")


class Scheduler(Background):
    """Runs `release.sweep` (and the waitlist's `expire_offers`) every `interval` seconds.

    `start_after`: the first sweep waits until this event is set (the door path sets it
    once its marker came back with nothing received before it still held, so people a
    gateway let in while the server was away are not counted as no-shows). Should it never
    be set (a broker that does not echo the marker), the sweeps start all the same after
    `start_timeout`, with an error in the log: releasing nothing at all would be worse.
    `on_report`: called after each sweep that changed something, once it is committed
    (e.g. to push booking events to dashboards)."""

    THREAD = "server-scheduler"

    def __init__(
        self,
        ctx: ServerContext,
        *,
        interval: float = 0.25,
        start_after: threading.Event | None = None,
        start_timeout: float = START_TIMEOUT_S,
        on_report: Callable[[SweepReport], object] | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.interval = interval
        self.start_after = start_after
        self.start_timeout = start_timeout
        self.on_report = on_report
        self.passes = 0  # sweeps that committed
        self._occupancy_at: datetime | None = None  # the last occupancy tick's time
        self._purged_on: date | None = None  # the day of the last retention purge (UTC)
        self._db_logs = LogEvery(LOG_EVERY_S, time.monotonic)
        self.builder = PolicyBuilder(ctx)

    def start(self) -> None:
        self.builder.start()
        super().start()

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.builder.stop(timeout)

    def run_once(self) -> SweepReport:
        """One pass: the release sweep, then the waitlist's offers, the reminders before
        bookings' starts (e-mailed), then occupancy's tick, each committed alone so a
        failing waitlist never holds back a release."""
        ctx = self.ctx
        report = SweepReport(more=True)
        while report.more:  # a batch a transaction: a tap's record never waits long
            with ctx.writes() as session, session.begin():
                part = release.sweep(
                    session,
                    site=ctx.site,
                    now=ctx.clock(),
                    reminders=REMINDERS_BATCH,
                    releases=RELEASES_BATCH,
                )
            report.add(part)
            if part.more:  # the writers waiting meanwhile go first
                time.sleep(BATCH_PAUSE_S)
        self.passes += 1
        if report.changed_policy:
            self.builder.soon()
        try:
            with ctx.writes() as session, session.begin():
                offers.expire_offers(session, site=ctx.site, now=ctx.clock())
        except Exception as exc:
            self._failed("expiring waitlist offers failed", exc)
        try:
            with ctx.writes() as session, session.begin():
                remind_starts(session, site=ctx.site, now=ctx.clock())
        except Exception as exc:
            self._failed("the reminders before bookings' starts failed", exc)
        self._tick_occupancy()
        self._purge_daily()
        if self.on_report is not None and (report.changed_policy or report.reminded):
            self.on_report(report)
        return report

    def _tick_occupancy(self) -> None:
        """Occupancy's pass (resets, vacant walk-ins, alerts, device health), committed
        alone and published after; a failure is logged and never holds back a release."""
        now = self.ctx.clock()
        try:
            with self.ctx.writes() as session, session.begin():
                changes = tick(session, site=self.ctx.site, now=now, since=self._occupancy_at)
        except Exception as exc:
            self._failed("the occupancy tick failed", exc)
            return
        self._occupancy_at = now
        changes.publish(self.ctx.events)

    def _purge_daily(self) -> dict[str, int] | None:
        """Once a day: delete the events past the site's retention, a batch a transaction
        (a writer is never held for long), then audit the counts as `data.purge` when any
        row went. The counts, or None when today's purge is done already (or failed: tried
        next pass)."""
        now = self.ctx.clock()
        if self._purged_on == now.date():
            return None
        before = gdpr.cutoff(self.ctx.site, now)
        totals: Counter[str] = Counter()
        try:
            while True:
                with self.ctx.writes() as session, session.begin():
                    counts = gdpr.purge_batch(session, site=self.ctx.site, before=before)
                totals.update(counts)
                if max(counts.values()) < gdpr.BATCH:
                    break
            with self.ctx.writes() as session, session.begin():
                logins.forget_failures(session, now=now)
                if any(totals.values()):
                    gdpr.record_purge(session, counts=dict(totals), before=before, now=now)
        except Exception as exc:
            self._failed("purging events past the retention failed", exc)
            return None
        self._purged_on = now.date()
        if any(totals.values()):
            log.info("purged events received before %s: %s", before, dict(totals))
        return dict(totals)

    def _run(self) -> None:
        ready = self.start_after
        waited = ready is None or _wait_either(ready, self._stop, self.start_timeout)
        if not waited and not self._stop.is_set():
            log.error(
                "door-path backlog not applied within %.0f s (its marker never came back: may "
                "the server publish and read its own sys/server/.../marker topic?): sweeping "
                "anyway, and a member the gateway let in may be counted a no-show",
                self.start_timeout,
            )
        while not self._stop.is_set():
            try:
                if self.ctx.lead.held():
                    self.run_once()
            except Exception as exc:
                self._failed(f"scheduler pass failed; trying again in {self.interval:.2f} s", exc)
            self._stop.wait(self.interval)

    def _failed(self, what: str, exc: Exception) -> None:
        """A bug is logged with its traceback each time; the database not taking writes
        (a full disk) in one line a minute, as every pass fails alike until it does."""
        if not transient(exc):
            log.error("%s", what, exc_info=exc)
            return
        now, quiet = self._db_logs.due(what)
        if now:
            more = f" ({quiet} more since the last line)" if quiet else ""
            log.warning("%s: %s%s", what, str(exc).splitlines()[0][:200], more)


def _wait_either(ready: threading.Event, stop: threading.Event, timeout: float) -> bool:
    """Wait for `ready` until `timeout`, waking early when `stop` is set."""
    step = 0.05
    waited = 0.0
    while waited < timeout and not stop.is_set():
        if ready.wait(step):
            return True
        waited += step
    return ready.is_set()

"""The retained commands the server keeps on every door: its DoorMode and EmergencyList.

`DoorState.follow(now)` works out what each door's retained messages should say and
publishes those that changed, each with the next number of the server's command counter
`n` (docs/protocol.md, "Commands in time"), and compares the mode each door says it applies
(its Status) with the one asked of it: a door that differs for more than
`MISMATCH_AFTER` raises a `door_mode_mismatch` alert, closed when they agree again. The
door path's adapter calls it every half second and calls `forget()` on a new broker
connection (the broker may have restarted without its retained messages), so every door
hears both again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from protocol import topics
from protocol.messages import DoorMode, Message
from server.access.doormodes import effective_modes
from server.access.emergency import DoorList, emergency_lists
from server.context import ServerContext
from server.db import meta, models
from server.monitoring import alerts, device_status
from server.timefmt import format_utc

log = logging.getLogger(__name__)

# Emergency lists are worked out again when the policy version moves, and at least this
# often (a member's suspension ends with no change to the database).
EMERGENCY_REFRESH_S = 60.0
# A door may take this long to apply a new mode and say so in its Status.
MISMATCH_AFTER = timedelta(seconds=10)
MISMATCH = "door_mode_mismatch"

Publish = Callable[[str, Message], object]  # (topic, message), published retained


class DoorState:
    """Publishes each door's retained DoorMode and EmergencyList whenever what it should
    say changes, and alerts on a door that does not apply its mode."""

    def __init__(self, ctx: ServerContext, publish: Publish) -> None:
        self.ctx = ctx
        self._publish = publish
        self._modes: dict[str, str] = {}
        self._emergency: dict[str, DoorList] = {}  # what each door's retained list says
        self._emergency_version: tuple[str, int] | None = None
        self._emergency_due = 0.0
        self._mismatch: dict[str, datetime] = {}  # door device -> since when it differs
        self._alerted: set[str] = set()  # door devices alerted on since they last agreed

    def forget(self) -> None:
        """A new broker session: publish every door's mode and list again."""
        self._modes.clear()
        self._emergency.clear()
        self._emergency_version = None

    def follow(self, now: datetime) -> None:
        self._follow_modes(now)
        self._follow_emergency(now)

    def _numbers(self, count: int, now: datetime) -> list[int] | None:
        """`count` numbers of the command counter, committed; None when the database
        cannot be written (the next pass tries again)."""
        try:
            with self.ctx.writes() as session, session.begin():
                return meta.take_numbers(session, count, now)
        except Exception:
            log.exception("could not count the door commands")
            return None

    def _follow_modes(self, now: datetime) -> None:
        A = models.Alert
        try:
            with self.ctx.reads() as session:
                modes = effective_modes(session, self.ctx.site, now)
                rows = {r.id: r for r in session.scalars(select(models.Device))}
                open_alerts = set(
                    session.scalars(
                        select(A.device_id).where(A.kind == MISMATCH, A.acknowledged_at.is_(None))
                    )
                )
        except Exception:
            log.exception("could not work out the door modes")
            return
        changed = {
            device: mode for device, mode in modes.items() if self._modes.get(device) != mode
        }
        numbers = self._numbers(len(changed), now) if changed else []
        if numbers is not None:  # else sent at a later pass, when the counter moves on
            for (device, mode), n in zip(changed.items(), numbers, strict=True):
                message = DoorMode(ts=now, mode=mode, n=n)  # type: ignore[arg-type]
                self._publish(topics.mode(self.ctx.site.id, device), message)
                self._modes[device] = mode
        for device, mode in modes.items():
            self._compare(device, mode, rows.get(device), device in open_alerts, now)

    def _compare(
        self, device: str, wanted: str, row: models.Device | None, open_alert: bool, now: datetime
    ) -> None:
        """Alert on a door that has applied another mode than `wanted` for more than
        `MISMATCH_AFTER` (once, until they agree again); close its alert when they agree.
        A door that is offline, or does not say its mode, is not compared."""
        actual = device_status.reported_mode(row) if device_status.device_online(row, now) else None
        if actual is None:
            self._mismatch.pop(device, None)
            return
        if actual == wanted:
            self._mismatch.pop(device, None)
            self._alerted.discard(device)
            if open_alert:
                self._write(device, now, resolve=True)
            return
        since = self._mismatch.setdefault(device, now)
        if now - since > MISMATCH_AFTER and not open_alert and device not in self._alerted:
            log.warning("%s applies mode %s, asked %s since %s", device, actual, wanted, since)
            details = {"requested": wanted, "actual": actual, "since": format_utc(since)}
            if self._write(device, now, details=details):
                self._alerted.add(device)

    def _write(
        self, device_id: str, now: datetime, *, resolve: bool = False, details: dict | None = None
    ) -> bool:
        """Raise the mismatch alert of a door (or close it); publish it after the commit."""
        site_device = self.ctx.site.device(device_id)
        if site_device is None:
            return False
        room = self.ctx.site.room(site_device.room)
        try:
            with self.ctx.writes() as session, session.begin():
                if resolve:
                    done = alerts.resolve(session, kind=MISMATCH, device_id=device_id, now=now)
                else:
                    where = {"room": room.name if room else site_device.room}
                    raised = alerts.raise_alert(
                        session,
                        kind=MISMATCH,
                        now=now,
                        room_id=site_device.room,
                        device_id=device_id,
                        details={**where, "door": site_device.door, **(details or {})},
                    )
                    done = [raised]
                shown = [alerts.alert_event(a) for a in done]
        except Exception:
            log.exception("could not record the door mode alert of %s", device_id)
            return False
        self.ctx.events.publish_all(shown)
        return True

    def _follow_emergency(self, now: datetime) -> None:
        try:
            with self.ctx.reads() as session:
                version = meta.version(session)
                if version == self._emergency_version and time.monotonic() < self._emergency_due:
                    return
                lists = emergency_lists(session, site=self.ctx.site, now=now)
        except Exception:
            log.exception("could not work out the emergency lists")
            return
        changed = {
            d: door_list for d, door_list in lists.items() if self._emergency.get(d) != door_list
        }
        numbers = self._numbers(len(changed), now) if changed else []
        if numbers is None:
            return
        for (device, door_list), n in zip(changed.items(), numbers, strict=True):
            if door_list.left_out:
                log.warning(
                    "%s: more staff cards than an emergency list holds; %d left out, "
                    "the newest %d kept",
                    device,
                    door_list.left_out,
                    len(door_list.cards),
                )
            self._publish(topics.emergency(self.ctx.site.id, device), door_list.message(now, n))
            self._emergency[device] = door_list
        self._emergency_version = version
        self._emergency_due = time.monotonic() + EMERGENCY_REFRESH_S

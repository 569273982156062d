"""The retained commands the server keeps on every door: its DoorMode and EmergencyList.

`DoorState.follow(now)` works out what each door's retained messages should say and
publishes those that changed. The door path's adapter calls it every half second and
calls `forget()` on a new broker connection (the broker may have restarted without its
retained messages), so every door hears both again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from protocol import topics
from protocol.messages import DoorMode, Message
from server import policy
from server.context import ServerContext
from server.doormodes import effective_modes
from server.emergency import DoorList, emergency_lists

log = logging.getLogger(__name__)

# Emergency lists are worked out again when the policy version moves, and at least this
# often (a member's suspension ends with no change to the database).
EMERGENCY_REFRESH_S = 60.0

Publish = Callable[[str, Message], object]  # (topic, message), published retained


class DoorState:
    """Publishes each door's retained DoorMode and EmergencyList whenever what it should
    say changes."""

    def __init__(self, ctx: ServerContext, publish: Publish) -> None:
        self.ctx = ctx
        self._publish = publish
        self._modes: dict[str, str] = {}
        self._emergency: dict[str, DoorList] = {}  # what each door's retained list says
        self._emergency_version: tuple[str, int] | None = None
        self._emergency_due = 0.0

    def forget(self) -> None:
        """A new broker session: publish every door's mode and list again."""
        self._modes.clear()
        self._emergency.clear()
        self._emergency_version = None

    def follow(self, now: datetime) -> None:
        self._follow_modes(now)
        self._follow_emergency(now)

    def _follow_modes(self, now: datetime) -> None:
        try:
            with self.ctx.reads() as session:
                modes = effective_modes(session, self.ctx.site, now)
        except Exception:
            log.exception("could not work out the door modes")
            return
        for device, mode in modes.items():
            if self._modes.get(device) != mode:
                message = DoorMode(ts=now, mode=mode)  # type: ignore[arg-type]
                self._publish(topics.mode(self.ctx.site.id, device), message)
                self._modes[device] = mode

    def _follow_emergency(self, now: datetime) -> None:
        try:
            with self.ctx.reads() as session:
                version = policy.version(session)
                if version == self._emergency_version and time.monotonic() < self._emergency_due:
                    return
                lists = emergency_lists(session, site=self.ctx.site, now=now)
        except Exception:
            log.exception("could not work out the emergency lists")
            return
        for device, door_list in lists.items():
            if self._emergency.get(device) == door_list:
                continue
            if door_list.left_out:
                log.warning(
                    "%s: more staff cards than an emergency list holds; %d left out, "
                    "the newest %d kept",
                    device,
                    door_list.left_out,
                    len(door_list.cards),
                )
            self._publish(topics.emergency(self.ctx.site.id, device), door_list.message(now))
            self._emergency[device] = door_list
        self._emergency_version = version
        self._emergency_due = time.monotonic() + EMERGENCY_REFRESH_S

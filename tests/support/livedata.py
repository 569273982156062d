"""Live data on the demo site for the dashboard's browser tests: taps at the doors and a
booking that holds a room now, so the page shows what a receptionist sees on a busy day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from server.db import models
from support.waiting import eventually

# Ewa Nowak (staff: let in anywhere), Olena Szewczenko (no membership: a free room is
# hers as a walk-in) and Jan Zieliński (suspended: refused).
LET_IN = ("reader-main", "04A1B2C3")
WALK_IN = ("reader-sala-a", "04D4E5F6")
REFUSED = ("reader-cowork", "04E5F6A7")


def tap(site: Any, device: str, uid: str) -> None:
    """A card at a door's fake reader; returns once the server has logged the tap."""
    before = _taps(site)
    site.building.doors[device].reader.present(uid)
    assert eventually(lambda: _taps(site) > before), f"the tap at {device} was never logged"


def _taps(site: Any) -> int:
    with site.ctx.reads() as session:
        return int(session.scalar(select(func.count()).select_from(models.AccessEvent)) or 0)


def book_now(site: Any, room_id: str, title: str = "Spotkanie rady osiedla") -> int:
    """A booking of the room that began five minutes ago, its holder not yet arrived."""
    ctx = site.ctx
    now = ctx.clock()
    with ctx.writes() as session, session.begin():
        member = session.scalars(select(models.Member.id).order_by(models.Member.id)).first()
        booking = models.Booking(
            room_id=room_id,
            member_id=member,
            start=now - timedelta(minutes=5),
            end=now + timedelta(minutes=55),
            status="booked",
            title=title,
        )
        session.add(booking)
        session.flush()
        return booking.id


def raise_alerts(site: Any) -> None:
    """An alert of each urgency: a door forced, a sensor offline, a booked room empty."""
    from server.monitoring import alerts

    ctx = site.ctx
    with ctx.writes() as session, session.begin():
        raised = [
            alerts.raise_alert(session, kind="forced", now=ctx.clock(), device_id="reader-main"),
            alerts.raise_alert(
                session, kind="device_offline", now=ctx.clock(), device_id="counter-sala-b"
            ),
            alerts.raise_alert(session, kind="booked_empty", now=ctx.clock(), room_id="sala-b"),
        ]
        events = [alerts.alert_event(a) for a in raised]
    ctx.events.publish_all(events)


def busy_day(site: Any) -> int:
    """A tap let in at the entrance, a walk-in at Sala A, one refused at the coworking
    zone, Sala B booked now (its booking's id returned), and an alert of each urgency."""
    tap(site, *LET_IN)
    tap(site, *WALK_IN)
    tap(site, *REFUSED)
    booking = book_now(site, "sala-b")
    raise_alerts(site)
    return booking

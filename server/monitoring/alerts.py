"""Alerts: what staff should see (a forced door, a device offline, a room over capacity...).

Plain functions over a Session; the caller owns the transaction and publishes
`alert_event(alert)` on the event bus once it has committed. An alert of a kind that is
still open (not acknowledged) for the same room, device and booking is not raised twice:
the open one counts the repeat (`details["count"]`, `details["last_at"]`).

    with ctx.writes() as session, session.begin():
        alert = raise_alert(session, kind="forced", device_id="reader-main", now=now)
    ctx.events.publish(alert_event(alert))
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from server.db import models, scope
from server.errors import NotFound
from server.live.kinds import AlertEvent
from server.timefmt import format_utc

KINDS = (
    "forced",
    "held_open",
    "fire_release",
    "tamper",
    "device_offline",
    "over_capacity",
    "booked_empty",
    "too_many_attempts",  # a card went into its cooling period (protocol.attempts)
    "unknown_card_flood",  # a door started throttling unknown cards
    "door_mode_mismatch",  # a door applies another mode than the one asked of it
)
# How urgent each kind is, most urgent first: `critical` (someone may be in danger or a
# door is not secure now), `warning` (something needs a look soon), `notice`.
SEVERITIES = ("critical", "warning", "notice")
SEVERITY = {
    "fire_release": "critical",
    "forced": "critical",
    "tamper": "critical",
    "held_open": "warning",
    "over_capacity": "warning",
    "device_offline": "warning",
    "door_mode_mismatch": "warning",
    "unknown_card_flood": "warning",
    "booked_empty": "notice",
    "too_many_attempts": "notice",
}


def severity(kind: str) -> str:
    """How urgent an alert of this kind is (`notice` for a kind not rated)."""
    return SEVERITY.get(kind, "notice")


def by_severity(found: list[models.Alert]) -> list[models.Alert]:
    """The most urgent first, and within the same urgency the newest first."""
    newest = sorted(found, key=lambda a: (a.created_at, a.id), reverse=True)
    return sorted(newest, key=lambda a: SEVERITIES.index(severity(a.kind)))


def raise_alert(
    session: Session,
    *,
    kind: str,
    now: datetime,
    room_id: str | None = None,
    device_id: str | None = None,
    booking_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> models.Alert:
    """A new open alert, or the open one of the same kind and subject with its count bumped."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    A = models.Alert
    open_one = session.scalars(
        select(A)
        .where(
            A.kind == kind,
            A.acknowledged_at.is_(None),
            _same(A.room_id, room_id),
            _same(A.device_id, device_id),
            _same(A.booking_id, booking_id),
        )
        .order_by(A.id)
        .limit(1)
    ).first()
    if open_one is not None:
        # A new dict: the JSON column does not notice changes made inside the old one.
        seen = dict(open_one.details or {})
        seen.update(count=int(seen.get("count", 1)) + 1, last_at=format_utc(now))
        open_one.details = seen
        return open_one
    alert = models.Alert(
        kind=kind,
        room_id=room_id,
        device_id=device_id,
        booking_id=booking_id,
        details={**(details or {}), "count": 1},
        created_at=now,
    )
    session.add(alert)
    session.flush()
    return alert


def _same(column: Any, value: object) -> Any:
    return column.is_(None) if value is None else column == value


def list_alerts(
    session: Session, *, open_only: bool | None = None, limit: int = 100, site_id: str | None = None
) -> list[models.Alert]:
    """Newest first; `open_only=True` only unacknowledged ones, False only acknowledged;
    `site_id`: those of the site's rooms and devices, and those of neither (None: all)."""
    A = models.Alert
    stmt = select(A).order_by(A.created_at.desc(), A.id.desc()).limit(limit)
    if site_id is not None:
        stmt = stmt.where(_of_site(site_id))
    if open_only is True:
        stmt = stmt.where(A.acknowledged_at.is_(None))
    elif open_only is False:
        stmt = stmt.where(A.acknowledged_at.is_not(None))
    return list(session.scalars(stmt))


def acknowledge(
    session: Session, *, alert_id: int, now: datetime, site_id: str | None = None
) -> models.Alert:
    """Staff has seen the alert; again is no error (the first time is kept). NotFound,
    also for another site's alert than `site_id`'s (when given)."""
    A = models.Alert
    stmt = select(A).where(A.id == alert_id)
    alert = session.scalar(stmt if site_id is None else stmt.where(_of_site(site_id)))
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        session.flush()
    return alert


def _of_site(site_id: str) -> Any:
    """The condition that an alert is the site's: of its room or device, or of neither."""
    A = models.Alert
    return or_(
        A.room_id.in_(scope.rooms(site_id)),
        A.device_id.in_(scope.devices(site_id)),
        and_(A.room_id.is_(None), A.device_id.is_(None)),
    )


def resolve(session: Session, *, kind: str, device_id: str, now: datetime) -> list[models.Alert]:
    """Close the open alerts of this kind on a device whose cause is gone (a door that
    applies its mode again): acknowledged as of `now`, marked `resolved` in the details.
    The alerts closed, to publish after the commit."""
    A = models.Alert
    found = list(
        session.scalars(
            select(A).where(A.kind == kind, A.device_id == device_id, A.acknowledged_at.is_(None))
        )
    )
    for alert in found:
        alert.acknowledged_at = now
        alert.details = {**(alert.details or {}), "resolved": True}
    session.flush()
    return found


def alert_event(alert: models.Alert) -> AlertEvent:
    """An alert as the live stream shows it and `GET /api/alerts` lists it."""
    return AlertEvent.model_validate(alert, from_attributes=True)

"""The audit log: every state change a person or a token makes (a remote unlock, a door
mode, a booking released by staff), with who asked, kept in the `audit` table.

Plain functions over a Session, in the caller's transaction, so an entry is committed
with the change it records (or, for a command sent over MQTT, before it is sent).

    with ctx.writes() as session, session.begin():
        audit.record(session, actor="admin-token", action="door.mode", target="main",
                     detail={"mode": "locked"}, now=ctx.clock())
    with ctx.reads() as session:
        newest = audit.entries(session, limit=50)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db import models
from server.errors import Invalid

# Every action a person or a token can take that changes something, by what it acts on.
ACTIONS = (
    # doors
    "door.unlock",
    "door.mode",
    # bookings and the waitlist
    "booking.create",
    "booking.cancel",
    "booking.release",
    "booking.end",
    "booking.attendees",
    "waitlist.join",
    "waitlist.leave",
    "offer.accept",
    "noshow.remove",
    # members, their cards and memberships
    "member.create",
    "member.update",
    "member.suspend",
    "member.export",
    "member.erase",
    "member.calendar_key",
    "card.create",
    "card.revoke",
    "membership.create",
    "membership.update",
    "membership.delete",
    # accounts
    "user.create",
    "user.update",
    "user.delete",
    "token.create",
    "token.revoke",
    "auth.sign_in",
    "auth.sign_in_failed",
    "auth.sign_out",
    "auth.link_sent",
    # the site
    "room.panel_key",
    "room.calendar_keys",
    "alert.ack",
    "dead_letter.replay",
    "dead_letter.discard",
    "data.purge",
)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> models.AuditEntry:
    """Add an entry (flushed, so it has its id)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = models.AuditEntry(
        ts=now, actor=actor[:200], action=action, target=target, detail=detail or {}
    )
    session.add(entry)
    session.flush()
    return entry


def amend(session: Session, *, entry_id: int, **detail: Any) -> None:
    """Add to an entry's detail what became known after it was committed (a command the
    broker did not take)."""
    entry = session.get(models.AuditEntry, entry_id)
    if entry is not None:
        entry.detail = {**(entry.detail or {}), **detail}  # a new dict: JSON columns


def entries(
    session: Session,
    *,
    limit: int = 100,
    before: int | None = None,
    action: str | None = None,
    actor: str | None = None,
) -> list[models.AuditEntry]:
    """Newest first; `before`: only entries older than the one of this id (the next page);
    `action` one of ACTIONS (an unknown one is refused), `actor` as recorded."""
    if action is not None and action not in ACTIONS:
        raise Invalid(f"action: unknown action {action!r}")
    E = models.AuditEntry
    stmt = select(E).order_by(E.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(E.id < before)
    if action is not None:
        stmt = stmt.where(E.action == action)
    if actor is not None:
        stmt = stmt.where(E.actor == actor)
    return list(session.scalars(stmt))


def page(
    session: Session,
    *,
    limit: int = 100,
    before: int | None = None,
    action: str | None = None,
    actor: str | None = None,
) -> tuple[list[models.AuditEntry], int | None]:
    """A page of `entries` and the `before` of the next one (None: this is the last)."""
    found = entries(session, limit=limit + 1, before=before, action=action, actor=actor)
    shown = found[:limit]
    return shown, shown[-1].id if len(found) > limit else None


def actors(session: Session, *, limit: int = 200) -> list[str]:
    """Everyone who has done something, as recorded (for choosing one)."""
    E = models.AuditEntry
    stmt = select(E.actor).group_by(E.actor).order_by(func.max(E.id).desc()).limit(limit)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Actor:
    """Who an entry's actor is: `kind` is `user`, `token` (a user's personal token),
    `admin_token` (the bootstrap administrator's), `session` (a browser signed in with
    it), `gateway_token`, or `other` (as recorded); `name` the user's, `label` the
    token's name or the session's tag."""

    kind: str
    name: str | None = None
    label: str | None = None


def who(session: Session, recorded: Iterable[str]) -> dict[str, Actor]:
    """Each recorded actor (`user:<id>`, `token:<id>`, `admin-token`, ...) by name."""
    found: dict[str, Actor] = {}
    for actor in set(recorded):
        kind, _, ref = actor.partition(":")
        if actor in ("admin-token", "gateway-token"):
            found[actor] = Actor(kind=actor.replace("-", "_"))
        elif kind == "session" and ref:
            found[actor] = Actor(kind="session", label=ref)
        elif kind == "user" and ref.isdigit():
            user = session.get(models.User, int(ref))
            found[actor] = Actor("user", user.name) if user else Actor("other", label=actor)
        elif kind == "token" and ref.isdigit():
            token = session.get(models.ApiToken, int(ref))
            owner = token and session.get(models.User, token.user_id)
            found[actor] = (
                Actor("token", owner.name if owner else None, token.name)
                if token
                else Actor("other", label=actor)
            )
        else:
            found[actor] = Actor("other", label=actor)
    return found

"""The one `meta` row: the database's epoch, the policy version and the door command counter.

Every write that can change a door's decision calls `bump(session)` in its own
transaction; the policy cache (server.access.snapshot) compares the stored version with
the one it built and rebuilds when they differ, so every replica (and the gateway,
through PolicyNotice) sees the change. The command counter numbers the retained commands
the server keeps on the doors (server.adapters.door_state)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db import models


def ensure_meta(session: Session) -> models.Meta:
    """The one meta row; the epoch is drawn once, when the database is new."""
    meta = session.get(models.Meta, 1)
    if meta is None:
        meta = models.Meta(id=1, epoch=secrets.token_hex(8), policy_n=0)
        session.add(meta)
        session.flush()
    return meta


def bump(session: Session) -> None:
    """Mark the policy changed; call inside the transaction that changed it."""
    session.execute(
        update(models.Meta).where(models.Meta.id == 1).values(policy_n=models.Meta.policy_n + 1)
    )


def version(session: Session) -> tuple[str, int]:
    row = session.execute(
        select(models.Meta.epoch, models.Meta.policy_n).where(models.Meta.id == 1)
    ).one()
    return row[0], row[1]


def take_numbers(session: Session, count: int, now: datetime) -> list[int]:
    """The next `count` numbers of the command counter (in the caller's writer
    transaction). They start at the time in milliseconds at least, so that a counter
    reset with a new database still moves forward for doors that remember an old `n`."""
    meta = ensure_meta(session)
    first = max(meta.command_n + 1, int(now.timestamp() * 1000))
    meta.command_n = first + count - 1
    return list(range(first, first + count))

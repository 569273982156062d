"""Emergency cards: the staff cards a door admits by itself when neither the server nor
the gateway answers (docs/protocol.md, EmergencyList).

An EmergencyList carries a memory-hard hash (`EMERGENCY_KDF`, scrypt) of each canonical
UID under a per-door salt, but the server keeps no card UID (only its keyed hash,
`card_hash`), so it cannot compute those hashes when it publishes. It computes them
whenever a UID is in its hands and the card is a staff card: when the card is registered
(`card_registered`) and after it is tapped (`remember_tap`, off the tap's decision path:
about 10 ms a door; it also covers a member made staff later, a door added later, and
cards registered before this existed). They are kept per (card, door) in
`emergency_hashes`; the published lists are built from those rows, for active cards of
staff members who are not suspended, at most 50 a door (the newest cards).

    with ctx.writes() as session, session.begin():
        card = members.add_card(session, card_key=key, member_id=ewa, uid="04A1B2C3")
    with ctx.reads() as session:
        lists = emergency_lists(session, site=ctx.site, now=now)  # device -> DoorList

Storing these hashes adds no exposure the protocol does not already accept: the same
hashes and salts are retained on the broker and on every door's disk."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from protocol.cards import EMERGENCY_KDF, emergency_hash
from protocol.messages import EmergencyList
from server.db import models
from server.db.meta import bump
from server.site import SiteConfig

log = logging.getLogger(__name__)

# EmergencyList.cards holds at most this many (so that the payload fits in 4 KiB).
MAX_CARDS = 50
STAFF = "staff"


@dataclass(frozen=True)
class DoorList:
    """What one door controller's EmergencyList should say; `left_out` counts the staff
    cards beyond the limit that it does not carry."""

    salt: str
    cards: tuple[str, ...]
    left_out: int = 0

    def message(self, now: datetime, n: int | None = None) -> EmergencyList:
        """The retained message; `n` is the server's command counter."""
        return EmergencyList(ts=now, salt=self.salt, cards=list(self.cards), kdf=EMERGENCY_KDF, n=n)


def door_salts(session: Session) -> dict[str, str]:
    """Every door's salt, drawing one for a door that has none yet (in the caller's
    writer transaction)."""
    salts: dict[str, str] = {}
    for door in session.scalars(select(models.Door)):
        if door.emergency_salt is None:
            door.emergency_salt = models.new_salt()
        salts[door.id] = door.emergency_salt
    return salts


def card_registered(session: Session, *, card: models.Card, uid: str) -> bool:
    """A card was (re)registered with its canonical `uid` in hand: keep its hashes for
    every door if it is an active staff card, else forget any it had. True when the
    stored hashes changed."""
    member = session.get(models.Member, card.member_id)
    if not card.active or member is None or member.category != STAFF:
        return forget_card(session, card_id=card.id)
    return _store(session, card_id=card.id, uid=uid, replace=True)


def remember_tap(writes: sessionmaker[Session], *, uid_hash: str, uid: str) -> bool:
    """A card was tapped (its UID is in hand): add the hashes a staff card lacks (a door
    added since, a member made staff since, a card older than this). True when any was
    added.

    In three steps, so that no transaction is open while the hashes are computed (about
    10 ms a door): what is lacking, the hashes, and storing those still lacking."""
    with writes() as session, session.begin():
        wanted = _lacking(session, uid_hash=uid_hash)
    if not wanted:
        return False
    hashes = {door: emergency_hash(salt, uid, EMERGENCY_KDF) for door, salt in wanted.items()}
    with writes() as session, session.begin():
        added = _add(session, uid_hash=uid_hash, hashes=hashes, salts=wanted)
        if added:
            bump(session)  # the door path republishes the lists
        return added


def _staff_card(session: Session, uid_hash: str) -> int | None:
    """The id of the active staff card of this hash, if it is one."""
    row = session.execute(
        select(models.Card.id, models.Card.active, models.Member.category)
        .join(models.Member, models.Member.id == models.Card.member_id)
        .where(models.Card.uid_hash == uid_hash)
    ).first()
    if row is None or not row.active or row.category != STAFF:
        return None
    return int(row.id)


def _lacking(session: Session, *, uid_hash: str) -> dict[str, str]:
    """The salts of the doors an active staff card has no hash for (nothing for any other
    card); draws a salt for a door without one."""
    card_id = _staff_card(session, uid_hash)
    if card_id is None:
        return {}
    have = set(
        session.scalars(
            select(models.EmergencyHash.door_id).where(models.EmergencyHash.card_id == card_id)
        )
    )
    return {door: salt for door, salt in door_salts(session).items() if door not in have}


def _add(session: Session, *, uid_hash: str, hashes: dict[str, str], salts: dict[str, str]) -> bool:
    """Store hashes computed outside a transaction, if the card is still an active staff
    card and for doors that still lack one under the same salt."""
    card_id = _staff_card(session, uid_hash)
    if card_id is None:
        return False
    lacking = _lacking(session, uid_hash=uid_hash)
    added = False
    for door, value in hashes.items():
        if lacking.get(door) == salts[door]:
            session.add(models.EmergencyHash(card_id=card_id, door_id=door, hash=value))
            added = True
    session.flush()
    return added


def forget_card(session: Session, *, card_id: int) -> bool:
    """Drop a card's hashes (revoked, or no longer a staff member's); True if it had any."""
    gone = session.execute(
        delete(models.EmergencyHash)
        .where(models.EmergencyHash.card_id == card_id)
        .execution_options(synchronize_session=False)
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def forget_member(session: Session, *, member_id: int) -> bool:
    """Drop the hashes of every card of a member who is no longer staff."""
    cards = select(models.Card.id).where(models.Card.member_id == member_id)
    gone = session.execute(
        delete(models.EmergencyHash)
        .where(models.EmergencyHash.card_id.in_(cards))
        .execution_options(synchronize_session=False)
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def _store(session: Session, *, card_id: int, uid: str, replace: bool) -> bool:
    """Put the card's hash for each door; with `replace`, rewrite those it has too."""
    have = {
        door_id: h
        for door_id, h in session.execute(
            select(models.EmergencyHash.door_id, models.EmergencyHash.hash).where(
                models.EmergencyHash.card_id == card_id
            )
        )
    }
    changed = False
    for door_id, salt in door_salts(session).items():
        value = emergency_hash(salt, uid, EMERGENCY_KDF)
        if door_id not in have:
            session.add(models.EmergencyHash(card_id=card_id, door_id=door_id, hash=value))
            changed = True
        elif replace and have[door_id] != value:
            row = session.get(models.EmergencyHash, (card_id, door_id))
            row.hash = value  # type: ignore[union-attr]
            changed = True
    session.flush()
    return changed


def emergency_lists(session: Session, *, site: SiteConfig, now: datetime) -> dict[str, DoorList]:
    """The EmergencyList of every door controller of the site, by device id: the hashes
    of active cards of staff members not suspended at `now`, the newest `MAX_CARDS`
    cards when there are more, in a stable order."""
    salts: dict[str, str | None] = {
        door_id: salt
        for door_id, salt in session.execute(select(models.Door.id, models.Door.emergency_salt))
    }
    H, C, M = models.EmergencyHash, models.Card, models.Member
    rows = session.execute(
        select(H.door_id, H.hash)
        .join(C, C.id == H.card_id)
        .join(M, M.id == C.member_id)
        .where(
            C.active.is_(True),
            M.category == STAFF,
            or_(M.suspended_until.is_(None), M.suspended_until <= now),
        )
        .order_by(C.created_at.desc(), C.id.desc())
    )
    by_door: dict[str, list[str]] = {}
    for door_id, value in rows:
        by_door.setdefault(door_id, []).append(value)
    lists: dict[str, DoorList] = {}
    for device in site.door_devices():
        salt = salts.get(device.door)  # type: ignore[arg-type]
        if salt is None:
            continue  # a door the database does not know (yet)
        hashes = by_door.get(device.door, [])  # type: ignore[arg-type]
        lists[device.id] = DoorList(
            salt=salt,
            cards=tuple(sorted(hashes[:MAX_CARDS])),
            left_out=max(0, len(hashes) - MAX_CARDS),
        )
    return lists

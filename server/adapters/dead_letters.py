"""Dead letters: MQTT messages the server accepted but could not apply, kept for staff to
see and replay (`held`), then `replayed` or `discarded`.

A tap's payload holds a raw card UID, which the server otherwise never stores: every
payload is kept sealed (AES-GCM under a key derived from the card key), and what staff
see of it hides the card.

    box = DeadLetterBox(ctx.writes, ctx.card_key)
    box(topic=..., payload=..., device_id=..., error=..., attempts=3, received=now)
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict, Unpack

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from protocol.topics import site_prefix
from server.db import models
from server.errors import Conflict, NotFound

Status = Literal["held", "replayed", "discarded"]
SEALED = b"\x01"  # version byte of a sealed payload
HIDDEN = "(hidden)"


class Unreadable(Exception):
    """A sealed payload this card key cannot open (the key changed since)."""


def _key(card_key: str) -> bytes:
    return hashlib.sha256(b"spacehub dead letters\x00" + card_key.encode()).digest()


def seal(card_key: str, payload: bytes) -> bytes:
    """The payload encrypted and authenticated under the card key."""
    nonce = os.urandom(12)
    return SEALED + nonce + AESGCM(_key(card_key)).encrypt(nonce, payload, None)


def unseal(card_key: str, blob: bytes) -> bytes:
    """The payload `seal` sealed; Unreadable when this key cannot open it."""
    if not blob.startswith(SEALED) or len(blob) < 29:
        raise Unreadable("not a sealed payload")
    try:
        return AESGCM(_key(card_key)).decrypt(blob[1:13], blob[13:], None)
    except InvalidTag:
        raise Unreadable("sealed under another card key") from None


def shown(payload: bytes) -> str:
    """The payload as staff may see it: a card number is hidden."""
    text = payload.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text[:4096]
    if isinstance(data, dict) and "card" in data:
        data["card"] = HIDDEN
        return json.dumps(data, ensure_ascii=False)
    return text[:4096]


class Letter(TypedDict):
    """A message set aside: its topic and payload, the device it came from (if known),
    why it failed, after how many attempts, and when it was received."""

    topic: str
    payload: bytes
    device_id: str | None
    error: str
    attempts: int
    received: datetime


class Store(Protocol):
    """Keeps a message set aside (the dead-letter table); raises what the database does."""

    def __call__(self, **letter: Unpack[Letter]) -> None: ...


class DeadLetterBox:
    """Writes what an inbox sets aside, in its own writer transaction."""

    def __init__(self, writes: sessionmaker[Session], card_key: str) -> None:
        self.writes = writes
        self.card_key = card_key

    def __call__(self, **letter: Unpack[Letter]) -> None:
        with self.writes() as session, session.begin():
            session.add(
                models.DeadLetter(
                    topic=letter["topic"][:300],
                    payload=seal(self.card_key, letter["payload"]),
                    device_id=letter["device_id"],
                    error=letter["error"][:500] or "failed",
                    attempts=letter["attempts"],
                    received=letter["received"],
                    status="held",
                )
            )


def listing(
    session: Session, *, site_id: str, status: Status | None = "held", limit: int = 100
) -> list[models.DeadLetter]:
    """The site's (its topics `hub/{site}/...`), newest first; of one status, or all when
    `status` is None."""
    D = models.DeadLetter
    stmt = _of_site(select(D), site_id).order_by(D.received.desc(), D.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(D.status == status)
    return list(session.scalars(stmt))


def held_count(session: Session, *, site_id: str) -> int:
    """How many of the site's letters are held."""
    D = models.DeadLetter
    stmt = _of_site(select(func.count()).select_from(D), site_id).where(D.status == "held")
    return int(session.scalar(stmt) or 0)


def _of_site(stmt: Select[Any], site_id: str) -> Select[Any]:
    return stmt.where(models.DeadLetter.topic.startswith(site_prefix(site_id), autoescape=True))


def held(session: Session, letter_id: int, *, site_id: str) -> models.DeadLetter:
    """A dead letter of the site still held; NotFound (another site's too), or Conflict
    once it was replayed or discarded."""
    letter = session.get(models.DeadLetter, letter_id)
    if letter is None or not letter.topic.startswith(site_prefix(site_id)):
        raise NotFound(f"dead letter {letter_id} not found")
    if letter.status != "held":
        raise Conflict(f"dead letter {letter_id} was {letter.status} already")
    return letter


def close(letter: models.DeadLetter, *, status: Status, by: str, now: datetime) -> None:
    """Mark a held letter replayed or discarded, by whom and when."""
    letter.status = status
    letter.handled_at = now
    letter.handled_by = by[:200]

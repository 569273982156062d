"""The reception's unrecorded device messages (dead letters, server.adapters.dead_letters):
those still held, newest first, with a button to replay each once what failed is fixed
(the database full or gone) and one to discard it; both audited, as through the API.

| route | what |
| --- | --- |
| `GET /reception/dead-letters` | the held messages: when, device, topic, error, attempts |
| `POST /reception/dead-letters/{id}/replay` | record it now (server.adapters.replay) |
| `POST /reception/dead-letters/{id}/discard` | give it up, kept for the record |"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.adapters import dead_letters, replay
from server.dashboard.reception.desk import Desk, DeskDep
from server.db import models
from server.deps import ReadSession, Staff
from server.errors import DomainError
from server.notify.texts import known, text
from server.schemas import MAX_ID

router = APIRouter(prefix="/reception", include_in_schema=False, dependencies=[Staff])

LetterId = Annotated[int, Path(ge=1, le=MAX_ID)]
DONE = ("replayed", "discarded")
LISTED = 200
PAGE = "/reception/dead-letters"


@dataclass(frozen=True)
class Line:
    """A held message as the page lists it (its time in the site's zone)."""

    id: int
    when: str
    iso: str
    device: str  # its id, and its room's name when the site knows it
    topic: str
    error: str
    attempts: int


def _line(desk: Desk, letter: models.DeadLetter) -> Line:
    received = letter.received.astimezone(desk.zone)
    device = letter.device_id or "–"
    config = desk.ctx.site.device(letter.device_id) if letter.device_id else None
    room = desk.ctx.site.room(config.room) if config else None
    return Line(
        id=letter.id,
        when=received.strftime("%Y-%m-%d %H:%M:%S"),
        iso=received.isoformat(timespec="seconds"),
        device=f"{device} ({room.name})" if room else device,
        topic=letter.topic,
        error=letter.error,
        attempts=letter.attempts,
    )


def _page(
    desk: Desk, session: Session, *, error: str | None = None, done: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    held = dead_letters.listing(session, site_id=desk.ctx.site.id, status="held", limit=LISTED)
    lines = [_line(desk, letter) for letter in held]
    return desk.render(
        "reception/dead_letters.html", status=status, lines=lines, error=error, done=done
    )


@router.get("/dead-letters")
def dead_letters_page(
    desk: DeskDep, session: ReadSession, done: Annotated[str | None, Query(max_length=16)] = None
) -> Response:
    """The messages held, newest first, each with Replay and Discard."""
    return _page(desk, session, done=done if done in DONE else None)


def _act(desk: Desk, done: str, act: Callable[[Request, int], object], letter_id: int) -> Response:
    """Replay or discard, then back to the page; a refusal shows the page with it."""
    try:
        act(desk.request, letter_id)
    except DomainError as exc:
        key = getattr(exc, "key", None)
        why = text(desk.lang, key) if isinstance(key, str) and known(key) else desk.explain(exc)
        with desk.ctx.reads() as reader:
            return _page(desk, reader, error=why, status=exc.status)
    return desk.redirect(PAGE, done=done)


@router.post("/dead-letters/{letter_id}/replay")
def replay_letter(letter_id: LetterId, desk: DeskDep) -> Response:
    return _act(desk, "replayed", replay.replay, letter_id)


@router.post("/dead-letters/{letter_id}/discard")
def discard_letter(letter_id: LetterId, desk: DeskDep) -> Response:
    return _act(desk, "discarded", replay.discard, letter_id)

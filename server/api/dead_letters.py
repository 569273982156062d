"""Dead letters over HTTP: staff list the MQTT messages the server could not apply,
replay one through the handler it came to (once what failed is fixed), or discard it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel

from protocol import topics
from server.adapters import dead_letters
from server.adapters.dead_letters import Unreadable, shown, unseal
from server.adapters.writehealth import transient
from server.db import models
from server.deps import Admin, CtxDep, ReadSession, audited
from server.errors import Conflict, Rejected
from server.openapi import unavailable
from server.schemas import MAX_ID
from server.timefmt import ResponseTime

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["dead letters"], dependencies=[Admin])

LetterId = Annotated[int, Path(ge=1, le=MAX_ID)]


class DeadLetterOut(BaseModel):
    """A message the server could not apply, as staff see it (a card number hidden)."""

    id: int
    topic: str
    device_id: str | None
    payload: str
    error: str
    attempts: int
    received: ResponseTime
    status: Literal["held", "replayed", "discarded"]
    handled_at: ResponseTime | None
    handled_by: str | None


def letter_out(letter: models.DeadLetter, card_key: str) -> DeadLetterOut:
    try:
        payload = shown(unseal(card_key, letter.payload))
    except Unreadable as exc:
        payload = f"({exc})"
    return DeadLetterOut(
        id=letter.id,
        topic=letter.topic,
        device_id=letter.device_id,
        payload=payload,
        error=letter.error,
        attempts=letter.attempts,
        received=letter.received,
        status=letter.status,  # type: ignore[arg-type]
        handled_at=letter.handled_at,
        handled_by=letter.handled_by,
    )


def _who(request: Request) -> str:
    how = getattr(request.state, "auth", "?")
    host = request.client.host if request.client else "?"
    return f"admin ({how}, {host})"


def _handler(request: Request, topic: str) -> Callable[[str, bytes], object]:
    """The handler of the consumer the topic belongs to: the sensors' or the door path's."""
    try:
        kind = topics.parse(topic).kind
    except topics.TopicError:
        kind = ""
    consumer = "sensors" if kind in ("motion", "count") else "ingest"
    ingest = getattr(request.app.state, consumer, None)
    if ingest is None:
        raise HTTPException(status_code=503, detail="the MQTT ingest is not running here")
    return ingest.handle  # type: ignore[no-any-return]


@router.get("/dead-letters")
def list_dead_letters(
    session: ReadSession,
    ctx: CtxDep,
    status: Literal["held", "replayed", "discarded", "all"] = "held",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterOut]:
    """Newest first; those still `held` unless `status` says otherwise."""
    found = dead_letters.listing(session, status=None if status == "all" else status, limit=limit)
    return [letter_out(letter, ctx.card_key) for letter in found]


@router.post(
    "/dead-letters/{letter_id}/replay",
    responses=unavailable("no MQTT ingest here, or the database did not take it"),
)
def replay(letter_id: LetterId, request: Request, ctx: CtxDep) -> DeadLetterOut:
    """Feed a held letter through the handler it came to: `replayed` when it applies; 409
    (still held) when it can never apply or fails again, 503 when the database does not
    take it now."""
    with ctx.reads() as session:
        letter = dead_letters.held(session, letter_id)
        topic, sealed = letter.topic, letter.payload
    try:
        payload = unseal(ctx.card_key, sealed)
    except Unreadable as exc:
        raise Conflict(f"dead letter {letter_id} cannot be read: {exc}") from None
    handle = _handler(request, topic)
    try:
        handle(topic, payload)
    except Rejected as exc:
        raise Conflict(f"it can never apply: {exc.reason}: {exc}") from None
    except Exception as exc:
        if transient(exc):
            raise HTTPException(status_code=503, detail="the database did not take it") from None
        log.exception("replaying dead letter %s failed again", letter_id)
        with ctx.writes() as session, session.begin():
            again = dead_letters.held(session, letter_id)
            again.attempts += 1
            again.error = f"{type(exc).__name__}: {exc}"[:500]
        raise Conflict(f"it failed again: {type(exc).__name__}: {exc}") from None
    with ctx.writes() as session, session.begin():
        letter = dead_letters.held(session, letter_id)
        dead_letters.close(letter, status="replayed", by=_who(request), now=ctx.clock())
        audited(request, session, "dead_letter.replay", letter_id, {"topic": topic})
    log.info("dead letter %s (%s) replayed by %s", letter_id, topic, _who(request))
    return letter_out(letter, ctx.card_key)


@router.post("/dead-letters/{letter_id}/discard")
def discard(letter_id: LetterId, request: Request, ctx: CtxDep) -> DeadLetterOut:
    """Give a held letter up: `discarded`, kept for the record; 409 once it is not held."""
    with ctx.writes() as session, session.begin():
        letter = dead_letters.held(session, letter_id)
        dead_letters.close(letter, status="discarded", by=_who(request), now=ctx.clock())
        audited(request, session, "dead_letter.discard", letter_id, {"topic": letter.topic})
    log.info("dead letter %s (%s) discarded by %s", letter_id, letter.topic, _who(request))
    return letter_out(letter, ctx.card_key)

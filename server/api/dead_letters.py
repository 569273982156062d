"""Dead letters over HTTP: staff list the MQTT messages the server could not apply,
replay one through the handler it came to (once what failed is fixed), or discard it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from server.adapters import dead_letters
from server.adapters import replay as replaying
from server.adapters.dead_letters import Unreadable, shown, unseal
from server.db import models
from server.deps import CtxDep, ReadSession, Staff
from server.openapi import unavailable
from server.schemas import MAX_ID
from server.timefmt import ResponseTime

router = APIRouter(prefix="/api", tags=["dead letters"], dependencies=[Staff])

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


@router.get("/dead-letters")
def list_dead_letters(
    session: ReadSession,
    ctx: CtxDep,
    status: Literal["held", "replayed", "discarded", "all"] = "held",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterOut]:
    """Newest first; those still `held` unless `status` says otherwise."""
    found = dead_letters.listing(
        session, site_id=ctx.site.id, status=None if status == "all" else status, limit=limit
    )
    return [letter_out(letter, ctx.card_key) for letter in found]


@router.post(
    "/dead-letters/{letter_id}/replay",
    responses=unavailable("no MQTT ingest here, or the database did not take it"),
)
def replay(letter_id: LetterId, request: Request, ctx: CtxDep) -> DeadLetterOut:
    """Feed a held letter through the handler it came to: `replayed` when it applies; 409
    (still held) when it can never apply or fails again, 503 when the database does not
    take it now."""
    return letter_out(replaying.replay(request, letter_id), ctx.card_key)


@router.post("/dead-letters/{letter_id}/discard")
def discard(letter_id: LetterId, request: Request, ctx: CtxDep) -> DeadLetterOut:
    """Give a held letter up: `discarded`, kept for the record; 409 once it is not held."""
    return letter_out(replaying.discard(request, letter_id), ctx.card_key)

"""Staff's two answers to a dead letter (server.adapters.dead_letters), through the API
and the reception's page alike: replay it through the handler it came to (the door path's
or the sensors'), once what failed is fixed, or discard it. Both audited, both name who
did it on the letter.

    letter = replay(request, letter_id)  # NotFound, Conflict, or NotApplied (409 or 503)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import Request

from protocol import topics
from server.adapters import dead_letters
from server.adapters.dead_letters import Unreadable, unseal
from server.adapters.writehealth import transient
from server.context import ServerContext
from server.db import models
from server.deps import audited
from server.errors import DomainError, Rejected

log = logging.getLogger(__name__)


class NotApplied(DomainError):
    """A held letter that did not apply and stays held: `key` names why in the text
    catalogues (`dl.err.*`); 409, or 503 when nothing here can take it now."""

    def __init__(self, key: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.key = key
        self.status = status


def who(request: Request) -> str:
    """Whoever handled a letter, as the letter keeps it: role, how signed in, from where."""
    principal = getattr(request.state, "principal", None)
    role = getattr(principal, "role", "?")
    how = getattr(request.state, "auth", "?")
    host = request.client.host if request.client else "?"
    return f"{role} ({how}, {host}, {getattr(principal, 'actor', '?')})"


def _handler(request: Request, topic: str) -> Callable[[str, bytes], object]:
    """The handler of the consumer the topic belongs to: the sensors' or the door path's."""
    try:
        kind = topics.parse(topic).kind
    except topics.TopicError:
        kind = ""
    consumer = "sensors" if kind in ("motion", "count") else "ingest"
    ingest = getattr(request.app.state, consumer, None)
    if ingest is None:
        raise NotApplied("dl.err.no_ingest", "the MQTT ingest is not running here", status=503)
    return ingest.handle  # type: ignore[no-any-return]


def replay(request: Request, letter_id: int) -> models.DeadLetter:
    """Feed a held letter through the handler it came to and mark it `replayed`; it stays
    held when it can never apply or fails again (409), or the database does not take it
    now (503)."""
    ctx: ServerContext = request.app.state.ctx
    with ctx.reads() as session:
        letter = dead_letters.held(session, letter_id, site_id=ctx.site.id)
        topic, sealed = letter.topic, letter.payload
    try:
        payload = unseal(ctx.card_key, sealed)
    except Unreadable as exc:
        raise NotApplied("dl.err.unreadable", f"it cannot be read: {exc}") from None
    handle = _handler(request, topic)
    try:
        handle(topic, payload)
    except Rejected as exc:
        raise NotApplied("dl.err.never", f"it can never apply: {exc.reason}: {exc}") from None
    except Exception as exc:
        if transient(exc):
            raise NotApplied("dl.err.busy", "the database did not take it", status=503) from None
        log.exception("replaying dead letter %s failed again", letter_id)
        with ctx.writes() as session, session.begin():
            again = dead_letters.held(session, letter_id, site_id=ctx.site.id)
            again.attempts += 1
            again.error = f"{type(exc).__name__}: {exc}"[:500]
        raise NotApplied("dl.err.again", f"it failed again: {type(exc).__name__}: {exc}") from None
    return _close(request, ctx, letter_id, "replayed")


def discard(request: Request, letter_id: int) -> models.DeadLetter:
    """Give a held letter up: `discarded`, kept for the record."""
    return _close(request, request.app.state.ctx, letter_id, "discarded")


def _close(
    request: Request, ctx: ServerContext, letter_id: int, status: dead_letters.Status
) -> models.DeadLetter:
    action = "dead_letter.replay" if status == "replayed" else "dead_letter.discard"
    with ctx.writes() as session, session.begin():
        letter = dead_letters.held(session, letter_id, site_id=ctx.site.id)
        dead_letters.close(letter, status=status, by=who(request), now=ctx.clock())
        audited(request, session, action, letter_id, {"topic": letter.topic})
    log.info("dead letter %s (%s) %s by %s", letter_id, letter.topic, status, who(request))
    return letter

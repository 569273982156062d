"""Messages to members (`GET /api/members/{id}/notifications`).

A domain service records what happened as a message id and its parameters: the kind
(`reminder`, `released`, `offer`, ...) names the catalogue's text `notice.<kind>`
(server.notify.texts), and the parameters fill it in any language. The Polish and
English texts are written down as well, as the API has always shown them; delivery by
e-mail or SMS would read this table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.notify import mails
from server.notify.texts import Phrase, pick, text
from server.site import Language


def notify(
    session: Session,
    *,
    member_id: int,
    kind: str,
    params: Mapping[str, object],
    now: datetime,
    booking_id: int | None = None,
    offer_id: int | None = None,
) -> models.Notification:
    """Record message `notice.<kind>` with its `params` (text, numbers, local datetimes,
    phrases) for a member, in the caller's transaction."""
    key = f"notice.{kind}"
    note = models.Notification(
        member_id=member_id,
        kind=kind,
        params={name: _stored(value) for name, value in params.items()},
        text_pl=text("pl", key, **params),
        text_en=text("en", key, **params),
        booking_id=booking_id,
        offer_id=offer_id,
        created_at=now,
    )
    session.add(note)
    mails.notice_mail(session, note, params, now=now)  # some notices go by mail too
    return note


def worded(note: models.Notification, lang: str) -> tuple[str, Language]:
    """The message in `lang` and that language; a message recorded before the catalogue
    (no parameters) has only its Polish and English words."""
    if note.params is None:
        return (note.text_en, "en") if lang == "en" else (note.text_pl, "pl")
    params = {name: _loaded(value) for name, value in note.params.items()}
    chosen = pick(lang)
    return text(chosen, f"notice.{note.kind}", **params), chosen


def for_member(session: Session, *, member_id: int, limit: int = 100) -> list[models.Notification]:
    """A member's messages, newest first."""
    stmt = (
        select(models.Notification)
        .where(models.Notification.member_id == member_id)
        .order_by(models.Notification.created_at.desc(), models.Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


# -- parameters as JSON: a datetime is {"at": ISO 8601}, a phrase {"phrase": key, "params"}


def _stored(value: object) -> Any:
    if isinstance(value, datetime):
        return {"at": value.isoformat()}
    if isinstance(value, Phrase):
        return {"phrase": value.key, "params": {k: _stored(v) for k, v in value.params.items()}}
    return value


def _loaded(value: Any) -> object:
    if isinstance(value, dict) and "at" in value:
        return datetime.fromisoformat(value["at"])
    if isinstance(value, dict) and "phrase" in value:
        return Phrase(value["phrase"], {k: _loaded(v) for k, v in value["params"].items()})
    return value

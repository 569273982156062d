"""My notifications: what the hub told the member (a booking released, an offer, a
reminder), newest first, in the page's language where the message allows.

| route | what |
| --- | --- |
| `GET /me/notifications` | the member's messages |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response

from server.deps import ReadSession
from server.notify.notifications import for_member, worded
from server.portal.me import MeDep

router = APIRouter(include_in_schema=False)

SHOWN = 100


@dataclass(frozen=True)
class Notice:
    at: datetime
    text: str
    lang: str  # of the text (an old message may have only Polish and English)


@router.get("/me/notifications")
def notifications(me: MeDep, session: ReadSession) -> Response:
    """The member's messages, newest first."""
    notes = []
    for note in for_member(session, member_id=me.member_id, limit=SHOWN):
        words, lang = worded(note, me.lang)
        notes.append(Notice(at=me.local(note.created_at), text=words, lang=lang))
    return me.render("portal/notifications.html", page="notifications", notes=notes)

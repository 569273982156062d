"""The member portal (`/me/...`): what a member does for themselves, on a phone, in their
language (Polish, English or Ukrainian): find a free room and book it, cancel, add
attendees, wait for a taken hour and accept the offer when it frees, read their
notifications, subscribe to their bookings in a calendar app, and see their no-show
strikes. Server-rendered pages whose forms work without JavaScript (POST, then a redirect).

Each part has its module and router, joined here:

| module | pages |
| --- | --- |
| `home` | `/me/` (the front page, or the sign-in form), `/me/signin/link` |
| `rooms` | `/me/rooms`: rooms and their free hours by day |
| `book` | `/me/book`: the booking form |
| `mybookings` | `/me/bookings`: upcoming and past, cancel, attendees |
| `waitlist` | `/me/waitlist`, `/me/offers/{id}/accept` |
| `notices` | `/me/notifications` |
| `calendar` | `/me/calendar`, and the feed `GET /api/me/calendar.ics?key=...` |
| `strikes` | `/me/strikes` |

`me` has what the pages share (the member signed in, language, refusals in words) and
`lines` how bookings, offers and entries are listed. A member acts only for themselves:
the forms go through the API's checks (`deps.Members`: role and CSRF token; `deps.own`)
and the domain's functions."""

from __future__ import annotations

from fastapi import APIRouter

from server.portal import book, calendar, home, mybookings, notices, rooms, strikes, waitlist

router = APIRouter()
for part in (home, rooms, book, mybookings, waitlist, notices, calendar, strikes):
    router.include_router(part.router)
router.include_router(calendar.feed_router)

__all__ = ["router"]

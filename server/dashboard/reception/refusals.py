"""The domain's refusals told in the reader's language on the reception desk's pages.

The domain (server.bookings, server.waitlist) refuses with an exception whose class says
how (Invalid, Forbidden, Conflict, NotFound) and whose English message says why; `explain`
finds the catalogue's sentence for it (`desk.err.*`), so a page never mixes languages. A
form the page cannot even read is a `FormError`, naming its sentence itself."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from server.bookings.quotas import QuotaExceeded
from server.bookings.rules import SeriesConflictError
from server.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from server.notify.texts import text
from server.schemas import whole_number
from server.site import SiteConfig


class FormError(Exception):
    """A form field the page could not read: `key` is the sentence to show."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# (the class refusing, a part of its message, the sentence): the first that fits is shown.
REFUSALS: tuple[tuple[type[DomainError], str, str], ...] = (
    (Conflict, "is already booked", "desk.err.conflict"),
    (Conflict, "already waits", "desk.err.waits"),
    (Conflict, "entry is booked", "desk.err.entry_booked"),
    (Conflict, "offer already accepted", "desk.err.offer_taken"),
    (Conflict, "offer expired", "desk.err.offer_expired"),
    (Conflict, "booked meanwhile", "desk.err.room_taken"),
    (Conflict, "", "desk.err.changed"),
    (Forbidden, "suspended until", "desk.err.suspended"),
    (Forbidden, "may not book until", "desk.err.barred"),
    (Invalid, "`to` is before", "desk.err.range_order"),
    (Invalid, "a report covers", "desk.err.range"),
    (Invalid, "in the past", "desk.err.past"),
    (Invalid, "must be in the future", "desk.err.past"),
    (Invalid, "inside its hours", "desk.err.hours"),
    (Invalid, "end must be after start", "desk.err.order"),
    (Invalid, "may last at most", "desk.err.too_long"),
    (Invalid, "days ahead", "desk.err.horizon"),
    (Invalid, "repeat.weekly", "desk.err.weeks"),
    (Invalid, "attendee", "desk.err.attendees"),
    (Invalid, "title", "desk.err.title"),
    (Invalid, "room", "desk.err.room"),
    (Invalid, "member", "desk.bk.err.holder"),
    (NotFound, "", "desk.err.not_found"),
)
_NOW_IS = re.compile(r"^booking \d+ is (booked|checked_in|completed|released|cancelled)$")


def weeks_asked(day: date, weeks: str, until: str) -> int:
    """How many weekly occurrences a form asks for: `weeks`, or up to the `until` day
    (included), or one."""
    if weeks and until:
        raise FormError("desk.bk.err.repeat_both")
    if until:
        try:
            last = date.fromisoformat(until)
        except ValueError:
            raise FormError("desk.bk.err.until") from None
        if last < day:
            raise FormError("desk.bk.err.until")
        return (last - day).days // 7 + 1
    if not weeks:
        return 1
    count = whole_number(weeks)
    if count is None:
        raise FormError("desk.err.weeks")
    return count


def explain(lang: str, exc: Exception, *, site: SiteConfig, zone: ZoneInfo) -> str:
    """The refusal in `lang`: what was wrong, and what to do."""
    limit = site.bookings.max_occurrences
    if isinstance(exc, FormError):
        return (
            text(lang, exc.key, max=limit) if exc.key == "desk.err.weeks" else text(lang, exc.key)
        )
    if isinstance(exc, QuotaExceeded):
        cap, left = hours_text(lang, exc.limit), hours_text(lang, exc.left)
        return text(lang, "desk.err.quota", limit=cap, left=left, week=exc.week)
    if isinstance(exc, SeriesConflictError):
        times = ", ".join(
            f"{c.start.astimezone(zone):%d.%m %H:%M}–{c.end.astimezone(zone):%H:%M}"
            for c in exc.conflicts
        )
        return text(
            lang, "desk.err.series", count=len({c.start for c in exc.conflicts}), times=times
        )
    message = str(exc)
    now_is = _NOW_IS.match(message)
    if isinstance(exc, Conflict) and now_is:
        return text(lang, "desk.err.now_is", status=text(lang, f"desk.status.{now_is[1]}"))
    for kind, part, key in REFUSALS:
        if isinstance(exc, kind) and part in message:
            return text(lang, key, max=limit) if key == "desk.err.weeks" else text(lang, key)
    return text(lang, "desk.err.other")


def hours_text(lang: str, seconds: float) -> str:
    """A length of time in words: `10 godz.`, `2 h 30 min`, `45 хв`."""
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    if h and m:
        return text(lang, "portal.dur.hm", h=h, m=m)
    return text(lang, "portal.dur.h", h=h) if h else text(lang, "portal.dur.m", m=m)

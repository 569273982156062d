"""Weekly quotas per member category (`[bookings.quotas]`): a member's booked, checked-in
and completed hours that start in one ISO week of the site's time zone, checked by every
way of booking a member takes: one booking, a weekly series (each week on its own) and a
waitlist offer accepted; cancelled hours given back; no quota, no limit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from server.bookings import quotas, rules
from server.bookings.quotas import QuotaExceeded
from server.context import ServerContext
from server.db import models
from server.people import members
from server.site import SiteConfig
from server.waitlist import entries, freed, offers

WARSAW = ZoneInfo("Europe/Warsaw")


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=WARSAW).astimezone(UTC)


def add_member(ctx: ServerContext, category: str = "resident") -> int:
    with ctx.writes() as s, s.begin():
        return members.create_member(s, name="Ola", category=category).id


def book(ctx: ServerContext, member_id: int, start: datetime, end: datetime, **kw: object) -> int:
    asked = rules.BookingRequest(room_id="sala-a", member_id=member_id, start=start, end=end)
    with ctx.writes() as s, s.begin():
        weekly = kw.get("weekly")
        if isinstance(weekly, int):
            made = rules.create_series(
                s, site=ctx.site, request=asked, weekly=weekly, now=ctx.clock()
            )
            return made[0].id
        return rules.create_booking(s, site=ctx.site, request=asked, now=ctx.clock()).id


def test_the_site_file_s_quotas_are_durations_per_category(ctx: ServerContext) -> None:
    assert ctx.site.bookings.quotas == {"resident": 36000.0, "ngo": 72000.0}
    assert quotas.limit_of(ctx.site, "business") is None
    data = ctx.site.model_dump()
    data["bookings"]["quotas"] = {"tenant": "1h"}
    with pytest.raises(ValueError, match="quotas"):
        SiteConfig.model_validate(data)


def test_a_booking_past_the_limit_is_refused_naming_the_limit_and_what_is_left(
    ctx: ServerContext,
) -> None:
    ola = add_member(ctx)
    book(ctx, ola, local(3, 8), local(3, 15))  # 7 h of 10
    book(ctx, ola, local(6, 8), local(6, 10))  # 9 h, Friday
    with pytest.raises(QuotaExceeded, match="quota of resident members is 10h.*1h left") as e:
        book(ctx, ola, local(8, 10), local(8, 12))  # Sunday: the same week
    assert (e.value.status, e.value.limit, e.value.left) == (409, 36000.0, 3600.0)
    assert e.value.week.isoformat() == "2026-03-02"
    book(ctx, ola, local(8, 10), local(8, 11))  # exactly to the limit
    book(ctx, ola, local(9, 8), local(9, 18))  # Monday: a new week, 10 h again


def test_a_week_is_local_monday_to_monday(ctx: ServerContext) -> None:
    # 23:30 on Sunday in Warsaw is 22:30 UTC on Sunday; 00:30 on Monday is still Sunday in UTC
    monday = datetime(2026, 3, 9, 0, 30, tzinfo=WARSAW)
    assert quotas.week_of(monday.astimezone(UTC), WARSAW).isoformat() == "2026-03-09"
    sunday = datetime(2026, 3, 8, 23, 30, tzinfo=WARSAW)
    assert quotas.week_of(sunday.astimezone(UTC), WARSAW).isoformat() == "2026-03-02"


def test_cancelled_hours_come_back_and_other_categories_have_no_limit(
    ctx: ServerContext,
) -> None:
    ola = add_member(ctx)
    first = book(ctx, ola, local(3, 8), local(3, 18))
    with pytest.raises(QuotaExceeded):
        book(ctx, ola, local(4, 8), local(4, 9))
    with ctx.writes() as s, s.begin():
        freed.cancel_booking(s, site=ctx.site, booking_id=first, now=ctx.clock(), by="api")
    book(ctx, ola, local(4, 8), local(4, 9))
    firm = add_member(ctx, "business")
    book(ctx, firm, local(5, 8), local(5, 20))
    book(ctx, firm, local(6, 8), local(6, 20))


def test_a_series_is_checked_week_by_week_and_booked_whole_or_not_at_all(
    ctx: ServerContext,
) -> None:
    ola = add_member(ctx)
    book(ctx, ola, local(10, 8), local(10, 17))  # 9 h in the second week
    with pytest.raises(QuotaExceeded, match="week of 2026-03-09"):
        book(ctx, ola, local(5, 18), local(5, 20), weekly=3)
    with ctx.reads() as s:
        assert s.query(models.Booking).count() == 1
    book(ctx, ola, local(5, 18), local(5, 19), weekly=3)


def wait_and_free(ctx: ServerContext, waiting: list[int], booking_id: int) -> None:
    """The members wait (in this order) for Sala A on Tuesday 14-16; then the booking that
    holds it is cancelled, and the slot offered."""
    with ctx.writes() as s, s.begin():
        for member in waiting:
            entries.join(
                s,
                site=ctx.site,
                member_id=member,
                start=local(3, 14),
                end=local(3, 16),
                now=ctx.clock(),
                room_id="sala-a",
            )
        freed.cancel_booking(s, site=ctx.site, booking_id=booking_id, now=ctx.clock(), by="api")


def test_accepting_a_waitlist_offer_obeys_the_quota(ctx: ServerContext) -> None:
    other, ola = add_member(ctx, "business"), add_member(ctx)
    theirs = book(ctx, other, local(3, 14), local(3, 16))
    wait_and_free(ctx, [ola], theirs)
    with ctx.reads() as s:
        (offer,) = offers.list_offers(s, member_id=ola, status="offered")
    book(ctx, ola, local(4, 8), local(4, 17))  # 9 h of 10, booked while the offer is open
    with ctx.writes() as s, pytest.raises(QuotaExceeded, match="1h left"), s.begin():
        offers.accept(s, site=ctx.site, offer_id=offer.id, now=ctx.clock())
    with ctx.reads() as s:
        assert offers.get_offer(s, offer_id=offer.id).status == "offered"  # nothing changed


def test_an_offer_skips_a_member_who_could_not_accept_it(ctx: ServerContext) -> None:
    holder, full, next_one = add_member(ctx, "business"), add_member(ctx), add_member(ctx, "ngo")
    theirs = book(ctx, holder, local(3, 14), local(3, 16))
    book(ctx, full, local(4, 8), local(4, 17))  # 9 h of 10: two more do not fit
    wait_and_free(ctx, [full, next_one], theirs)  # `full` waits first
    with ctx.reads() as s:
        assert offers.list_offers(s, member_id=full) == []
        assert len(offers.list_offers(s, member_id=next_one, status="offered")) == 1


def test_the_reception_desk_says_the_quota_in_its_words(ctx: ServerContext) -> None:
    from server.dashboard.reception.refusals import explain

    refused = QuotaExceeded(category="resident", limit=36000, left=5400, week=date(2026, 3, 2))
    said = explain("pl", refused, site=ctx.site, zone=WARSAW)
    assert said.startswith("Limit tej osoby to 10 godz. rezerwacji w tygodniu")
    assert "od 02.03.2026 zostało 1 godz. 30 min" in said
    assert "1 h 30 min is left" in explain("en", refused, site=ctx.site, zone=WARSAW)


def test_usage_says_what_is_held_and_left(ctx: ServerContext) -> None:
    ola = add_member(ctx)
    book(ctx, ola, local(3, 8), local(3, 11))
    with ctx.reads() as s:
        member = s.get(models.Member, ola)
        assert member is not None
        usage = quotas.usage(s, site=ctx.site, member=member, at=local(7, 12))
    assert (usage.limit, usage.used, usage.left) == (36000.0, 3 * 3600.0, 7 * 3600.0)
    assert usage.week == date(2026, 3, 2)

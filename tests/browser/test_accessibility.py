"""axe-core (from npm, run inside the page) finds no serious or critical violation of
WCAG 2.1 A/AA on the dashboard's pages, at a desktop's and a phone's width (a door panel
at a phone's and a tablet's, either way up), in Polish and in Ukrainian. A page to check is
one line of PAGES."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.axe import assert_accessible, axe_source
from support.livedata import busy_day
from support.signin import make_user

pytestmark = pytest.mark.browser

VIEWPORTS = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 1280, "height": 800},  # a door panel's, on its side
    "tablet-portrait": {"width": 800, "height": 1280},
}


@dataclass(frozen=True)
class Checked:
    name: str
    path: str  # what the browser opens (with ?lang= added)
    signed_in: bool
    ready: str  # a selector present once the page has what it shows
    sizes: tuple[str, ...] = ("desktop", "phone")  # of VIEWPORTS
    member: bool = False  # signed in as a member (the portal), not with the admin token


ACTS = ("cancel", "release", "end")
PAGES = [
    Checked("sign-in", "/", signed_in=False, ready="form"),
    Checked("dashboard", "/", signed_in=True, ready='#live-status[data-state="on"]'),
    Checked("members", "/reception/members", signed_in=True, ready="main h2"),
    Checked("member", "/reception/members/1", signed_in=True, ready="main h2"),
    Checked("member-erase", "/reception/members/1/erase", signed_in=True, ready="main h2"),
    Checked("card-tap", "/reception/members/1/cards/tap?device=reader-main", True, "#tap-status"),
    Checked("access-log", "/reception/access-log", signed_in=True, ready="main h2"),
    Checked("audit", "/reception/audit", signed_in=True, ready="main h2"),
    Checked("accounts", "/reception/accounts", signed_in=True, ready="main h2"),
    Checked("account", "/reception/accounts/{user}", signed_in=True, ready="main h2"),
    Checked("bookings", "/reception/bookings", signed_in=True, ready="main h2"),
    Checked("new-booking", "/reception/bookings/new", signed_in=True, ready="main h2"),
    # the confirmations, of the booking busy_day makes (`{booking}` its id)
    *(
        Checked(f"booking-{a}", f"/reception/bookings/{{booking}}/{a}", True, "main h2")
        for a in ACTS
    ),
    Checked("waitlist", "/reception/waitlist", signed_in=True, ready="main h2"),
    Checked("reports", "/reception/reports", signed_in=True, ready="main h2"),
    Checked("privacy", "/privacy", signed_in=False, ready="main h2"),
    Checked("panels", "/reception/panels", signed_in=True, ready="main h2"),
    # Sala B's door panel (busy_day books it now: the countdown shows); `{panel}` its key
    Checked(
        "door-panel",
        "/panel/sala-b?key={panel}",
        signed_in=False,
        ready="#panel-now[data-status]",
        sizes=("phone", "tablet", "tablet-portrait"),
    ),
    Checked("mail", "/reception/mail", signed_in=True, ready="main h2"),
    Checked("dead-letters", "/reception/dead-letters", signed_in=True, ready="table.dead-letters"),
    Checked("mail-link", "/m/cancel", signed_in=False, ready="main h2"),
    Checked("portal-sign-in", "/me/", signed_in=False, ready="form"),
    Checked("portal", "/me/", signed_in=False, ready="main h1", member=True),
    Checked(
        "portal-rooms", "/me/rooms?day={open_day}", signed_in=False, ready=".slots", member=True
    ),
    Checked(
        "portal-book",
        "/me/book?room=sala-a&start=2030-01-07T10:00",
        signed_in=False,
        ready="form.form",
        member=True,
    ),
    Checked("portal-bookings", "/me/bookings", signed_in=False, ready="main h2", member=True),
    Checked("portal-waitlist", "/me/waitlist", signed_in=False, ready="main h2", member=True),
    Checked("portal-notices", "/me/notifications", signed_in=False, ready="main h1", member=True),
    Checked("portal-calendar", "/me/calendar", signed_in=False, ready="#cal-link", member=True),
    Checked("portal-strikes", "/me/strikes", signed_in=False, ready="main h1", member=True),
]
MEMBER_EMAIL, MEMBER_PASSWORD = "piotr@example.org", "correct horse battery"


def member_user(live_site: Any) -> None:
    """A member account of Piotr Wiśniewski (a demo member with bookings of his own)."""
    from sqlalchemy import select

    from server.db import models

    with live_site.ctx.reads() as session:
        piotr = session.scalars(
            select(models.Member.id).where(models.Member.name == "Piotr Wiśniewski")
        ).one()
    make_user(live_site.ctx, "member", MEMBER_EMAIL, password=MEMBER_PASSWORD, member_id=piotr)


def opened(checked: Checked, site: Any, lang: str, booking: int) -> str:
    """The URL to open: the page's path with its panel key, booking or a staff user (if it
    has one) and `lang`."""
    path = checked.path.replace("{booking}", str(booking))
    if "{user}" in path:
        path = path.replace("{user}", str(make_user(site.ctx, "staff", "ewa@example.org").id))
    if "{panel}" in path:
        from server.bookings import roomkeys

        with site.ctx.writes() as session, session.begin():
            room, _ = roomkeys.panel_key(session, site=site.ctx.site, room_id="sala-b")
            path = path.replace("{panel}", room.panel_key or "")
    if "{open_day}" in path:  # today's hours may be over: its list of free hours empty
        path = path.replace("{open_day}", open_day(site.ctx).isoformat())
    if "dead-letters" in path:  # one held, so its row and buttons are checked
        from server.adapters.dead_letters import DeadLetterBox

        DeadLetterBox(site.ctx.writes, site.ctx.card_key)(
            topic="hub/piaseczno/dev/reader-main/evt/tap", payload=b"{}", device_id="reader-main",
            error="OperationalError: database or disk is full", attempts=5,
            received=site.ctx.clock(),
        )  # fmt: skip
    return f"{site.url}{path}{'&' if '?' in path else '?'}lang={lang}"


def open_day(ctx: Any) -> date:
    """The first day from today with an hour left to book at Sala A."""
    from server.bookings.slots import day_slots

    now = ctx.clock()
    today = now.astimezone(ZoneInfo(ctx.site.site.timezone)).date()
    with ctx.reads() as session:
        for day in (today + timedelta(days=n) for n in range(8)):
            if day_slots(session, site=ctx.site, room_id="sala-a", day=day, now=now):
                return day
    raise AssertionError("no hour to book at Sala A in the coming week")


@pytest.mark.parametrize(
    ("checked", "lang"),
    [(p, "pl") for p in PAGES]
    + [(p, "uk") for p in PAGES if p.name in ("dashboard", "door-panel", "portal-rooms")],
    ids=lambda v: v.name if isinstance(v, Checked) else v,
)
def test_no_serious_violation(chromium: Any, live_site: Any, checked: Checked, lang: str) -> None:
    axe_source()  # skips before any work when npm has not installed axe-core
    booking = busy_day(live_site)
    url = opened(checked, live_site, lang, booking)
    if checked.member:
        member_user(live_site)
    for size in checked.sizes:
        context = chromium.new_context(viewport=VIEWPORTS[size])
        try:
            page = context.new_page()
            if checked.signed_in:
                page.goto(f"{live_site.url}/login?token={live_site.token}&lang={lang}")
            if checked.member:
                signed_in = page.request.post(
                    f"{live_site.url}/login",
                    form={"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD},
                )
                assert signed_in.ok, signed_in.status
            page.goto(url)
            page.wait_for_selector(checked.ready, timeout=5000)
            page.wait_for_timeout(300)  # the fragments the live stream refetches
            assert_accessible(page, f"{checked.name} ({lang}, {size})")
        finally:
            context.close()

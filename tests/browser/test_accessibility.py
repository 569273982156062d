"""axe-core (from npm, run inside the page) finds no serious or critical violation of
WCAG 2.1 A/AA on the dashboard's pages, at a desktop's and a phone's width, in Polish and
in Ukrainian. A page to check is one line of PAGES."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from support.axe import assert_accessible, axe_source
from support.livedata import busy_day

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@dataclass(frozen=True)
class Checked:
    name: str
    path: str  # what the browser opens (with ?lang= added)
    signed_in: bool
    ready: str  # a selector present once the page has what it shows


PAGES = [
    Checked("sign-in", "/", signed_in=False, ready="form"),
    Checked("dashboard", "/", signed_in=True, ready='#live-status[data-state="on"]'),
    Checked("members", "/reception/members", signed_in=True, ready="main h2"),
    Checked("member", "/reception/members/1", signed_in=True, ready="main h2"),
    Checked("access-log", "/reception/access-log", signed_in=True, ready="main h2"),
    Checked("audit", "/reception/audit", signed_in=True, ready="main h2"),
    Checked("accounts", "/reception/accounts", signed_in=True, ready="main h2"),
    Checked("bookings", "/reception/bookings", signed_in=True, ready="main h2"),
    Checked("new-booking", "/reception/bookings/new", signed_in=True, ready="main h2"),
    Checked("waitlist", "/reception/waitlist", signed_in=True, ready="main h2"),
    Checked("reports", "/reception/reports", signed_in=True, ready="main h2"),
    Checked("privacy", "/privacy", signed_in=False, ready="main h2"),
    Checked("mail", "/reception/mail", signed_in=True, ready="main h2"),
    Checked("mail-link", "/m/cancel", signed_in=False, ready="main h2"),
]


@pytest.mark.parametrize(
    ("checked", "lang"),
    [(p, "pl") for p in PAGES] + [(p, "uk") for p in PAGES if p.name == "dashboard"],
    ids=lambda v: v.name if isinstance(v, Checked) else v,
)
def test_no_serious_violation(chromium: Any, live_site: Any, checked: Checked, lang: str) -> None:
    axe_source()  # skips before any work when npm has not installed axe-core
    busy_day(live_site)
    for size, viewport in VIEWPORTS.items():
        context = chromium.new_context(viewport=viewport)
        try:
            page = context.new_page()
            if checked.signed_in:
                page.goto(f"{live_site.url}/login?token={live_site.token}&lang={lang}")
            page.goto(f"{live_site.url}{checked.path}?lang={lang}")
            page.wait_for_selector(checked.ready, timeout=5000)
            page.wait_for_timeout(300)  # the fragments the live stream refetches
            assert_accessible(page, f"{checked.name} ({lang}, {size})")
        finally:
            context.close()

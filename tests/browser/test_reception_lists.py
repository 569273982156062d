"""The reception desk's access log and audit trail in real headless Chromium, on a
phone's width (390 px): nothing runs off the screen, each tap reads as a stacked row, and
the filters work by keyboard alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from protocol.messages import new_id
from server.db import models

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium: Any, live_site: Any) -> Any:
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{live_site.url}/login?token={live_site.token}")
        yield page
    finally:
        context.close()


def _taps(site: Any) -> list[str]:
    """Two members' taps at the main door a minute apart; their names."""
    ctx = site.ctx
    with ctx.writes() as session, session.begin():
        members = list(session.query(models.Member).order_by(models.Member.id).limit(2))
        now = ctx.clock()
        for n, member in enumerate(members):
            session.add(
                models.AccessEvent(
                    device_id="reader-main", event_id=new_id(), door_id="main",
                    received=now - timedelta(minutes=n), member_id=member.id, granted=True,
                    reason="membership", by="server",
                )
            )  # fmt: skip
        return [m.name for m in members]


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


def test_the_access_log_reads_on_a_phone_and_filters_by_keyboard(
    phone: Any, live_site: Any
) -> None:
    from playwright.sync_api import expect

    first, second = _taps(live_site)
    phone.goto(f"{live_site.url}/reception/access-log?lang=en")
    expect(phone.get_by_role("heading", name="Access log", level=2)).to_be_visible()
    _fits(phone)
    row = phone.locator("table.log tbody tr").filter(has_text=first)
    expect(row).to_contain_text("Wejście główne")
    box = row.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # a stacked row names what each line is
    label = row.locator("td").nth(1).evaluate("td => getComputedStyle(td, '::before').content")
    assert "Who" in label

    # by keyboard: Tab to the name field, type, Enter
    for _ in range(30):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.id") == "f-who":
            break
    else:
        pytest.fail("the name field is not reachable by Tab")
    phone.keyboard.type(second.split()[-1])
    phone.keyboard.press("Enter")
    phone.wait_for_url("**who=*")
    expect(phone.locator("table.log tbody tr")).to_have_count(1)
    expect(phone.locator("table.log tbody tr")).to_contain_text(second)
    _fits(phone)


def test_the_audit_trail_reads_on_a_phone(phone: Any, live_site: Any) -> None:
    from playwright.sync_api import expect

    phone.request.put(
        f"{live_site.url}/api/doors/sala-a/mode",
        data={"mode": "unlocked"},
        headers={"Authorization": f"Bearer {live_site.token}"},
    )
    phone.goto(f"{live_site.url}/reception/audit?lang=pl")
    expect(phone.get_by_role("heading", name="Rejestr zmian", level=2)).to_be_visible()
    row = phone.locator("table.audit tbody tr").first
    expect(row).to_contain_text("Zmiana trybu drzwi")
    expect(row).to_contain_text("administrator (token)")
    expect(row).to_contain_text("Sala warsztatowa A")
    _fits(phone)

"""The reception desk's waitlist page and the report page: names and local times, removing
an entry and accepting an offer (audited, refusals in the reader's language), the report
as tables, a chart and a CSV link."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.context import ServerContext
from server.db import models
from server.people import members
from server.waitlist import entries as waitlist_entries
from server.waitlist import offers as waitlist_offers

Headers = dict[str, str]
# 13:00-15:00 in Warsaw on Monday 2 March 2026 (the clock stands at 10:00 there)
SLOT = (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), datetime(2026, 3, 2, 14, 0, tzinfo=UTC))


def add_member(ctx: ServerContext, name: str) -> int:
    with ctx.writes() as s, s.begin():
        return members.create_member(s, name=name, category="resident").id


def join(ctx: ServerContext, member_id: int) -> int:
    with ctx.writes() as s, s.begin():
        entry = waitlist_entries.join(
            s, site=ctx.site, member_id=member_id, start=SLOT[0], end=SLOT[1], now=ctx.clock(),
            room_id="sala-a",
        )  # fmt: skip
        return entry.id


def offer(ctx: ServerContext) -> int:
    with ctx.writes() as s, s.begin():
        made = waitlist_offers.offer_freed_slot(
            s, site=ctx.site, room_id="sala-a", start=SLOT[0], end=SLOT[1], now=ctx.clock()
        )
        assert made is not None
        return made.id


def audit_actions(ctx: ServerContext) -> list[tuple[str, str | None]]:
    with ctx.reads() as s:
        rows = s.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id))
        return [(e.action, e.target) for e in rows]


def test_the_waitlist_shows_who_waits_and_the_offers_in_local_time(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    first = join(ctx, add_member(ctx, "Anna Kowalska"))
    second = join(ctx, add_member(ctx, "Jan Wiśniewski"))
    offer_id = offer(ctx)  # to Anna, the first in line, for offer_hold (10 minutes)
    page = client.get("/reception/waitlist?lang=en", headers=admin)
    assert page.status_code == 200
    entry_rows = re.findall(r'<tr id="entry-(\d+)">(.*?)</tr>', page.text, flags=re.S)
    assert [int(i) for i, _ in entry_rows] == [first, second]
    assert "Anna Kowalska" in entry_rows[0][1] and "offered" in entry_rows[0][1]
    assert "13:00–15:00" in entry_rows[1][1] and "Jan Wiśniewski" in entry_rows[1][1]
    (offer_row,) = re.findall(rf'<tr id="offer-{offer_id}">(.*?)</tr>', page.text, flags=re.S)
    assert "02.03.2026 10:10" in offer_row and "Anna Kowalska" in offer_row
    assert '<th scope="col">Valid until</th>' in page.text


def test_staff_remove_an_entry_and_accept_an_offer_for_a_member(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    anna = add_member(ctx, "Anna Kowalska")
    first = join(ctx, anna)
    second = join(ctx, add_member(ctx, "Jan Wiśniewski"))
    offer_id = offer(ctx)
    removed = client.post(
        f"/reception/waitlist/{second}/remove", data={"csrf_token": ""}, headers=admin,
        follow_redirects=False,
    )  # fmt: skip
    assert (removed.status_code, removed.headers["location"]) == (
        303,
        "/reception/waitlist?done=removed",
    )
    accepted = client.post(
        f"/reception/offers/{offer_id}/accept", data={"csrf_token": ""}, headers=admin,
        follow_redirects=False,
    )  # fmt: skip
    assert accepted.status_code == 303
    with ctx.reads() as s:
        (booking,) = s.scalars(select(models.Booking))
        assert (booking.member_id, booking.source, booking.status) == (anna, "waitlist", "booked")
        assert s.get(models.WaitlistEntry, first).status == "booked"  # type: ignore[union-attr]
    assert audit_actions(ctx) == [("waitlist.leave", str(second)), ("offer.accept", str(offer_id))]
    again = client.post(
        f"/reception/offers/{offer_id}/accept?lang=uk", data={"csrf_token": ""}, headers=admin
    )
    assert again.status_code == 409
    assert "Цю пропозицію вже прийнято." in again.text
    assert len(audit_actions(ctx)) == 2


def test_the_api_audits_the_waitlist_too(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    anna = add_member(ctx, "Anna Kowalska")
    body = {"member_id": anna, "room_id": "sala-a", "start": "2026-03-02T12:00:00Z",
            "end": "2026-03-02T14:00:00Z"}  # fmt: skip
    entry = client.post("/api/waitlist", json=body, headers=admin).json()["id"]
    offer_id = offer(ctx)
    assert client.post(f"/api/offers/{offer_id}/accept", headers=admin).status_code == 201
    assert audit_actions(ctx) == [("waitlist.join", str(entry)), ("offer.accept", str(offer_id))]


# -- the report page -----------------------------------------------------------------------


def test_the_report_page_has_tables_a_chart_and_the_csv(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    anna = add_member(ctx, "Anna Kowalska")
    with ctx.writes() as s, s.begin():
        s.add(
            models.Booking(
                room_id="sala-a", member_id=anna, status="completed", source="api",
                start=datetime(2026, 2, 24, 9, tzinfo=UTC),
                end=datetime(2026, 2, 24, 11, 30, tzinfo=UTC),
                completed_at=datetime(2026, 2, 24, 11, 30, tzinfo=UTC),
                created_at=datetime(2026, 2, 20, tzinfo=UTC),
            )
        )  # fmt: skip
    page = client.get("/reception/reports", headers=admin)  # the last four full weeks
    assert page.status_code == 200
    assert 'value="2026-02-02"' in page.text and 'value="2026-03-01"' in page.text
    assert 'href="/api/reports/utilisation.csv?from=2026-02-02&amp;to=2026-03-01"' in page.text
    assert re.search(r"<svg[^>]*role=\"img\"", page.text)
    assert '<title id="title">' in page.text and '<desc id="desc">' in page.text
    assert "<?xml" not in page.text
    week9 = page.text.split('id="week-2026-W09"')[1].split("</table>")[0]
    assert re.search(r"Sala warsztatowa A</th>\s*<td[^>]*>2,50</td>", week9)
    csv = client.get("/api/reports/utilisation.csv?from=2026-02-02&to=2026-03-01", headers=admin)
    assert csv.status_code == 200 and "2026-W09" in csv.text


def test_a_bad_report_range_is_told_in_the_readers_language(
    client: TestClient, admin: Headers
) -> None:
    page = client.get("/reception/reports?from=2026-03-10&to=2026-03-01&lang=en", headers=admin)
    assert page.status_code == 422
    assert "The last day is before the first." in page.text
    assert "<svg" not in page.text
    bad = client.get("/reception/reports?from=soon&to=2026-03-01&lang=pl", headers=admin)
    assert bad.status_code == 422 and "najwyżej rok od siebie" in bad.text


def test_the_reception_pages_need_staff(client: TestClient, gateway: Headers) -> None:
    for path in ("/reception/bookings", "/reception/waitlist", "/reception/reports"):
        signed_out = client.get(path, follow_redirects=False)  # to the sign-in page
        assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/")
        assert client.get(path, headers=gateway).status_code == 403
    assert client.post("/reception/bookings/new", headers=gateway).status_code == 403

"""Adding a member to the waitlist at the reception desk: a room (or any similar one), a
local day and hours, the member; the same domain function as `POST /api/waitlist`,
audited; refusals in the reader's language change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from support.signin import sign_in_with_token

from server.context import ServerContext
from server.db import models
from server.people import members

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def add_member(ctx: ServerContext, name: str) -> int:
    with ctx.writes() as s, s.begin():
        return members.create_member(s, name=name, category="resident").id


def waiting(ctx: ServerContext) -> list[models.WaitlistEntry]:
    with ctx.reads() as s:
        found = list(s.scalars(select(models.WaitlistEntry).order_by(models.WaitlistEntry.id)))
        s.expunge_all()
        return found


def joined(ctx: ServerContext) -> list[str | None]:
    entries = models.AuditEntry
    with ctx.reads() as s:
        return list(s.scalars(select(entries.target).where(entries.action == "waitlist.join")))


def post_join(client: TestClient, lang: str = "pl", **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/reception/waitlist?lang={lang}").text
    form = {"csrf_token": CSRF.findall(page)[0], **fields}
    return client.post(f"/reception/waitlist/join?lang={lang}", data=form, follow_redirects=False)


def test_staff_add_a_member_for_a_room_and_local_hours(
    client: TestClient, ctx: ServerContext
) -> None:
    anna = add_member(ctx, "Anna Kowalska")
    sign_in_with_token(client)
    page = client.get("/reception/waitlist?lang=en").text
    assert "Add to the waitlist" in page and f'<option value="{anna}">Anna Kowalska' in page
    assert 'value="2026-03-02"' in page  # today, in Warsaw, to start from
    done = post_join(client, "en", member=str(anna), room="sala-a", day="2026-03-02",
                     start="13:00", end="15:00")  # fmt: skip
    assert (done.status_code, done.headers["location"]) == (
        303, "/reception/waitlist?done=joined&lang=en"
    )  # fmt: skip
    [entry] = waiting(ctx)
    # 13:00-15:00 in Warsaw (UTC+1 in March)
    assert (entry.member_id, entry.room_id, entry.kind, entry.status) == (
        anna,
        "sala-a",
        None,
        "waiting",
    )
    assert (entry.start, entry.end) == (
        datetime(2026, 3, 2, 12, 0, tzinfo=UTC), datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    )  # fmt: skip
    assert joined(ctx) == [str(entry.id)]
    shown = client.get(done.headers["location"]).text
    assert "Added to the waitlist." in shown and re.search(rf'<tr id="entry-{entry.id}">', shown)


def test_or_any_similar_room(client: TestClient, ctx: ServerContext) -> None:
    jan = add_member(ctx, "Jan Nowak")
    sign_in_with_token(client)
    done = post_join(client, member=str(jan), room="sala-a", any_similar="on",
                     day="2026-03-03", start="18:00", end="20:00")  # fmt: skip
    assert done.status_code == 303
    [entry] = waiting(ctx)
    room = ctx.site.room("sala-a")
    assert room is not None
    assert (entry.room_id, entry.kind, entry.min_capacity) == ("sala-a", room.kind, room.capacity)


def test_refusals_are_told_and_change_nothing(client: TestClient, ctx: ServerContext) -> None:
    anna = add_member(ctx, "Anna Kowalska")
    sign_in_with_token(client)
    when = {"room": "sala-a", "day": "2026-03-02", "start": "13:00", "end": "15:00"}
    nobody = post_join(client, "en", member="", **when)
    assert nobody.status_code == 422 and 'role="alert"' in nobody.text
    for odd in ("²", "1e3", "-1"):  # "²".isdigit() is true, and int() refuses it
        strange = post_join(client, "pl", member=odd, **when)
        assert strange.status_code == 422 and 'role="alert"' in strange.text
    bad_day = post_join(client, "uk", member=str(anna), **(when | {"day": "2.3.2026"}))
    assert bad_day.status_code == 422 and 'role="alert"' in bad_day.text
    past = post_join(client, "en", member=str(anna), **(when | {"start": "08:00", "end": "09:00"}))
    assert past.status_code == 422 and "The start is in the past." in past.text
    assert 'value="08:00"' in past.text  # the form as it was sent
    order = post_join(client, "pl", member=str(anna), **(when | {"end": "12:00"}))
    assert order.status_code == 422 and 'role="alert"' in order.text
    assert waiting(ctx) == [] and joined(ctx) == []
    # without the form's CSRF token
    refused = client.post("/reception/waitlist/join", data={"member": str(anna), **when})
    assert refused.status_code == 403 and waiting(ctx) == []

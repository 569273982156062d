"""The access log a page at a time (issue 10, item 3): `GET /api/access-events` with a
cursor (`before=`, `Link: rel="next"`), local-day and time filters, door, member and
result filters and members' names; and the reception page `/reception/access-log`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from protocol.messages import Tap, new_id
from server.context import ServerContext
from server.db import models

Headers = dict[str, str]
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Warsaw, a Monday


def add_member(ctx: ServerContext, name: str) -> int:
    with ctx.writes() as session, session.begin():
        member = models.Member(name=name, category="resident")
        session.add(member)
        session.flush()
        return member.id


def add_taps(ctx: ServerContext, rows: list[dict[str, Any]]) -> list[int]:
    """Access-log rows (defaults: a refused unknown card at the main door); their ids."""
    made = [
        models.AccessEvent(
            **{
                "device_id": "reader-main",
                "door_id": "main",
                "event_id": new_id(),
                "granted": False,
                "reason": "unknown_card",
                "by": "server",
            }
            | row
        )
        for row in rows
    ]
    with ctx.writes() as session, session.begin():
        session.add_all(made)
        session.flush()
        return [m.id for m in made]


def at(minutes: float, event_id: str | None = None, **row: Any) -> dict[str, Any]:
    """A row `minutes` after T0."""
    return {"received": T0 + timedelta(minutes=minutes), "event_id": event_id or new_id()} | row


def walk(client, admin: Headers, url: str) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Every event id from `url` on, following the `Link: rel="next"` headers; and how
    many pages that took."""
    seen, pages = [], 0
    next_url: str | None = url
    while next_url:
        response = client.get(next_url, headers=admin)
        assert response.status_code == 200, response.text
        seen += [e["id"] for e in response.json()]
        pages += 1
        next_url = response.links.get("next", {}).get("url")
    return seen, pages


# -- paging -------------------------------------------------------------------------------


def test_paging_through_2500_events_gives_each_once_newest_first(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    rows = [
        # three taps a second: ties on `received` are broken by the row's id
        {"event_id": f"e{i:04d}", "received": T0 + timedelta(seconds=i // 3)}
        for i in range(2500)
    ]
    # a tap recorded last (a message replayed after an outage) sorts by when it was received
    rows.append({"event_id": "late", "received": T0 + timedelta(seconds=400)})
    add_taps(ctx, rows)
    with ctx.reads() as session:
        E = models.AccessEvent
        expected = list(
            session.scalars(select(E.event_id).order_by(E.received.desc(), E.id.desc()))
        )
    assert expected[0] == "e2499" and len(expected) == 2501

    seen, pages = walk(client, admin, "/api/access-events?limit=1000")
    assert seen == expected and pages == 3
    seen, pages = walk(client, admin, "/api/access-events")  # 100 a page by default
    assert seen == expected and pages == 26
    assert seen.index("e1203") < seen.index("late") < seen.index("e1202")


def test_a_page_holds_still_while_new_taps_arrive(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    add_taps(
        ctx, [{"event_id": f"old{i}", "received": T0 + timedelta(minutes=i)} for i in range(5)]
    )
    first = client.get("/api/access-events", params={"limit": 2}, headers=admin)
    assert [e["id"] for e in first.json()] == ["old4", "old3"]
    add_taps(ctx, [{"event_id": "new", "received": T0 + timedelta(hours=1)}])
    rest, _ = walk(client, admin, first.links["next"]["url"])
    assert rest == ["old2", "old1", "old0"]
    last = client.get("/api/access-events", params={"limit": 6}, headers=admin)
    assert len(last.json()) == 6 and "link" not in last.headers  # no next page after the last


def test_the_next_link_keeps_the_filters(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    add_taps(
        ctx,
        [
            {"door_id": d, "received": T0 + timedelta(minutes=i)}
            for i, d in enumerate(["main", "sala-a"] * 4)
        ],
    )
    response = client.get("/api/access-events", params={"door": "main", "limit": 3}, headers=admin)
    link = response.headers["link"]
    assert re.fullmatch(r'<http://testserver/api/access-events\?[^>]+>; rel="next"', link)
    assert "door=main" in link and "limit=3" in link and "before=" in link
    following = client.get(response.links["next"]["url"], headers=admin).json()
    assert [e["door"] for e in following] == ["main"]


# -- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "inside", "outside"),
    [
        # spring forward: the local day has 23 hours, from 23:00 UTC the day before
        (
            "2026-03-29",
            ["2026-03-28T23:00:00", "2026-03-29T21:59:59"],
            ["2026-03-28T22:59:59", "2026-03-29T22:00:00"],
        ),
        # fall back: 25 hours, until 23:00 UTC
        (
            "2026-10-25",
            ["2026-10-24T22:00:00", "2026-10-25T22:59:59"],
            ["2026-10-24T21:59:59", "2026-10-25T23:00:00"],
        ),
    ],
)
def test_a_date_is_the_sites_local_day_around_a_dst_change(  # type: ignore[no-untyped-def]
    client, admin, ctx, day, inside, outside
) -> None:
    utc = {t: datetime.fromisoformat(t).replace(tzinfo=UTC) for t in inside + outside}
    add_taps(ctx, [{"event_id": t, "received": at} for t, at in utc.items()])

    def ids(**params: str) -> list[str]:
        response = client.get("/api/access-events", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return sorted(e["id"] for e in response.json())

    assert ids(**{"from": day, "to": day}) == sorted(inside)
    # an instant with its offset, `to` exclusive
    assert ids(**{"from": f"{inside[0]}Z", "to": f"{inside[1]}Z"}) == [inside[0]]
    assert ids(**{"from": f"{day}T00:00:00+00:00"}) == sorted(
        t for t in inside + outside if utc[t] >= datetime.fromisoformat(f"{day}T00:00:00+00:00")
    )
    assert ids(to=day) == sorted([inside[0], inside[1], outside[0]])


def test_door_member_and_result_filters_and_names(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    anna, piotr = add_member(ctx, "Anna Kowalska"), add_member(ctx, "Piotr Nowak")
    sala_a = {"door_id": "sala-a", "device_id": "reader-sala-a"}
    # refused by the decision, but the door's Result says it let her in
    let_in = {"result_id": "r", "result_applied": "gateway", "result_granted": True}
    add_taps(
        ctx,
        [
            at(0, "a1", member_id=anna, granted=True, reason="membership"),
            at(1, "p1", member_id=piotr, reason="no_access", **sala_a),
            at(2, "u1"),
            at(3, "a2", member_id=anna, reason="policy_stale", **let_in),
        ],
    )

    def rows(**params: Any) -> list[dict[str, Any]]:
        response = client.get("/api/access-events", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    names = {e["id"]: e["member_name"] for e in rows()}
    assert names == {"a1": "Anna Kowalska", "p1": "Piotr Nowak", "u1": None, "a2": "Anna Kowalska"}
    assert [e["id"] for e in rows(granted="true")] == ["a2", "a1"]
    assert [e["id"] for e in rows(granted="false")] == ["u1", "p1"]
    assert [e["id"] for e in rows(door="sala-a")] == ["p1"]
    assert [e["id"] for e in rows(member_id=anna, granted=False)] == []
    assert [e["id"] for e in rows(door="gone")] == []  # a door no longer in the site: none


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "from=2026-02-30",
        "to=2026-13-01",
        "from=2026-03-02T10:00:00",  # no offset
        "from=2026-03-03&to=2026-03-02",
        "from=2026-03-02T10:00:00Z&to=2026-03-02T10:00:00Z",
        "before=0",
        "before=abc",
        "granted=maybe",
        "limit=1001",
        "member_id=0",
        "from=0001-01-01",  # before the first instant there is
        "to=9999-12-31",  # its end is after the last
        f"from={'9' * 50}",
    ],
)
def test_bad_filters_are_422_in_the_one_list_shape(client, admin, query) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/access-events?{query}", headers=admin)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][0] == "query" and error["msg"] and error["type"]


def test_the_access_log_is_for_staff(client, gateway) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/access-events").status_code == 401
    assert client.get("/api/access-events", headers=gateway).status_code == 403


# -- the reception page -------------------------------------------------------------------

WORDS = {
    "pl": ("Dziennik wejść", "Wpuszczono", "Starsze"),
    "en": ("Access log", "Admitted", "Older"),
    "uk": ("Журнал входів", "Впущено", "Старіші"),
}


def sign_in(client) -> None:  # type: ignore[no-untyped-def]
    token = client.app.state.ctx.settings.admin_token
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303


def tap_in(client, admin: Headers, ctx: ServerContext) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A member with a card and a membership taps it at the main door (opening hours)."""
    member = client.post(
        "/api/members", json={"name": "Olena Shevchenko", "category": "resident"}, headers=admin
    ).json()
    card = client.post(
        f"/api/members/{member['id']}/cards", json={"uid": "04A1B2C3"}, headers=admin
    )
    assert card.status_code == 201, card.text
    now = ctx.clock()
    plan = {
        "member_id": member["id"],
        "plan": "coworking",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=30)).isoformat(),
    }
    assert client.post("/api/memberships", json=plan, headers=admin).status_code == 201
    answers: list[Any] = []
    ctx.access.handle_tap("reader-main", Tap(id=new_id(), ts=now, card="04A1B2C3"), answers.append)
    assert answers and answers[0].granted, answers
    return member  # type: ignore[no-any-return]


@pytest.mark.parametrize("lang", ["pl", "en", "uk"])
def test_the_page_shows_a_tap_by_name_in_each_language(client, admin, ctx, lang) -> None:  # type: ignore[no-untyped-def]
    tap_in(client, admin, ctx)
    sign_in(client)
    page = client.get("/reception/access-log", params={"lang": lang})
    assert page.status_code == 200
    html = page.text
    title, admitted, _ = WORDS[lang]
    assert f'<html lang="{lang}">' in html and f"<h2>{title}</h2>" in html
    row = re.search(r'<tr class="granted">.*?</tr>', html, re.S)
    assert row, html
    local = ctx.clock().astimezone(ZoneInfo("Europe/Warsaw"))  # the site's zone
    assert "Olena Shevchenko" in row[0] and "Wejście główne" in row[0] and admitted in row[0]
    assert local.strftime("%H:%M:%S") in row[0] and "reader-main" not in row[0]
    # every field has its label; headers of the table say what they head
    for field in re.findall(r'<(?:input|select) id="([^"]+)"', html):
        assert f'<label for="{field}">' in html
    assert html.count('<th scope="col">') == 4 and '<th scope="row"' in html
    assert 'href="/reception/access-log" aria-current="page"' in html


def test_the_page_filters_by_local_evening_door_name_and_result(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    anna, piotr = add_member(ctx, "Anna Kowalska"), add_member(ctx, "Piotr Nowak")
    tuesday = (datetime(2026, 3, 3, tzinfo=UTC) - T0).total_seconds() / 60  # Warsaw: UTC+1
    sala_b = {"door_id": "sala-b", "device_id": "reader-sala-b"}
    add_taps(
        ctx,
        [
            at(tuesday + 8 * 60, member_id=anna, granted=True),
            at(tuesday + 17.5 * 60, member_id=anna, granted=True),
            at(tuesday + 18 * 60, member_id=piotr, granted=True, **sala_b),
            at(tuesday + 19 * 60),
        ],
    )
    sign_in(client)

    def times(**params: str) -> list[str]:
        page = client.get("/reception/access-log", params=params | {"lang": "en"})
        assert page.status_code == 200, page.text
        return re.findall(r"2026-03-03 (\d\d:\d\d):00</time>", page.text)

    evening = {"day": "2026-03-03", "since": "18:00", "until": "23:00"}
    assert times(**evening) == ["20:00", "19:00", "18:30"]
    assert times(**evening, result="granted") == ["19:00", "18:30"]
    assert times(**evening, result="refused") == ["20:00"]
    assert times(**evening, who="kowal") == ["18:30"]
    assert times(**evening, door="sala-b") == ["19:00"]
    assert times(day="2026-03-03") == ["20:00", "19:00", "18:30", "09:00"]
    page = client.get("/reception/access-log", params=evening | {"door": "sala-b"})
    assert 'value="18:00"' in page.text and '<option value="sala-b" selected>' in page.text
    assert "Sala konferencyjna B" in page.text and "Piotr Nowak" in page.text


@pytest.mark.parametrize(
    ("params", "message", "field"),
    [
        ({"day": "03.03.2026"}, "The date is not valid", "f-day"),
        ({"day": "2026-03-03", "since": "25:00"}, "The time is not valid", "f-since"),
        ({"day": "2026-03-03", "since": "20:00", "until": "18:00"}, "The start time", "f-until"),
        ({"door": "reader-main"}, "There is no such door", "f-door"),
        ({"result": "maybe"}, "Unknown result", "f-result"),
        ({"before": "x"}, "That link to a page of the list is not valid", None),
    ],
)
def test_bad_filters_on_the_page_are_said_in_the_readers_language(  # type: ignore[no-untyped-def]
    client, ctx, params, message, field
) -> None:
    add_taps(ctx, [{"received": T0}])
    sign_in(client)
    page = client.get("/reception/access-log", params=params | {"lang": "en"})
    assert page.status_code == 422
    assert re.search(rf'<p class="error" role="alert"[^>]*>{re.escape(message)}', page.text)
    assert "<time" not in page.text  # nothing listed
    invalid = r'id="(f-[a-z]+)"[^>]*aria-invalid="true" aria-describedby="filter-error"'
    marked = re.findall(invalid, page.text)
    assert (field in marked) if field else not marked


def test_the_page_goes_to_older_taps_and_back_to_the_newest(client, ctx) -> None:  # type: ignore[no-untyped-def]
    add_taps(
        ctx, [{"event_id": f"t{i}", "received": T0 + timedelta(minutes=i)} for i in range(120)]
    )
    sign_in(client)
    seen: list[str] = []
    url = "/reception/access-log?lang=en&result=refused"
    while url:
        html = client.get(url).text
        seen += re.findall(r'<time datetime="([^"]+)"', html)
        older = re.search(r'<a href="([^"]+)" rel="next">Older', html)
        url = older[1].replace("&amp;", "&") if older else ""
        if seen and len(seen) > 50:
            assert "Back to the newest" in html and "result=refused" in (url or "result=refused")
    assert len(seen) == len(set(seen)) == 120 and seen == sorted(seen, reverse=True)


def test_the_page_is_for_staff(client, gateway) -> None:  # type: ignore[no-untyped-def]
    signed_out = client.get("/reception/access-log", follow_redirects=False)  # to the sign-in page
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/")
    assert client.get("/reception/access-log", headers=gateway).status_code == 403

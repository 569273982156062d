"""What a receptionist found wrong on the dashboard, fixed: the entrance is the building's
card, not a room; "in use" only with evidence, and which; alerts by urgency with room
names; the evacuation count is the building card's; the page's words."""

from __future__ import annotations

import re
from datetime import timedelta

from protocol.messages import Count, Motion, new_id
from server.context import ServerContext
from server.dashboard import i18n
from server.db import models
from server.monitoring import alerts
from server.notify import texts
from server.occupancy.readings import Reading, record_readings


def _sign_in(client) -> None:  # type: ignore[no-untyped-def]
    token = client.app.state.ctx.settings.admin_token
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303


def _readings(ctx: ServerContext, *readings: Reading) -> None:
    with ctx.writes() as s, s.begin():
        record_readings(s, site=ctx.site, readings=list(readings), now=ctx.clock())


def _checked_in_now(ctx: ServerContext, room_id: str) -> None:
    now = ctx.clock()
    with ctx.writes() as s, s.begin():
        member = models.Member(name="Olena Szewczenko", category="ngo")
        s.add(member)
        s.flush()
        s.add(
            models.Booking(
                room_id=room_id,
                member_id=member.id,
                start=now - timedelta(minutes=30),
                end=now + timedelta(minutes=30),
                status="checked_in",
                title="Warsztaty",
            )
        )


def _card(html: str, room_id: str) -> str:
    found = re.search(rf'id="room-{room_id}".*?</article>', html, re.S)
    assert found, room_id
    return found.group(0)


def test_checked_in_with_nobody_counted_and_no_motion_is_not_in_use(client, ctx) -> None:  # type: ignore[no-untyped-def]
    _checked_in_now(ctx, "sala-b")
    _sign_in(client)
    card = _card(client.get("/dashboard/fragments/rooms/sala-b").text, "sala-b")
    assert "0 z 40" in card
    assert 'data-state="checked_in_unseen"' in card
    assert "Rezerwacja trwa, nikogo nie widać" in card
    assert "W użyciu" not in card

    # three people walk in: now it is in use, and the card says why
    count = Count(id=new_id(), ts=ctx.clock(), entered=3, left=0)
    _readings(ctx, Reading("counter-sala-b", count))
    card = _card(client.get("/dashboard/fragments/rooms/sala-b").text, "sala-b")
    assert 'data-state="in_use"' in card
    assert "(osoby w sali: 3)" in card


def test_motion_is_the_evidence_it_names(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    seen = Motion(id=new_id(), ts=ctx.clock(), motion=True)
    _readings(
        ctx,
        Reading("pir-sala-a", seen),
        Reading("pir-sala-a", seen.model_copy(update={"id": new_id(), "motion": False})),
    )
    clock.advance(minutes=2)
    _sign_in(client)
    card = _card(client.get("/dashboard/fragments/rooms/sala-a").text, "sala-a")
    assert 'data-state="in_use_unbooked"' in card
    assert "(ruch 2 min temu)" in card


def test_the_entrance_is_the_building_and_its_count_is_the_evacuation_s(client, ctx) -> None:  # type: ignore[no-untyped-def]
    count = Count(id=new_id(), ts=ctx.clock(), entered=7, left=2)
    _readings(ctx, Reading("counter-main", count))
    _sign_in(client)
    page = client.get("/").text
    rooms = page[page.index('id="rooms-list"') :]
    assert "room-main" not in rooms.split("</ul>", 1)[0]
    building = _card(page, "main")
    assert '<strong class="count">5</strong> według licznika wejść' in building
    assert "unlock-main" in building  # its door is still opened from here
    evacuation = client.get("/dashboard/fragments/evacuation").text
    assert re.search(r'<strong class="count">5</strong>', evacuation)
    assert "W budynku według licznika wejść" in evacuation
    assert "także ci, którzy już wyszli" in evacuation


def test_alerts_most_urgent_first_by_room_name(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    with ctx.writes() as s, s.begin():
        alerts.raise_alert(s, kind="booked_empty", now=ctx.clock(), room_id="sala-a")
        clock.advance(minutes=1)
        alerts.raise_alert(s, kind="forced", now=ctx.clock(), device_id="reader-main")
        clock.advance(minutes=1)
        alerts.raise_alert(s, kind="device_offline", now=ctx.clock(), device_id="counter-sala-b")
    _sign_in(client)
    html = client.get("/dashboard/fragments/alerts").text
    items = re.findall(r'<li class="alert alert-([a-z_]+) severity-([a-z]+)">', html)
    assert items == [
        ("forced", "critical"),
        ("device_offline", "warning"),
        ("booked_empty", "notice"),
    ]
    assert "Wejście główne · czytnik drzwi" in html
    assert "Sala konferencyjna B · licznik wejść" in html
    assert "reader-main" not in html.replace('data-alert="', "") and "counter-sala-b" not in html
    assert "Pilne:" in html


def test_the_page_words_a_failure_in_its_own_language() -> None:
    keys = ("error.conflict", "error.not_found", "error.server", "error.network")
    english = i18n.client_strings("en")
    for lang in ("pl", "uk"):
        words = i18n.client_strings(lang)
        for key in keys:
            assert words[key] and words[key] != english[key], (lang, key)
    assert "anulowana" in i18n.client_strings("pl")["error.conflict"]


def test_receptionist_words() -> None:
    pl = texts.CATALOGUE["pl"]
    values = " ".join(pl.values()).lower()
    assert "tryb przejścia" not in values and "bramk" not in values
    assert "czujnik obecności" not in values
    assert pl["action.unlocked"] == "Otwarte na stałe"
    assert pl["kind.counter"] == "licznik wejść"
    uk = " ".join(texts.CATALOGUE["uk"].values()).lower()
    assert "шлюз" not in uk and "прохідний" not in uk and "сповіщень" not in uk
    en = " ".join(texts.CATALOGUE["en"].values()).lower()
    assert "passage mode" not in en and "gateway" not in en


def test_the_devices_table_names_what_each_sensor_is(client) -> None:  # type: ignore[no-untyped-def]
    _sign_in(client)
    html = client.get("/dashboard/fragments/devices").text
    row = re.search(r'id="device-counter-main".*?</tr>', html, re.S)
    assert row and "licznik wejść" in row.group(0)
    row = re.search(r'id="device-pir-sala-a".*?</tr>', html, re.S)
    assert row and "czujnik ruchu" in row.group(0)

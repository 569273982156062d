"""The doors' retained commands carry the server's counter `n` (and the emergency lists
their `kdf`); a door that does not apply the mode asked of it for more than 10 s raises
an alert, closed when it does; the dashboard shows both modes and the door path's
health (issue 8, item 3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from protocol.cards import EMERGENCY_KDF
from protocol.messages import DoorMode, EmergencyList, Message, Status
from server.adapters.door_state import DoorState
from server.db import meta, models
from server.db.meta import take_numbers
from server.people import members


class Published:
    """What DoorState published, by topic, in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Message]] = []

    def __call__(self, topic: str, message: Message) -> None:
        self.messages.append((topic, message))

    def of(self, kind: type[Message]) -> list[tuple[str, Message]]:
        return [(t, m) for t, m in self.messages if isinstance(m, kind)]

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture
def doors(ctx):
    published = Published()
    return DoorState(ctx, published), published


def ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def set_mode(ctx, door: str, mode: str) -> None:
    with ctx.writes() as s, s.begin():
        s.get(models.Door, door).mode = mode  # type: ignore[union-attr]
        meta.bump(s)


def report(ctx, device: str, mode: str, now: datetime) -> None:
    ctx.access.handle_status(device, Status(state="online", kind="door", ts=now, mode=mode))


def open_alerts(ctx, kind: str = "door_mode_mismatch") -> list[models.Alert]:
    with ctx.reads() as s:
        A = models.Alert
        return list(s.scalars(select(A).where(A.kind == kind, A.acknowledged_at.is_(None))))


# -- the command counter ----------------------------------------------------------------


def test_every_retained_command_carries_a_growing_n(ctx, clock, doors):
    state, published = doors
    with ctx.writes() as s, s.begin():
        ewa = members.create_member(s, name="Ewa Nowak", category="staff")
        members.add_card(s, card_key=ctx.card_key, member_id=ewa.id, uid="04A1B2C3")
    state.follow(clock.now)
    modes, lists = published.of(DoorMode), published.of(EmergencyList)
    assert len(modes) == len(lists) == 4
    numbers = [m.n for _t, m in published.messages]
    assert numbers == sorted(set(numbers)) and numbers[0] >= ms(clock.now)
    assert all(m.kdf == EMERGENCY_KDF and len(m.cards) == 1 for _t, m in lists)  # type: ignore[attr-defined]
    published.clear()
    clock.advance(seconds=1)
    set_mode(ctx, "main", "locked")
    state.follow(clock.now)
    [(topic, mode)] = published.messages
    assert topic.endswith("/reader-main/cmd/mode") and mode.mode == "locked"  # type: ignore[attr-defined]
    assert mode.n > numbers[-1]  # type: ignore[attr-defined]
    with ctx.reads() as s:
        assert s.get(models.Meta, 1).command_n == mode.n  # type: ignore[union-attr,attr-defined]


def test_a_forgetful_broker_hears_everything_again_with_new_numbers(ctx, clock, doors):
    state, published = doors
    state.follow(clock.now)
    first = max(m.n for _t, m in published.messages)  # type: ignore[attr-defined]
    published.clear()
    state.follow(clock.now)
    assert published.messages == []  # nothing changed, nothing sent
    state.forget()
    state.follow(clock.now)
    assert len(published.messages) == 8
    assert min(m.n for _t, m in published.messages) > first  # type: ignore[attr-defined]


def test_the_counter_moves_on_from_the_clock_and_never_back(ctx, clock):
    with ctx.writes() as s, s.begin():
        assert take_numbers(s, 2, clock.now) == [ms(clock.now), ms(clock.now) + 1]
        # a clock set back: the counter still grows
        assert take_numbers(s, 1, clock.now - timedelta(hours=1)) == [ms(clock.now) + 2]
    # a new database (counter 0) with a door that remembers an n of an hour ago: later
    with ctx.writes() as s, s.begin():
        s.get(models.Meta, 1).command_n = 0  # type: ignore[union-attr]
        later = clock.now + timedelta(seconds=1)
        assert take_numbers(s, 1, later) == [ms(later)]


# -- the mode a door applies ------------------------------------------------------------


def test_a_door_that_does_not_apply_its_mode_for_over_10_s_raises_one_alert(ctx, clock, doors):
    state, _published = doors
    report(ctx, "reader-sala-a", "normal", clock.now)
    state.follow(clock.now)
    set_mode(ctx, "sala-a", "locked")
    state.follow(clock.now)
    clock.advance(seconds=10)
    report(ctx, "reader-sala-a", "normal", clock.now)  # its heartbeat: still normal
    state.follow(clock.now)
    assert open_alerts(ctx) == []  # 10 s is allowed
    clock.advance(seconds=0.5)
    state.follow(clock.now)
    [alert] = open_alerts(ctx)
    assert (alert.device_id, alert.room_id) == ("reader-sala-a", "sala-a")
    assert alert.details["room"] == "Sala warsztatowa A"
    assert (alert.details["requested"], alert.details["actual"]) == ("locked", "normal")
    for _ in range(3):
        clock.advance(seconds=0.5)
        state.follow(clock.now)
    assert [a.details["count"] for a in open_alerts(ctx)] == [1]  # not repeated
    report(ctx, "reader-sala-a", "locked", clock.now)
    state.follow(clock.now)
    assert open_alerts(ctx) == []  # closed by itself
    with ctx.reads() as s:
        closed = s.get(models.Alert, alert.id)
    assert closed.acknowledged_at == clock.now and closed.details["resolved"] is True


def test_a_door_that_catches_up_in_time_raises_nothing(ctx, clock, doors):
    state, _published = doors
    report(ctx, "reader-main", "normal", clock.now)
    set_mode(ctx, "main", "unlocked")
    state.follow(clock.now)
    clock.advance(seconds=2)
    report(ctx, "reader-main", "unlocked", clock.now)
    state.follow(clock.now)
    clock.advance(seconds=30)
    state.follow(clock.now)
    assert open_alerts(ctx) == []


def test_a_door_offline_or_silent_about_its_mode_is_not_compared(ctx, clock, doors):
    state, _published = doors
    ctx.access.handle_status(  # an older door: no mode in its Status
        "reader-cowork", Status(state="online", kind="door", ts=clock.now)
    )
    report(ctx, "reader-main", "normal", clock.now)
    ctx.access.handle_status(
        "reader-main", Status(state="offline", kind="door", ts=clock.now, mode="normal")
    )
    set_mode(ctx, "coworking", "locked")
    set_mode(ctx, "main", "locked")
    state.follow(clock.now)
    clock.advance(seconds=20)
    state.follow(clock.now)
    assert open_alerts(ctx) == []


# -- on the dashboard -------------------------------------------------------------------


def sign_in(client) -> None:  # type: ignore[no-untyped-def]
    token = client.app.state.ctx.settings.admin_token
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303


def test_the_dashboard_shows_the_mode_a_door_applies_beside_the_one_asked(client, ctx, clock):
    sign_in(client)
    report(ctx, "reader-sala-a", "normal", clock.now)
    set_mode(ctx, "sala-a", "locked")
    devices = client.get("/dashboard/fragments/devices?lang=en").text
    assert "asked: locked · " in devices and "applied: card only" in devices
    assert 'class="mode mismatch"' in devices
    room = client.get("/dashboard/fragments/rooms/sala-a?lang=en").text
    assert "the door reports: card only" in room and "door-actual mismatch" in room
    report(ctx, "reader-sala-a", "locked", clock.now)
    room = client.get("/dashboard/fragments/rooms/sala-a?lang=pl").text
    assert "drzwi zgłaszają: zablokowane" in room and "mismatch" not in room


@pytest.mark.parametrize(
    ("lag", "held", "writable", "english", "polish"),
    [
        (12.0, 0, True, "The server is 12 s behind", "opóźnienie 12 s"),
        (0.0, 2, True, "could not be recorded: 2.", "nie udało się zapisać: 2."),
        (0.0, 0, False, "The database takes no writes", "Baza danych nie przyjmuje zapisów"),
    ],
)
def test_a_banner_when_the_door_path_falls_behind_or_sets_messages_aside(
    client, ctx, clock, monkeypatch, lag, held, writable, english, polish
):
    sign_in(client)
    assert "health-banner" not in client.get("/?lang=en").text  # all is well: no banner
    ingest = SimpleNamespace(lag_s=lag, db_writable=writable)
    monkeypatch.setattr(client.app.state, "ingest", ingest)
    with ctx.writes() as s, s.begin():
        for _ in range(held):
            s.add(
                models.DeadLetter(
                    topic="hub/piaseczno/dev/reader-main/evt/tap",
                    payload=b"",
                    error="OperationalError: disk full",
                    received=clock.now,
                )
            )
    for page in ("/?lang=en", "/dashboard/fragments/health?lang=en"):
        shown = client.get(page).text
        assert "health-banner" in shown and english in shown
        assert ('href="/reception/dead-letters?lang=en"' in shown) == bool(held)
        assert ("The database takes no writes" in shown) == (not writable)
    assert polish in client.get("/dashboard/fragments/health?lang=pl").text


def test_the_health_fragment_needs_a_session(client):
    assert client.get("/dashboard/fragments/health").status_code == 401
    sign_in(client)
    assert (
        client.get("/dashboard/fragments/health").text.strip() == '<div id="health-body">\n</div>'
    )

"""GDPR: a guardian's consent for minors on the API, the export of everything held about
a member, erasure (no door admits the member's cards, the name is gone, events stay under
the member's id), the daily purge of events past the retention, the privacy notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from protocol.cards import card_hash
from protocol.decide import decide
from protocol.messages import Tap, new_id
from server.adapters.scheduler import Scheduler
from server.db import models
from server.people import gdpr

UID = "04A1B2C3D4E5F6"


def new_member(client, admin, **fields):  # type: ignore[no-untyped-def]
    body = {"name": "Anna Kowalska", "email": "anna@example.org", "category": "staff", **fields}
    created = client.post("/api/members", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return created.json()


def add_membership(client, admin, clock, member_id: int) -> None:  # type: ignore[no-untyped-def]
    body = {
        "member_id": member_id,
        "plan": "coworking",
        "valid_from": clock.now.isoformat(),
        "valid_until": (clock.now + timedelta(days=30)).isoformat(),
    }
    assert client.post("/api/memberships", json=body, headers=admin).status_code == 201


def actions(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.reads() as session:
        return list(
            session.scalars(select(models.AuditEntry.action).order_by(models.AuditEntry.id))
        )


def tap(ctx, clock, uid: str = UID):  # type: ignore[no-untyped-def]
    answers: list = []  # type: ignore[type-arg]
    ctx.access.handle_tap("reader-main", Tap(id=new_id(), ts=clock.now, card=uid), answers.append)
    return answers[0]


# -- a guardian's consent ----------------------------------------------------------------


def test_a_minor_without_a_guardian_is_422_and_nothing_is_stored(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    for extra in ({}, {"guardian_name": "Maria"}, {"guardian_consent_at": "2026-02-01T10:00:00Z"}):
        refused = client.post(
            "/api/members",
            json={"name": "Ola", "category": "resident", "minor": True, **extra},
            headers=admin,
        )
        assert refused.status_code == 422
        [problem] = refused.json()["detail"]
        assert problem["loc"] == ["body"] and "guardian" in problem["msg"]
    with ctx.reads() as session:
        assert session.scalar(select(func.count()).select_from(models.Member)) == 0


def test_guardian_fields_are_created_read_and_patched(client, admin) -> None:  # type: ignore[no-untyped-def]
    ola = new_member(
        client,
        admin,
        name="Ola",
        category="resident",
        minor=True,
        guardian_name="Maria Kowalska",
        guardian_consent_at="2026-02-01T10:00:00+01:00",
    )
    assert (ola["minor"], ola["guardian_name"], ola["guardian_consent_at"]) == (
        True,
        "Maria Kowalska",
        "2026-02-01T09:00:00Z",
    )
    path = f"/api/members/{ola['id']}"
    cleared = client.patch(path, json={"guardian_name": None}, headers=admin)
    assert cleared.status_code == 422
    assert client.get(path, headers=admin).json()["guardian_name"] == "Maria Kowalska"
    grown_up = client.patch(
        path,
        json={"minor": False, "guardian_name": None, "guardian_consent_at": None},
        headers=admin,
    )
    assert grown_up.status_code == 200 and grown_up.json()["minor"] is False


def test_member_changes_over_the_api_are_audited(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = new_member(client, admin)
    path = f"/api/members/{anna['id']}"
    client.patch(path, json={"name": "Anna Nowak"}, headers=admin)
    until = (clock.now + timedelta(days=3)).isoformat()
    client.patch(path, json={"suspended_until": until}, headers=admin)
    card = client.post(f"{path}/cards", json={"uid": UID}, headers=admin).json()
    client.delete(f"/api/cards/{card['id']}", headers=admin)
    add_membership(client, admin, clock, anna["id"])
    assert actions(ctx) == [
        "member.create",
        "member.update",
        "member.suspend",
        "card.create",
        "card.revoke",
        "membership.create",
    ]
    with ctx.reads() as session:
        update = session.scalars(
            select(models.AuditEntry).where(models.AuditEntry.action == "member.update")
        ).one()
    assert (update.target, update.detail) == (str(anna["id"]), {"fields": ["name"]})
    assert "Anna" not in str(update.detail)  # names the field, not the personal data


# -- export ---------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_member(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = new_member(client, admin, category="resident")
    other = new_member(client, admin, name="Jan", email="jan@example.org")
    path = f"/api/members/{anna['id']}"
    client.post(f"{path}/cards", json={"uid": UID, "label": "blue"}, headers=admin)
    add_membership(client, admin, clock, anna["id"])
    start = clock.now + timedelta(days=1)
    booked = client.post(
        "/api/bookings",
        json={
            "room_id": "sala-a",
            "member_id": other["id"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "attendees": [anna["id"]],
        },
        headers=admin,
    )
    assert booked.status_code == 201, booked.text
    tap(ctx, clock)
    exported = client.get(f"{path}/export", headers=admin)
    assert exported.status_code == 200
    held = exported.json()
    assert set(held) == {
        "member",
        "cards",
        "memberships",
        "bookings",
        "attendances",
        "no_shows",
        "notifications",
        "waitlist",
        "offers",
        "access_events",
        "users",
        "mail",
    }
    assert held["member"]["name"] == "Anna Kowalska"
    assert held["member"]["email"] == "anna@example.org"
    [card] = held["cards"]
    assert card["label"] == "blue" and card["active"] is True
    assert "uid_hash" not in card
    assert card_hash(ctx.card_key, UID.lower()) not in exported.text
    assert [m["plan"] for m in held["memberships"]] == ["coworking"]
    assert held["bookings"] == []
    assert [b["id"] for b in held["attendances"]] == [booked.json()["id"]]
    [event] = held["access_events"]
    assert event["device_id"] == "reader-main" and event["received"].endswith("Z")
    assert "member.export" in actions(ctx)
    assert client.get("/api/members/999/export", headers=admin).status_code == 404


# -- erasure --------------------------------------------------------------------------


def test_erasure_forgets_the_member_and_doors_refuse_the_card(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = new_member(client, admin)  # staff: her card is on the doors' emergency lists too
    path = f"/api/members/{anna['id']}"
    assert client.post(f"{path}/cards", json={"uid": UID}, headers=admin).status_code == 201
    assert tap(ctx, clock).granted
    with ctx.reads() as session:
        assert session.scalar(select(func.count()).select_from(models.EmergencyHash)) > 0
    start = clock.now + timedelta(days=1)
    future = client.post(
        "/api/bookings",
        json={
            "room_id": "sala-a",
            "member_id": anna["id"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    ).json()

    assert client.delete(path, headers=admin).status_code == 204

    hashed = card_hash(ctx.card_key, UID.lower())
    with ctx.writes() as session, session.begin():
        snapshot = ctx.policy.get(session, clock.now)
    outcome = decide(snapshot, "reader-main", hashed, clock.now)
    assert not outcome.granted and outcome.reason == "unknown_card"
    clock.advance(seconds=10)
    assert not tap(ctx, clock).granted
    got = client.get(path, headers=admin).json()
    assert got["name"] == f"#{anna['id']}"
    assert got["email"] is None and got["erased_at"] is not None
    with ctx.reads() as session:
        assert session.scalar(select(func.count()).select_from(models.Card)) == 0
        assert session.scalar(select(func.count()).select_from(models.EmergencyHash)) == 0
        kept = list(session.scalars(select(models.AccessEvent).order_by(models.AccessEvent.id)))
        assert kept[0].member_id == anna["id"] and kept[0].granted
        booking = session.get(models.Booking, future["id"])
        assert booking is not None and booking.status == "cancelled"
        assert "Anna" not in str(client.get(f"{path}/export", headers=admin).json())
    # again: nothing more to do, the same answer, no second entry
    assert client.delete(path, headers=admin).status_code == 204
    assert actions(ctx).count("member.erase") == 1
    assert client.delete("/api/members/999", headers=admin).status_code == 404
    # an erased member takes no new card
    again = client.post(f"{path}/cards", json={"uid": UID}, headers=admin)
    assert again.status_code == 409


def test_erasure_disables_the_members_accounts(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = new_member(client, admin, category="resident")
    with ctx.writes() as session, session.begin():
        user = models.User(
            email="anna@example.org", name="Anna", role="member", member_id=anna["id"]
        )
        session.add(user)
        session.flush()
        session.add(
            models.ApiToken(
                user_id=user.id, name="phone", token_hash="h" * 64, created_at=clock.now
            )
        )
        user_id = user.id
    assert client.delete(f"/api/members/{anna['id']}", headers=admin).status_code == 204
    with ctx.reads() as session:
        user = session.get(models.User, user_id)
        assert user is not None and user.disabled_at == clock.now
        assert "anna" not in user.email and user.name == f"#{anna['id']}"
        [token] = session.scalars(select(models.ApiToken))
        assert token.revoked_at == clock.now


# -- the retention purge --------------------------------------------------------------


def _events(ctx, clock, *, days_ago: list[int]) -> None:  # type: ignore[no-untyped-def]
    with ctx.writes() as session, session.begin():
        for n, days in enumerate(days_ago):
            at = clock.now - timedelta(days=days)
            session.add(
                models.AccessEvent(device_id="reader-main", event_id=f"a{n}", received=at, ts=at)
            )
            session.add(
                models.DeviceEvent(
                    device_id="counter-main",
                    event_id=f"d{n}",
                    kind="count",
                    event="count",
                    ts=at,
                    received=at,
                )
            )


def _count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.reads() as session:
        return session.scalar(select(func.count()).select_from(model))  # type: ignore[no-any-return]


def test_the_scheduler_purges_events_past_the_retention_once_a_day(ctx, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gdpr, "BATCH", 2)  # several batches
    assert ctx.site.privacy.retention_days == 90
    _events(ctx, clock, days_ago=[200, 120, 91, 91, 89, 1])
    scheduler = Scheduler(ctx)
    scheduler.run_once()
    assert _count(ctx, models.AccessEvent) == 2
    assert _count(ctx, models.DeviceEvent) == 2
    with ctx.reads() as session:
        [entry] = session.scalars(
            select(models.AuditEntry).where(models.AuditEntry.action == "data.purge")
        )
    assert entry.detail["access_events"] == 4 and entry.detail["device_events"] == 4
    assert entry.actor == "scheduler"
    # the same day: no second purge; the next day, what has aged past 90 days goes
    clock.advance(hours=1)
    scheduler.run_once()
    assert actions(ctx).count("data.purge") == 1
    clock.advance(days=1, hours=12)
    scheduler.run_once()
    assert _count(ctx, models.AccessEvent) == 1
    assert actions(ctx).count("data.purge") == 2


def test_a_purge_batch_stops_at_its_size(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    _events(ctx, clock, days_ago=[100, 100, 100])
    with ctx.writes() as session, session.begin():
        before = gdpr.cutoff(ctx.site, clock.now)
        counts = gdpr.purge_batch(session, site=ctx.site, before=before, batch=2)
    assert counts == {"access_events": 2, "device_events": 2, "failed_sign_ins": 0}
    assert _count(ctx, models.AccessEvent) == 1


# -- the information notice -----------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("pl", ["Informacja o przetwarzaniu danych", "po 90 dniach", "Nie przechowujemy numerów"]),
        ("en", ["Privacy notice", "after 90 days", "Card numbers are never stored"]),
        ("uk", ["Інформація про обробку даних", "через 90 днів", "Номери карток ніколи"]),
    ],
)
def test_the_privacy_notice_in_each_language(client, lang: str, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/privacy?lang={lang}")  # public: nobody signed in
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    for word in words:
        assert word in page.text
    assert "mailto:iod@piaseczno.example" in page.text


def test_every_page_links_the_notice(client) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/privacy?lang=pl"' in client.get("/").text  # the sign-in page
    token = client.app.state.ctx.settings.admin_token
    client.get(f"/login?token={token}")
    assert 'href="/privacy?lang=pl"' in client.get("/").text
    assert 'href="/privacy?lang=en"' in client.get("/reception/members?lang=en").text


def test_the_daily_purge_forgets_failed_sign_ins_the_limits_no_longer_count(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    with ctx.writes() as session, session.begin():
        for minutes_ago in (60, 16, 1):
            at = clock.now - timedelta(minutes=minutes_ago)
            session.add(models.LoginFailure(email="ewa@example.org", client="10.0.0.1", at=at))
    Scheduler(ctx).run_once()
    assert _count(ctx, models.LoginFailure) == 1  # within the 15 minutes: still counted


def test_failed_sign_ins_keep_their_e_mail_and_address_no_longer_than_the_retention(
    client, ctx, clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from support.signin import make_user

    monkeypatch.setattr(gdpr, "BATCH", 2)  # several batches
    make_user(ctx, "staff", "ewa@example.org")
    for guess in ("wrong password 1", "wrong password 2", "wrong password 3"):
        client.post("/api/auth/login", json={"email": "ewa@example.org", "password": guess})
    client.post("/login", data={"token": "not the token"})
    clock.advance(days=89)
    client.post("/api/auth/login", json={"email": "jan@example.org", "password": "x" * 12})

    def failed():  # type: ignore[no-untyped-def]
        with ctx.reads() as session:
            return [
                (e.ts, e.detail)
                for e in session.scalars(
                    select(models.AuditEntry)
                    .where(models.AuditEntry.action == "auth.sign_in_failed")
                    .order_by(models.AuditEntry.id)
                )
            ]

    kept = failed()
    assert kept[0][1] == {"email": "ewa@example.org", "client": "testclient"}
    scheduler = Scheduler(ctx)
    scheduler.run_once()  # day 89: nothing is past the 90 days yet
    assert failed() == kept
    clock.advance(days=1, hours=1)
    scheduler.run_once()  # day 90: the first four are
    after = failed()
    assert [ts for ts, _ in after] == [ts for ts, _ in kept]  # the entries stay
    assert [detail for _, detail in after] == [None] * 4 + [kept[4][1]]
    with ctx.reads() as session:
        [purge] = session.scalars(
            select(models.AuditEntry.detail).where(models.AuditEntry.action == "data.purge")
        )
    assert purge["failed_sign_ins"] == 4
    assert "ewa@example.org" not in str(
        client.get(
            "/api/audit?limit=1000", headers={"Authorization": f"Bearer {ctx.settings.admin_token}"}
        ).json()
    )

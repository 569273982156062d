"""The reception desk's people pages: members (search, add, edit, guardian, suspend), cards
(by UID, by a tap at a reader through the real tap path, revoke), memberships in local
dates, no-show strikes; bad input is a clear 422 in the reader's language that changes
nothing; every change is audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from protocol.cards import card_hash
from protocol.messages import Tap, new_id
from server.db import models

# The dashboard's script sends this on every change it makes; a plain form post will not
# need it once the session's own CSRF check takes the form's `csrf_token` in its place.
XRW = {"X-Requested-With": "spacehub"}
UID = "04A1B2C3D4E5F6"


@pytest.fixture
def desk(client):  # type: ignore[no-untyped-def]
    """A browser signed in to the dashboard."""
    token = client.app.state.ctx.settings.admin_token
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303
    return client


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found, "the form carries no csrf_token"
    return found.group(1)


def post(desk, path: str, page: str, **fields: str):  # type: ignore[no-untyped-def]
    return desk.post(
        path, data={"csrf_token": csrf(page), **fields}, headers=XRW, follow_redirects=False
    )


def audit_actions(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    """What the desk did (its signing in aside)."""
    entries = models.AuditEntry
    with ctx.reads() as session:
        stmt = select(entries.action).where(entries.action != "auth.sign_in").order_by(entries.id)
        return list(session.scalars(stmt))


def add_member(desk, name: str = "Anna Kowalska", **fields: str) -> int:  # type: ignore[no-untyped-def]
    page = desk.get("/reception/members").text
    values = {"name": name, "email": "anna@example.org", "category": "resident", "lang": "pl"}
    done = post(desk, "/reception/members", page, **{**values, **fields})
    assert done.status_code == 303, done.text
    return int(done.headers["location"].split("/")[-1].split("?")[0])


def member_row(ctx, member_id: int) -> models.Member:  # type: ignore[no-untyped-def]
    with ctx.reads() as session:
        member = session.get(models.Member, member_id)
        assert member is not None
        session.expunge(member)
        return member


# -- members --------------------------------------------------------------------------


def test_the_members_page_needs_staff(client) -> None:  # type: ignore[no-untyped-def]
    signed_out = client.get("/reception/members", follow_redirects=False)  # to the sign-in page
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/")


def test_add_then_search_by_name_and_email(desk, ctx) -> None:  # type: ignore[no-untyped-def]
    anna = add_member(desk)
    add_member(desk, name="Jan Nowak", email="jan@ngo.pl", category="ngo")
    page = desk.get(f"/reception/members/{anna}")
    assert page.status_code == 200
    assert "Anna Kowalska" in page.text
    found = desk.get("/reception/members?q=kowal").text
    assert "Anna Kowalska" in found and "Jan Nowak" not in found
    found = desk.get("/reception/members?q=NGO.PL").text
    assert "Jan Nowak" in found and "Anna Kowalska" not in found
    assert audit_actions(ctx) == ["member.create", "member.create"]


def test_edit_a_member(desk, ctx) -> None:  # type: ignore[no-untyped-def]
    anna = add_member(desk)
    page = desk.get(f"/reception/members/{anna}").text
    values = {"name": "Anna Nowak", "email": "", "category": "ngo", "lang": "uk"}
    assert post(desk, f"/reception/members/{anna}", page, **values).status_code == 303
    member = member_row(ctx, anna)
    assert (member.name, member.email, member.category, member.lang) == (
        "Anna Nowak",
        None,
        "ngo",
        "uk",
    )
    assert audit_actions(ctx)[-1] == "member.update"


def test_a_minor_needs_a_guardian_and_a_bad_form_changes_nothing(desk, ctx) -> None:  # type: ignore[no-untyped-def]
    page = desk.get("/reception/members?lang=en").text
    refused = post(
        desk, "/reception/members?lang=en", page, name="Ola", category="resident", minor="on"
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert "needs the guardian" in refused.text
    with ctx.reads() as session:
        assert session.scalars(select(models.Member)).first() is None
    ola = add_member(
        desk,
        name="Ola",
        minor="on",
        guardian_name="Maria Kowalska",
        guardian_consent_at="2026-02-27",
    )
    member = member_row(ctx, ola)
    assert member.minor and member.guardian_name == "Maria Kowalska"
    # local midnight in Warsaw (UTC+1 in February)
    assert member.guardian_consent_at == datetime(2026, 2, 26, 23, 0, tzinfo=UTC)


def test_errors_in_the_readers_language(desk) -> None:  # type: ignore[no-untyped-def]
    page = desk.get("/reception/members?lang=pl").text
    refused = post(desk, "/reception/members?lang=pl", page, name="Ola", category="x")
    assert refused.status_code == 422
    assert "Wybierz kategorię." in refused.text
    refused = post(
        desk, "/reception/members?lang=uk", page, name="Ola", category="ngo", email="nope"
    )
    assert "Введіть правильну адресу e-mail" in refused.text


def test_suspend_through_a_local_day_and_lift_it(desk, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = add_member(desk)
    page = desk.get(f"/reception/members/{anna}").text
    assert post(desk, f"/reception/members/{anna}/suspend", page, until="2026-03-05").is_redirect
    # through 5 March: until midnight at the start of the 6th, Warsaw time
    assert member_row(ctx, anna).suspended_until == datetime(2026, 3, 5, 23, 0, tzinfo=UTC)
    shown = desk.get(f"/reception/members/{anna}?lang=en").text
    assert "Suspended through 2026-03-05" in shown
    bad = post(desk, f"/reception/members/{anna}/suspend", page, until="5.3.2026")
    assert bad.status_code == 422
    assert member_row(ctx, anna).suspended_until is not None
    assert post(desk, f"/reception/members/{anna}/unsuspend", page).is_redirect
    assert member_row(ctx, anna).suspended_until is None
    assert audit_actions(ctx)[-2:] == ["member.suspend", "member.suspend"]
    with ctx.reads() as session:
        last = session.scalars(
            select(models.AuditEntry).order_by(models.AuditEntry.id.desc())
        ).first()
    assert last is not None and last.target == str(anna)
    assert last.detail == {"fields": ["suspended_until"], "suspended_until": None}


def test_a_form_without_the_csrf_token_is_refused(desk, ctx) -> None:  # type: ignore[no-untyped-def]
    for token in ("", "0" * 32):
        refused = desk.post(
            "/reception/members",
            data={"csrf_token": token, "name": "Eve", "category": "resident"},
            headers=XRW,
        )
        assert refused.status_code == 403
    with ctx.reads() as session:
        assert session.scalars(select(models.Member)).first() is None


# -- cards ----------------------------------------------------------------------------


def test_a_card_by_its_uid_opens_the_door_and_a_revoked_one_does_not(desk, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    staff = add_member(desk, category="staff")
    page = desk.get(f"/reception/members/{staff}").text
    bad = post(desk, f"/reception/members/{staff}/cards", page, uid="xyz")
    assert bad.status_code == 422 and "Numer karty to od 8 do 20" in bad.text
    assert post(desk, f"/reception/members/{staff}/cards", page, uid=UID, label="blue").is_redirect
    assert tap(ctx, clock, "reader-main", UID).granted
    again = post(desk, f"/reception/members/{staff}/cards", page, uid=UID)
    assert again.status_code == 422 or again.status_code == 409
    shown = desk.get(f"/reception/members/{staff}").text
    card_id = re.search(r"/reception/cards/(\d+)/revoke", shown).group(1)  # type: ignore[union-attr]
    assert post(desk, f"/reception/cards/{card_id}/revoke", shown).is_redirect
    clock.advance(seconds=10)
    assert not tap(ctx, clock, "reader-main", UID).granted
    assert [a for a in audit_actions(ctx) if a.startswith("card.")] == [
        "card.create",
        "card.revoke",
    ]


def tap(ctx, clock, device: str, uid: str):  # type: ignore[no-untyped-def]
    """A tap through the door path's service (as its MQTT ingest hands it over)."""
    answers: list = []  # type: ignore[type-arg]
    ctx.access.handle_tap(device, Tap(id=new_id(), ts=clock.now, card=uid), answers.append)
    assert len(answers) == 1
    return answers[0]


def test_a_card_tapped_at_a_reader_is_offered_and_enrolled(desk, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    staff = add_member(desk, category="staff")
    opened = desk.get(f"/reception/members/{staff}/cards/tap?device=reader-sala-a&lang=en")
    assert opened.status_code == 200
    poll = re.search(r'data-poll="([^"]+)"', opened.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    assert "Waiting for a new card" in desk.get(poll).text
    clock.advance(seconds=2)
    assert tap(ctx, clock, "reader-main", UID).reason == "unknown_card"  # another reader
    assert "Waiting for a new card" in desk.get(poll).text
    assert tap(ctx, clock, "reader-sala-a", UID).reason == "unknown_card"
    offered = desk.get(poll).text
    assert "Card tapped at Sala warsztatowa A at 10:00:02: add it for Anna Kowalska?" in offered
    assert UID not in offered and UID.lower() not in offered  # only the keyed hash
    card = re.search(r'name="card" value="([0-9a-f]+)"', offered).group(1)  # type: ignore[union-attr]
    assert card == card_hash(ctx.card_key, UID.lower())
    enrolled = post(
        desk,
        f"/reception/members/{staff}/cards/tapped",
        offered,
        device="reader-sala-a",
        card=card,
        label="tapped",
    )
    assert enrolled.status_code == 303
    clock.advance(seconds=10)
    assert tap(ctx, clock, "reader-main", UID).granted
    # once enrolled, it is offered no more
    assert "Waiting for a new card" in desk.get(poll).text
    with ctx.reads() as session:
        [entry] = session.scalars(
            select(models.AuditEntry).where(models.AuditEntry.action == "card.create")
        )
        assert entry.detail == {"member_id": staff, "by": "tap"}


def test_a_card_never_tapped_there_is_not_enrolled(desk, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = add_member(desk)
    page = desk.get(f"/reception/members/{anna}").text
    made_up = card_hash(ctx.card_key, UID.lower())
    refused = post(
        desk, f"/reception/members/{anna}/cards/tapped", page, device="reader-main", card=made_up
    )
    assert refused.status_code == 422
    with ctx.reads() as session:
        assert session.scalars(select(models.Card)).first() is None


def test_a_tap_before_the_page_was_opened_is_not_offered(desk, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = add_member(desk)
    tap(ctx, clock, "reader-main", UID)
    clock.advance(seconds=1)
    page = desk.get(f"/reception/members/{anna}/cards/tap?device=reader-main&lang=en").text
    assert "Waiting for a new card" in page


# -- memberships and strikes ----------------------------------------------------------


def test_a_membership_in_local_dates(desk, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = add_member(desk)
    page = desk.get(f"/reception/members/{anna}").text
    add = f"/reception/members/{anna}/memberships?lang=en"
    refusals = [
        ("coworking", "2026-03-10", "2026-03-01", "cannot be before the first day"),
        ("gold", "2026-03-01", "2026-03-31", "Choose one of the site"),
        ("coworking", "2026-03-01", "31.03.2026", "Enter a date as YYYY-MM-DD"),
    ]
    for plan, first, last, why in refusals:
        bad = post(desk, add, page, plan=plan, **{"from": first, "until": last})
        assert bad.status_code == 422 and why in bad.text
    with ctx.reads() as session:
        assert session.scalars(select(models.Membership)).first() is None
    added = post(desk, add, page, plan="coworking", **{"from": "2026-03-01", "until": "2026-03-31"})
    assert added.is_redirect
    with ctx.reads() as session:
        [ms] = session.scalars(select(models.Membership))
        # Warsaw: UTC+1 on 1 March, UTC+2 from 29 March
        assert ms.valid_from == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
        assert ms.valid_until == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
        ms_id = ms.id
    shown = desk.get(f"/reception/members/{anna}").text
    assert 'value="2026-03-01"' in shown and 'value="2026-03-31"' in shown
    changed = post(
        desk,
        f"/reception/memberships/{ms_id}",
        shown,
        plan="coworking-24h",
        **{"from": "2026-03-02", "until": "2026-04-30"},
    )
    assert changed.is_redirect
    with ctx.reads() as session:
        ms = session.get(models.Membership, ms_id)
        assert ms is not None and ms.plan == "coworking-24h"
    assert post(desk, f"/reception/memberships/{ms_id}/delete", shown).is_redirect
    with ctx.reads() as session:
        assert session.get(models.Membership, ms_id) is None
    assert [a for a in audit_actions(ctx) if a.startswith("membership.")] == [
        "membership.create",
        "membership.update",
        "membership.delete",
    ]


def test_remove_a_strike_and_lift_a_booking_suspension(desk, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    anna = add_member(desk)
    with ctx.writes() as session, session.begin():
        booking = models.Booking(
            room_id="sala-a",
            member_id=anna,
            start=clock.now - timedelta(hours=2),
            end=clock.now - timedelta(hours=1),
            status="released",
        )
        session.add(booking)
        session.flush()
        strike = models.NoShow(booking_id=booking.id, member_id=anna, at=clock.now)
        session.add(strike)
        member = session.get(models.Member, anna)
        assert member is not None
        member.booking_suspended_until = clock.now + timedelta(days=14)
        session.flush()
        strike_id = strike.id
    page = desk.get(f"/reception/members/{anna}?lang=en").text
    assert "Remove the no-show" in page
    assert post(desk, f"/reception/no-shows/{strike_id}/remove", page).is_redirect
    with ctx.reads() as session:
        gone = session.get(models.NoShow, strike_id)
        assert gone is not None and gone.removed_at == clock.now
    assert post(desk, f"/reception/members/{anna}/lift-booking-suspension", page).is_redirect
    assert member_row(ctx, anna).booking_suspended_until is None
    assert audit_actions(ctx)[-2:] == ["noshow.remove", "member.update"]
    assert desk.get("/reception/no-shows/999/remove").status_code == 405
    missing = post(desk, "/reception/no-shows/999/remove", page)
    assert missing.status_code == 404

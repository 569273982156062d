"""`GET /metrics`: Prometheus' text format for staff and for the scraper's own token, and
figures that follow the database and what the edges count."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.factories import add_booking, add_member
from support.signin import bearer_of, make_user

from protocol.messages import Decision, new_id
from server.adapters.dead_letters import DeadLetterBox
from server.adapters.inbox import Inbox
from server.adapters.rejections import Rejections
from server.adapters.sensor_ingest import SensorCounters
from server.notify import outbox

SCRAPER = "prometheus-scraper-token-0123456789"


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"metrics_token": SCRAPER})


def scrape(client, headers) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:  # type: ignore[no-untyped-def]
    """Each metric family's samples, by their labels."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_staff_and_the_scraper_read_it_others_do_not(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    scrape(client, admin)
    scrape(client, {"Authorization": f"Bearer {SCRAPER}"})
    staff = make_user(ctx, "staff", "recepcja@example.org")
    scrape(client, bearer_of(ctx, staff.id))
    member = make_user(ctx, "member", "ala@example.org", category="resident")
    assert client.get("/metrics", headers=bearer_of(ctx, member.id)).status_code == 403
    assert client.get("/metrics").status_code == 401
    wrong = {"Authorization": f"Bearer {SCRAPER[:-1]}x"}
    assert client.get("/metrics", headers=wrong).status_code == 401


def test_devices_and_the_mail_queue_are_read_from_the_database(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    with ctx.writes() as session, session.begin():
        for to in ("a@example.org", "b@example.org"):
            outbox.queue(session, to=to, kind="sign_in", lang="pl", subject="s", body="b",
                         member_id=None, now=ctx.clock())  # fmt: skip
    found = scrape(client, admin)
    assert found["spacehub_mail"][(("state", "pending"),)] == 2
    assert found["spacehub_mail"][(("state", "failed"),)] == 0
    doors = len([d for d in ctx.site.devices if d.kind == "door"])
    assert found["spacehub_devices"][(("kind", "door"),)] == doors
    assert found["spacehub_devices_online"][(("kind", "door"),)] == 0  # none heard from


def test_the_release_lag_is_how_long_the_oldest_no_show_has_waited(
    client, ctx, clock, admin
) -> None:  # type: ignore[no-untyped-def]
    assert scrape(client, admin)["spacehub_release_lag_seconds"][()] == 0
    member = add_member(ctx)
    start = clock.now + timedelta(hours=1)
    add_booking(ctx, member, start, start + timedelta(hours=1), room_id="sala-a")
    clock.advance(hours=1, minutes=15)  # the grace has just ended: due, not yet late
    assert scrape(client, admin)["spacehub_release_lag_seconds"][()] == 0
    clock.advance(seconds=42)  # no sweep ran
    assert scrape(client, admin)["spacehub_release_lag_seconds"][()] == 42


def test_decisions_and_tap_latency_are_counted_as_the_edges_report_them(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    sent: list[Decision] = []
    send = ctx.metrics.timed(sent.append, since=time.monotonic() - 0.004)
    send(Decision(id=new_id(), granted=True, reason="booking", by="server"))
    send(Decision(id=new_id(), granted=True, reason="booking", by="server"))
    gateway = Decision(id=new_id(), granted=False, reason="no_booking", by="gateway")
    ctx.metrics.decided(gateway, seconds=None)
    assert len(sent) == 2  # sent as they were, counted on the way
    found = scrape(client, admin)
    decisions = found["spacehub_decisions_total"]
    assert decisions[(("by", "server"), ("granted", "true"), ("reason", "booking"))] == 2
    assert decisions[(("by", "gateway"), ("granted", "false"), ("reason", "no_booking"))] == 1
    assert found["spacehub_tap_latency_seconds_count"][()] == 2
    assert found["spacehub_tap_latency_seconds_bucket"][(("le", "0.0025"),)] == 0
    assert found["spacehub_tap_latency_seconds_bucket"][(("le", "5.0"),)] == 2
    taps = found["spacehub_messages_total"]
    assert taps[(("kind", "tap"), ("lane", "door"), ("outcome", "answered"))] == 0


def test_the_ingest_lag_is_the_age_of_the_oldest_sensor_event_not_yet_recorded(ctx) -> None:  # type: ignore[no-untyped-def]
    """The sensors' consumer as /metrics reads it: its counters, its refusals and its
    inbox, on a moved clock."""
    now = [100.0]
    sensors = SimpleNamespace(
        counters=SensorCounters(),
        rejections=Rejections("sensors"),
        inbox=Inbox(
            "sensors",
            lambda letter: None,
            ack=lambda msg: None,
            store=DeadLetterBox(ctx.writes, ctx.card_key),
            clock=lambda: now[0],
        ),
    )

    def lag() -> float:
        text = ctx.metrics.exposition(ctx, sensors=sensors).decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        return families["spacehub_ingest_lag_seconds"].samples[0].value

    assert lag() == 0
    letter = sensors.inbox.open(None, "hub/piaseczno/dev/pir-sala-a/evt/motion", b"{}")
    now[0] += 7.5
    assert lag() == 7.5
    sensors.inbox.settle(letter, None)
    assert lag() == 0

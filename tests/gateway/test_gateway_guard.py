"""No message stops the gateway or changes what it believes: junk on every topic it hears is
counted per device and reason and dropped; only a valid `offline` status (or silence) makes
it take over from a server replica."""

from __future__ import annotations

import json
import logging

import pytest
from gatewire import CARDS, MONDAY_NOON, SITE, Ticker, message, wait_for

from gateway.gateway import Gateway
from gateway.rejects import Rejected, Rejects
from gateway.takeover import MAX_REPLICAS
from protocol import topics
from protocol.messages import Decision, PolicyNotice, Status, Tap, encode, new_id, utcnow

STATUS = topics.server_status(SITE, "main")


def _status(**fields: object) -> bytes:
    """A server Status as JSON, with `fields` replacing (or, None, removing) its values."""
    data = {"v": 1, "state": "online", "kind": "server", "ts": "2026-11-30T11:00:00Z"}
    data |= {"interval_s": 10}
    data |= fields
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


# Status payloads that must change nothing, with the reason each is counted under.
BAD_STATUSES = [
    (b"{not json", "invalid"),
    (b"[]", "invalid"),
    (
        b'{"v":1,"state":"offline","kind":"server","ts":"2026-11-30T11:00:00Z","interval_s":NaN}',
        "invalid",
    ),
    (_status(state="offline", interval_s=1e300), "invalid"),
    (_status(state="offline", interval_s=0), "invalid"),
    (_status(state="offline", interval_s=-10), "invalid"),
    (_status(state="offline", ts=None), "invalid"),
    (_status(state="asleep"), "invalid"),
    (_status(state="offline", ts="2026-11-30T12:00:00+01:00"), "invalid"),
    (_status(state="offline", kind="door"), "wrong_kind"),
    (_status(state="offline", kind="gateway"), "wrong_kind"),
    (b"x" * 5000, "invalid"),
]


def _valid_tap(card: str = CARDS["staff"]) -> bytes:
    return encode(Tap(id=new_id(), ts=utcnow(), card=card))


def _valid_decision() -> bytes:
    return encode(Decision(id=new_id(), granted=True, reason="staff", by="server"))


def _tap_json(**fields: object) -> bytes:
    data = {"v": 1, "id": new_id(), "ts": "2026-11-30T11:00:00Z", "card": CARDS["staff"]}
    return json.dumps(data | fields).encode()


def _junk() -> list[tuple[str, bytes, tuple[str, str]]]:
    """(topic, payload, (device, reason) it is counted under) on every topic the gateway
    subscribes to."""
    tap, decision = topics.tap(SITE, "reader-main"), topics.decision(SITE, "reader-main")
    policy = topics.policy(SITE)
    return [
        (f"hub/{SITE}/dev/BAD/evt/tap", _valid_tap(), ("BAD", "bad_topic")),
        (f"hub/{SITE}/dev/{'x' * 65}/evt/tap", _valid_tap(), ("x" * 64, "bad_topic")),
        (tap, b"not json", ("reader-main", "invalid")),
        (tap, b"\xff\xfe{}", ("reader-main", "invalid")),
        (tap, b"[" * 4000, ("reader-main", "invalid")),
        (tap, _tap_json(card="XYZ"), ("reader-main", "invalid")),
        (tap, _tap_json(seq=0), ("reader-main", "invalid")),
        (tap, _tap_json(seq=1e300), ("reader-main", "invalid")),
        (tap, _tap_json(id="a" * 65), ("reader-main", "invalid")),
        (topics.tap(SITE, "reader-ghost"), _valid_tap(), ("reader-ghost", "unknown_device")),
        (f"hub/{SITE}/dev/BAD/cmd/decision", _valid_decision(), ("BAD", "bad_topic")),
        (decision, b"{", ("reader-main", "invalid")),
        (
            decision,
            b'{"v":1,"id":"a","granted":true,"reason":"staff","unlock_s":1e300}',
            ("reader-main", "invalid"),
        ),
        (
            topics.decision(SITE, "reader-ghost"),
            _valid_decision(),
            ("reader-ghost", "unknown_device"),
        ),
        (f"hub/{SITE}/sys/server/BAD/status", _status(), ("server/BAD", "bad_topic")),
        *[(STATUS, payload, ("server/main", reason)) for payload, reason in BAD_STATUSES],
        (policy, b"garbage", ("policy", "invalid")),
        (policy, b'{"v":1,"epoch":"e","n":-1,"ts":"2026-11-30T11:00:00Z"}', ("policy", "invalid")),
    ]


def _expected(junk: list[tuple[str, bytes, tuple[str, str]]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for _, _, key in junk:
        counts[key] = counts.get(key, 0) + 1
    return counts


def _feed(gw: Gateway, topic: str, payload: bytes, *, retain: bool = False) -> None:
    """Hand a message to the gateway's handler for its topic, as its MQTT client would."""
    handlers = {
        "tap": gw.on_tap,
        "decision": gw.on_decision,
        "server": gw.on_server_status,
        "policy": gw.on_notice,
    }
    kind = "server" if "/sys/server/" in topic else topic.rsplit("/", 1)[-1]
    handlers[kind](message(topic, payload, retain=retain))


# -- Rejects ----------------------------------------------------------------------------


def test_each_device_is_logged_at_most_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    ticker = Ticker()
    rejects = Rejects(clock=ticker)
    caplog.set_level(logging.WARNING, logger="gateway.rejects")
    logged = [rejects.count("BAD", "bad_topic", "x") for _ in range(100)]
    logged.append(rejects.count("reader-main", "invalid", "y"))
    ticker.advance(59)
    logged.append(rejects.count("BAD", "invalid", "z"))
    ticker.advance(1)
    logged.append(rejects.count("BAD", "invalid", "z"))
    assert logged == [True] + [False] * 99 + [True, False, True]
    assert len(caplog.records) == 3
    assert "100 more since the last report" in caplog.records[-1].getMessage()
    assert rejects.counts() == {
        ("BAD", "bad_topic"): 100,
        ("BAD", "invalid"): 2,
        ("reader-main", "invalid"): 1,
    }
    assert (rejects.total(), rejects.total("invalid")) == (103, 3)


def test_junk_naming_ever_new_devices_keeps_its_memory_bounded() -> None:
    rejects = Rejects(clock=Ticker(), max_devices=10)
    for i in range(50):
        rejects.count(f"d{i}", "bad_topic", "x")
    counts = rejects.counts()
    assert len(counts) == 11
    assert counts[("*others*", "bad_topic")] == 40


def test_the_guard_counts_what_a_handler_raises_and_never_raises() -> None:
    rejects = Rejects(clock=Ticker())

    def handler(topic: topics.Topic, msg: object) -> None:
        if topic.device == "reader-a":
            raise Rejected("unknown_device", "not a door")
        raise KeyError("a bug")

    guarded = rejects.guard(handler)
    guarded(message(topics.tap(SITE, "reader-a"), b"{}"))
    guarded(message(topics.tap(SITE, "reader-b"), b"{}"))
    guarded(message("hub/x/dev/Q/evt/tap", b"{}"))
    guarded(message("elsewhere", b"{}"))
    bad_utf8 = message("", b"{}")
    bad_utf8.topic = b"hub/x/dev/\xff/evt/tap"  # type: ignore[assignment]
    guarded(bad_utf8)
    assert rejects.counts() == {
        ("reader-a", "unknown_device"): 1,
        ("reader-b", "failed"): 1,
        ("Q", "bad_topic"): 1,
        ("?", "bad_topic"): 1,
        ("\ufffd", "bad_topic"): 1,
    }


# -- handlers fed directly --------------------------------------------------------------


def test_junk_on_every_topic_is_counted_and_changes_nothing(idle_gateway: Gateway) -> None:
    gw = idle_gateway
    _feed(gw, STATUS, _status())
    junk = _junk()
    for topic, payload, _ in junk:
        _feed(gw, topic, payload)
    assert gw.rejects.counts() == _expected(junk)
    assert gw.server_online()
    assert (len(gw.pending), gw.counters.decisions) == (0, 0)  # no tap waits to be answered


@pytest.mark.parametrize(("payload", "reason"), BAD_STATUSES)
def test_a_malformed_status_after_an_online_one_is_ignored(
    idle_gateway: Gateway, payload: bytes, reason: str
) -> None:
    gw = idle_gateway
    _feed(gw, STATUS, _status())
    _feed(gw, STATUS, payload, retain=True)
    assert gw.server_online()
    assert gw.rejects.counts() == {("server/main", reason): 1}


def test_a_malformed_status_of_an_unknown_replica_creates_none(idle_gateway: Gateway) -> None:
    gw = idle_gateway
    _feed(gw, topics.server_status(SITE, "b"), _status(kind="door"))
    _feed(gw, topics.server_status(SITE, "b"), _status(interval_s=1e300))
    assert not gw.server_online()


def test_a_valid_offline_status_or_an_emptied_topic_takes_a_replica_away(
    idle_gateway: Gateway,
) -> None:
    gw = idle_gateway
    _feed(gw, STATUS, _status())
    _feed(gw, STATUS, _status(state="offline"))
    assert not gw.server_online()
    _feed(gw, STATUS, _status())
    assert gw.server_online()
    _feed(gw, STATUS, b"", retain=True)
    assert not gw.server_online()
    assert gw.rejects.total() == 0


def test_a_retained_status_counts_its_age_from_its_own_time(idle_gateway: Gateway) -> None:
    gw = idle_gateway
    long_ago = _status(ts="2020-01-01T00:00:00Z")
    _feed(gw, STATUS, long_ago, retain=True)  # a replica that died with the broker
    assert not gw.server_online()
    _feed(gw, STATUS, _status(ts=utcnow().isoformat().replace("+00:00", "Z")), retain=True)
    assert gw.server_online()


# -- through a broker -------------------------------------------------------------------


def test_junk_on_every_topic_then_a_tap_is_still_answered(system, make_gateway) -> None:
    gw = make_gateway()  # no server replica: it answers at once
    wire = system.doors.client
    junk = _junk()
    for topic, payload, _ in junk:
        wire.publish(topic, payload).wait_for_publish(5)
    wait_for(lambda: gw.rejects.total() == len(junk))
    assert gw.rejects.counts() == _expected(junk)

    tap, _ = system.doors.tap("reader-main", CARDS["staff"])
    decision = system.doors.first(tap).decision
    assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "staff")


def test_a_malformed_status_does_not_make_the_gateway_answer(system, make_gateway) -> None:
    wire = system.doors.client
    online = Status(state="online", kind="server", ts=utcnow(), interval_s=10)
    wire.publish(STATUS, online, retain=True).wait_for_publish(5)
    gw = make_gateway(takeover=60.0)  # it would answer only after a minute
    wait_for(gw.server_online)
    for payload, _ in BAD_STATUSES:
        wire.publish(STATUS, payload, retain=True).wait_for_publish(5)
    wait_for(lambda: gw.rejects.total() == len(BAD_STATUSES))
    assert gw.server_online()

    # The server still answers: the gateway holds the tap, and lets the answer stand.
    tap, _ = system.doors.tap("reader-main", CARDS["coworker"])
    wait_for(lambda: gw.counters.taps == 1)
    answer = Decision(id=tap.id, granted=True, reason="membership", by="server")
    wire.publish(topics.decision(SITE, "reader-main"), answer).wait_for_publish(5)
    wait_for(lambda: gw.counters.left_to_server == 1)
    assert gw.counters.answered == 0
    # the door's own subscription may hear the answer after the gateway did
    assert system.doors.first(tap, timeout=5).decision.by == "server"
    assert [h.decision.by for h in system.doors.all(tap)] == ["server"]

    # A valid offline status: now it answers at once.
    offline = Status(state="offline", kind="server", ts=utcnow(), interval_s=10)
    wire.publish(STATUS, offline, retain=True).wait_for_publish(5)
    wait_for(lambda: not gw.server_online())
    tap, _ = system.doors.tap("reader-main", CARDS["coworker"])
    assert system.doors.first(tap, timeout=5).decision.by == "gateway"


def test_a_notice_cleared_or_valid_is_no_rejection(idle_gateway: Gateway) -> None:
    gw = idle_gateway
    notice = PolicyNotice(epoch="other", n=1, ts=MONDAY_NOON)
    _feed(gw, topics.policy(SITE), b"", retain=True)
    _feed(gw, topics.policy(SITE), encode(notice))
    assert gw.rejects.total() == 0


def test_statuses_naming_ever_new_replicas_keep_memory_bounded(idle_gateway: Gateway) -> None:
    gw = idle_gateway
    for i in range(MAX_REPLICAS + 5):
        _feed(gw, topics.server_status(SITE, f"r{i}"), _status(state="offline"))
    assert gw.rejects.total("too_many_replicas") == 5
    _feed(gw, topics.server_status(SITE, "r0"), _status())  # a known one is still heard
    assert gw.server_online()

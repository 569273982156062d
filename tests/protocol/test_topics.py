"""Topics of docs/protocol.md v1: builders, id validation, parse, filters, shared subscriptions."""

from __future__ import annotations

import pytest
from paho.mqtt.client import topic_matches_sub

from protocol import topics
from protocol.topics import Topic, TopicError

SITE, DEV = "piaseczno", "reader-main"

# Every row of docs/protocol.md's topic table: builder output, the literal topic, and its parse.
TABLE = [
    (topics.status(SITE, DEV), "hub/piaseczno/dev/reader-main/status",
     Topic(SITE, DEV, "status", "status")),
    (topics.tap(SITE, DEV), "hub/piaseczno/dev/reader-main/evt/tap",
     Topic(SITE, DEV, "evt", "tap")),
    (topics.result(SITE, DEV), "hub/piaseczno/dev/reader-main/evt/result",
     Topic(SITE, DEV, "evt", "result")),
    (topics.door_event(SITE, DEV), "hub/piaseczno/dev/reader-main/evt/door",
     Topic(SITE, DEV, "evt", "door")),
    (topics.motion(SITE, DEV), "hub/piaseczno/dev/reader-main/evt/motion",
     Topic(SITE, DEV, "evt", "motion")),
    (topics.count(SITE, DEV), "hub/piaseczno/dev/reader-main/evt/count",
     Topic(SITE, DEV, "evt", "count")),
    (topics.decision(SITE, DEV), "hub/piaseczno/dev/reader-main/cmd/decision",
     Topic(SITE, DEV, "cmd", "decision")),
    (topics.door_command(SITE, DEV), "hub/piaseczno/dev/reader-main/cmd/door",
     Topic(SITE, DEV, "cmd", "door")),
    (topics.mode(SITE, DEV), "hub/piaseczno/dev/reader-main/cmd/mode",
     Topic(SITE, DEV, "cmd", "mode")),
    (topics.emergency(SITE, DEV), "hub/piaseczno/dev/reader-main/cmd/emergency",
     Topic(SITE, DEV, "cmd", "emergency")),
    (topics.server_status(SITE, "srv-1"), "hub/piaseczno/sys/server/srv-1/status",
     Topic(SITE, None, "sys", "server", "srv-1")),
    (topics.gateway_status(SITE, "gw_0"), "hub/piaseczno/sys/gateway/gw_0/status",
     Topic(SITE, None, "sys", "gateway", "gw_0")),
    (topics.policy(SITE), "hub/piaseczno/sys/policy", Topic(SITE, None, "sys", "policy")),
]  # fmt: skip
BUILT = [row[0] for row in TABLE]


@pytest.mark.parametrize(("built", "expected", "_parsed"), TABLE, ids=[r[1] for r in TABLE])
def test_builder_writes_the_topic_of_the_table(built: str, expected: str, _parsed: Topic) -> None:
    assert built == expected


@pytest.mark.parametrize(("built", "_expected", "parsed"), TABLE, ids=[r[1] for r in TABLE])
def test_parse_round_trips_every_builder(built: str, _expected: str, parsed: Topic) -> None:
    assert topics.parse(built) == parsed


def test_generic_builders_agree_with_the_named_ones() -> None:
    for kind in topics.EVENT_KINDS:
        assert topics.parse(topics.event(SITE, DEV, kind)) == Topic(SITE, DEV, "evt", kind)
    for kind in topics.COMMAND_KINDS:
        assert topics.parse(topics.command(SITE, DEV, kind)) == Topic(SITE, DEV, "cmd", kind)


@pytest.mark.parametrize("kind", ["status", "decision", "", "tap/x"])
def test_event_rejects_unknown_kind(kind: str) -> None:
    with pytest.raises(TopicError):
        topics.event(SITE, DEV, kind)
    with pytest.raises(TopicError):
        topics.all_events(SITE, kind)


@pytest.mark.parametrize("kind", ["tap", "status", "", "unlock"])
def test_command_rejects_unknown_kind(kind: str) -> None:
    with pytest.raises(TopicError):
        topics.command(SITE, DEV, kind)
    with pytest.raises(TopicError):
        topics.all_commands(SITE, kind)


# -- ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("good", ["a", "0", "reader-main", "sala_a", "x" * 64, "a-b_c-9"])
def test_check_id_accepts(good: str) -> None:
    assert topics.check_id(good) == good
    assert topics.tap(good, good) == f"hub/{good}/dev/{good}/evt/tap"


BAD_IDS = [
    "",
    "x" * 65,
    "Reader",
    "READER-MAIN",
    "reader/main",
    "reader+main",
    "+",
    "#",
    "reader main",
    "reader.main",
    "zażółć",
    "main\n",  # "$" in a regex matches before a trailing newline; the id must still fail
    "\nmain",
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_check_id_rejects(bad: str) -> None:
    with pytest.raises(TopicError):
        topics.check_id(bad)


def test_check_id_rejects_non_strings() -> None:
    with pytest.raises(TopicError):
        topics.check_id(5)  # type: ignore[arg-type]
    with pytest.raises(TopicError):
        topics.check_id(None)  # type: ignore[arg-type]


def test_check_id_names_what_was_wrong() -> None:
    with pytest.raises(TopicError, match="device"):
        topics.tap(SITE, "Reader")
    with pytest.raises(TopicError, match="site"):
        topics.tap("Site", DEV)


def test_topic_error_is_a_value_error() -> None:
    assert issubclass(TopicError, ValueError)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_every_builder_validates_its_ids(bad: str) -> None:
    device_builders = [
        topics.status, topics.tap, topics.result, topics.door_event, topics.motion,
        topics.count, topics.decision, topics.door_command, topics.mode, topics.emergency,
        topics.device_commands,
    ]  # fmt: skip
    for build in device_builders:
        with pytest.raises(TopicError):
            build(bad, DEV)
        with pytest.raises(TopicError):
            build(SITE, bad)
    for build in (topics.server_status, topics.gateway_status):
        with pytest.raises(TopicError):
            build(bad, "srv-1")
        with pytest.raises(TopicError):
            build(SITE, bad)
    site_builders = [
        topics.policy, topics.all_device_status, topics.all_server_status,
        topics.all_gateway_status,
    ]  # fmt: skip
    for build in site_builders:
        with pytest.raises(TopicError):
            build(bad)


# -- parse ---------------------------------------------------------------------------------

JUNK = [
    "",
    "hub",
    "hub/piaseczno",
    "hub/piaseczno/dev",
    "hub/piaseczno/dev/reader-main",
    "/hub/piaseczno/dev/reader-main/status",
    "hub/piaseczno/dev/reader-main/status/",
    "HUB/piaseczno/dev/reader-main/status",
    "other/piaseczno/dev/reader-main/status",
    "hub/Piaseczno/dev/reader-main/status",
    "hub//dev/reader-main/status",
    "hub/piaseczno/dev//status",
    "hub/piaseczno/dev/Reader/status",
    "hub/piaseczno/dev/+/evt/tap",
    "hub/piaseczno/dev/#",
    "hub/piaseczno/dev/reader-main/evt/unknown",
    "hub/piaseczno/dev/reader-main/evt/decision",
    "hub/piaseczno/dev/reader-main/cmd/tap",
    "hub/piaseczno/dev/reader-main/cmd/+",
    "hub/piaseczno/dev/reader-main/evt/tap/extra",
    "hub/piaseczno/dev/reader-main/evt",
    "hub/piaseczno/sys",
    "hub/piaseczno/sys/policy/extra",
    "hub/piaseczno/sys/server/status",
    "hub/piaseczno/sys/server/srv-1",
    "hub/piaseczno/sys/server/srv-1/state",
    "hub/piaseczno/sys/server/+/status",
    "hub/piaseczno/sys/server/SRV/status",
    "hub/piaseczno/sys/broker/b1/status",
    "hub/piaseczno/other/reader-main/status",
    "$share/spacehub/hub/piaseczno/dev/reader-main/evt/tap",
    "hub/piaseczno/dev/reader-main/evt/tap\n",
]


@pytest.mark.parametrize("junk", JUNK)
def test_parse_rejects_junk(junk: str) -> None:
    with pytest.raises(TopicError):
        topics.parse(junk)


def test_parse_docstring_example() -> None:
    parsed = topics.parse("hub/piaseczno/dev/reader-main/evt/tap")
    assert parsed.device == "reader-main" and parsed.instance is None
    assert parsed.direction == "evt" and parsed.kind == "tap"


# -- subscription filters -------------------------------------------------------------------


def _matching(filter_: str) -> set[str]:
    return {t for t in BUILT if topic_matches_sub(filter_, t)}


def test_filter_strings() -> None:
    assert topics.all_events(SITE, "tap") == "hub/piaseczno/dev/+/evt/tap"
    assert topics.all_commands(SITE, "mode") == "hub/piaseczno/dev/+/cmd/mode"
    assert topics.all_device_status(SITE) == "hub/piaseczno/dev/+/status"
    assert topics.all_server_status(SITE) == "hub/piaseczno/sys/server/+/status"
    assert topics.all_gateway_status(SITE) == "hub/piaseczno/sys/gateway/+/status"
    assert topics.device_commands(SITE, DEV) == "hub/piaseczno/dev/reader-main/cmd/+"


@pytest.mark.parametrize("kind", topics.EVENT_KINDS)
def test_all_events_matches_that_kind_from_every_device_and_nothing_else(kind: str) -> None:
    filter_ = topics.all_events(SITE, kind)
    assert _matching(filter_) == {topics.event(SITE, DEV, kind)}
    assert topic_matches_sub(filter_, topics.event(SITE, "counter-hall", kind))
    assert not topic_matches_sub(filter_, topics.event("other-site", DEV, kind))


@pytest.mark.parametrize("kind", topics.COMMAND_KINDS)
def test_all_commands_matches_that_kind_only(kind: str) -> None:
    assert _matching(topics.all_commands(SITE, kind)) == {topics.command(SITE, DEV, kind)}


def test_status_filters_match_only_their_status_topics() -> None:
    assert _matching(topics.all_device_status(SITE)) == {topics.status(SITE, DEV)}
    assert _matching(topics.all_server_status(SITE)) == {topics.server_status(SITE, "srv-1")}
    assert _matching(topics.all_gateway_status(SITE)) == {topics.gateway_status(SITE, "gw_0")}


def test_device_commands_is_its_own_commands_only() -> None:
    filter_ = topics.device_commands(SITE, DEV)
    assert _matching(filter_) == {topics.command(SITE, DEV, k) for k in topics.COMMAND_KINDS}
    assert not topic_matches_sub(filter_, topics.decision(SITE, "reader-cowork"))


# -- shared subscriptions -------------------------------------------------------------------


def test_shared_default_group() -> None:
    filter_ = topics.all_events(SITE, "tap")
    assert topics.shared(filter_) == "$share/spacehub/hub/piaseczno/dev/+/evt/tap"


def test_shared_custom_group_keeps_the_filter_intact() -> None:
    filter_ = topics.all_events(SITE, "result")
    shared = topics.shared(filter_, "replicas")
    assert shared == f"$share/replicas/{filter_}"
    # What a client routes on is everything after "$share/<group>/".
    assert shared.split("/", 2)[2] == filter_

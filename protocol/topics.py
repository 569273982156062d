"""Every MQTT topic of docs/protocol.md v1: builders, subscription filters and one parser.

>>> tap("piaseczno", "reader-main")
'hub/piaseczno/dev/reader-main/evt/tap'
>>> parse("hub/piaseczno/dev/reader-main/evt/tap")
Topic(site='piaseczno', device='reader-main', direction='evt', kind='tap', instance=None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# \Z, not $: "$" also matches before a trailing newline, which would let "main\n" in.
ID_RE = re.compile(r"^[a-z0-9_-]{1,64}\Z")

EVENT_KINDS = ("tap", "result", "door", "motion", "count")
COMMAND_KINDS = ("decision", "door", "mode", "emergency")


class TopicError(ValueError):
    """A topic or an id that docs/protocol.md does not allow."""


def check_id(value: str, what: str = "id") -> str:
    """Return `value` if it is a valid site, device or instance id, else raise TopicError."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise TopicError(f"{what} must be 1-64 characters from [a-z0-9_-], got {value!r}")
    return value


def site_prefix(site: str) -> str:
    """What every topic of the site begins with (`hub/{site}/`)."""
    return f"hub/{check_id(site, 'site')}/"


def _dev(site: str, device: str) -> str:
    return f"hub/{check_id(site, 'site')}/dev/{check_id(device, 'device')}"


def status(site: str, device: str) -> str:
    return f"{_dev(site, device)}/status"


def event(site: str, device: str, kind: str) -> str:
    if kind not in EVENT_KINDS:
        raise TopicError(f"unknown event kind {kind!r}")
    return f"{_dev(site, device)}/evt/{kind}"


def command(site: str, device: str, kind: str) -> str:
    if kind not in COMMAND_KINDS:
        raise TopicError(f"unknown command kind {kind!r}")
    return f"{_dev(site, device)}/cmd/{kind}"


def tap(site: str, device: str) -> str:
    return event(site, device, "tap")


def result(site: str, device: str) -> str:
    return event(site, device, "result")


def door_event(site: str, device: str) -> str:
    return event(site, device, "door")


def motion(site: str, device: str) -> str:
    return event(site, device, "motion")


def count(site: str, device: str) -> str:
    return event(site, device, "count")


def decision(site: str, device: str) -> str:
    return command(site, device, "decision")


def door_command(site: str, device: str) -> str:
    return command(site, device, "door")


def mode(site: str, device: str) -> str:
    return command(site, device, "mode")


def emergency(site: str, device: str) -> str:
    return command(site, device, "emergency")


def server_status(site: str, instance: str) -> str:
    return f"hub/{check_id(site, 'site')}/sys/server/{check_id(instance, 'instance')}/status"


def server_marker(site: str, instance: str) -> str:
    """Where a server replica's door-path connection sends a marker to itself after each
    connect: when it comes back, everything queued before it has been delivered."""
    return f"hub/{check_id(site, 'site')}/sys/server/{check_id(instance, 'instance')}/marker"


def gateway_status(site: str, instance: str) -> str:
    return f"hub/{check_id(site, 'site')}/sys/gateway/{check_id(instance, 'instance')}/status"


def policy(site: str) -> str:
    return f"hub/{check_id(site, 'site')}/sys/policy"


# Subscription filters ("+" matches any one device).
def all_events(site: str, kind: str) -> str:
    if kind not in EVENT_KINDS:
        raise TopicError(f"unknown event kind {kind!r}")
    return f"hub/{check_id(site, 'site')}/dev/+/evt/{kind}"


def all_commands(site: str, kind: str) -> str:
    if kind not in COMMAND_KINDS:
        raise TopicError(f"unknown command kind {kind!r}")
    return f"hub/{check_id(site, 'site')}/dev/+/cmd/{kind}"


def all_device_status(site: str) -> str:
    return f"hub/{check_id(site, 'site')}/dev/+/status"


def all_server_status(site: str) -> str:
    return f"hub/{check_id(site, 'site')}/sys/server/+/status"


def all_gateway_status(site: str) -> str:
    return f"hub/{check_id(site, 'site')}/sys/gateway/+/status"


def device_commands(site: str, device: str) -> str:
    """What a device subscribes to: its own commands only."""
    return f"{_dev(site, device)}/cmd/+"


def shared(filter_: str, group: str = "spacehub") -> str:
    """A shared subscription, so several server replicas split one stream."""
    return f"$share/{group}/{filter_}"


@dataclass(frozen=True)
class Topic:
    """A parsed topic. `device` is None for sys topics, `instance` None for device topics."""

    site: str
    device: str | None
    direction: Literal["evt", "cmd", "status", "sys"]
    kind: str
    instance: str | None = None


ROOT = "hub"  # the first level of every topic of ours


def parse(topic: str) -> Topic:
    """Parse any topic of docs/protocol.md v1; raise TopicError for anything else."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != ROOT:
        raise TopicError(f"not a spacehub topic: {topic!r}")
    site = check_id(parts[1], "site")
    if parts[2] == "dev":
        if len(parts) == 5 and parts[4] == "status":
            return Topic(site, check_id(parts[3], "device"), "status", "status")
        if len(parts) == 6 and parts[4] == "evt" and parts[5] in EVENT_KINDS:
            return Topic(site, check_id(parts[3], "device"), "evt", parts[5])
        if len(parts) == 6 and parts[4] == "cmd" and parts[5] in COMMAND_KINDS:
            return Topic(site, check_id(parts[3], "device"), "cmd", parts[5])
    elif parts[2] == "sys":
        if len(parts) == 4 and parts[3] == "policy":
            return Topic(site, None, "sys", "policy")
        if len(parts) == 6 and parts[3] in ("server", "gateway") and parts[5] == "status":
            return Topic(site, None, "sys", parts[3], check_id(parts[4], "instance"))
        if len(parts) == 6 and parts[3] == "server" and parts[5] == "marker":
            return Topic(site, None, "sys", "marker", check_id(parts[4], "instance"))
    raise TopicError(f"not a spacehub topic: {topic!r}")

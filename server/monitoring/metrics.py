"""What `GET /metrics` tells Prometheus, in its text format (prometheus-client).

Two kinds of figures, in one registry per server context (no module-level globals):

- counted as things happen, by the edges that see them (`Metrics`): tap decisions by
  reason and by whom, and how long the server took to answer a tap;
- read when Prometheus asks (`_State`): MQTT messages by lane, kind and outcome (the door
  path's and the sensors' own counters), how far behind the door path and the release
  sweep and the sensors' ingest are, messages refused, devices online, the mail queue.

    metrics = Metrics()
    send = metrics.timed(publish, since=time.monotonic())   # counts what it sends
    body = metrics.exposition(ctx, ingest=app.state.ingest, sensors=app.state.sensors)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from protocol.messages import Decision
from server.access.fates import DoorPathCounters, TapFate
from server.db import models
from server.monitoring.device_status import devices
from server.noshows.release import release_lag
from server.site import SiteConfig


class _Counted(Protocol):
    @property
    def counters(self) -> DoorPathCounters: ...


class Context(Protocol):
    """What the figures are read from: a server.context.ServerContext."""

    @property
    def site(self) -> SiteConfig: ...
    @property
    def reads(self) -> sessionmaker[Session]: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def access(self) -> _Counted: ...


Send = Callable[[Decision], object]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A door waits 2 s: the buckets are finest where a member waits.
TAP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The counters the edges feed, and the registry `GET /metrics` reads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "spacehub_decisions",
            "Taps decided, by reason, by whom (server, gateway, expired) and result",
            ["reason", "by", "granted"],
            registry=self.registry,
        )
        self.tap_seconds = Histogram(
            "spacehub_tap_latency_seconds",
            "From a tap's arrival at the server to its decision being sent",
            buckets=TAP_BUCKETS,
            registry=self.registry,
        )

    def decided(self, decision: Decision, *, seconds: float | None) -> None:
        """A tap's decision sent by the server, or the gateway's recorded; `seconds` the
        server took to answer it (None: not the server's answer)."""
        granted = "true" if decision.granted else "false"
        self.decisions.labels(decision.reason, decision.by, granted).inc()
        if seconds is not None:
            self.tap_seconds.observe(seconds)

    def timed(self, send: Send, since: float) -> Send:
        """`send` (which publishes a decision to a door), counting each decision it sends
        and the seconds since `since` (`time.monotonic()` when the tap arrived)."""

        def sent(decision: Decision) -> object:
            result = send(decision)
            self.decided(decision, seconds=time.monotonic() - since)
            return result

        return sent

    def exposition(self, ctx: Context, *, ingest: Any = None, sensors: Any = None) -> bytes:
        """Every metric in Prometheus' text format; `ingest` and `sensors` are the MQTT
        consumers when the server runs them."""
        now = CollectorRegistry(auto_describe=False)
        now.register(_State(ctx, ingest, sensors))
        return generate_latest(self.registry) + generate_latest(now)


class _State(Collector):
    """The figures read at each scrape."""

    def __init__(self, ctx: Context, ingest: Any, sensors: Any) -> None:
        self.ctx, self.ingest, self.sensors = ctx, ingest, sensors

    def describe(self) -> list[Metric]:
        return []  # read at scrape time: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        ctx, ingest, sensors = self.ctx, self.ingest, self.sensors
        yield from _lags(ctx, ingest, sensors)
        yield from _refused(ingest, sensors)
        yield _messages(ctx, sensors)
        yield from _database(ctx)


def _lags(ctx: Context, ingest: Any, sensors: Any) -> Iterator[Metric]:
    door = GaugeMetricFamily(
        "spacehub_door_path_lag_seconds",
        "Age of the oldest door-path message not yet handled",
        value=ingest.lag_s if ingest is not None else 0.0,
    )
    yield door
    yield GaugeMetricFamily(
        "spacehub_ingest_lag_seconds",
        "Age of the oldest sensor event received and not yet recorded",
        value=sensors.inbox.lag_s() if sensors is not None else 0.0,
    )
    with ctx.reads() as session:
        overdue = release_lag(session, site=ctx.site, now=ctx.clock())
    yield GaugeMetricFamily(
        "spacehub_release_lag_seconds",
        "How long the oldest no-show past its grace has waited for the release sweep",
        value=overdue,
    )


def _messages(ctx: Context, sensors: Any) -> Metric:
    """What became of the taps, the gateway's decisions and the sensors' events."""
    handled = CounterMetricFamily(
        "spacehub_messages",
        "MQTT messages the server handled, by lane, kind and outcome",
        labels=["lane", "kind", "outcome"],
    )
    taps = ctx.access.counters
    for outcome, n in (
        (TapFate.ANSWERED, taps.answered),
        (TapFate.DUPLICATE, taps.duplicates),
        (TapFate.EXPIRED, taps.expired),
        (TapFate.LIMITED, sum(taps.limited.values())),
        ("unknown_device", taps.unknown_device_taps),
        ("invalid", taps.invalid),
    ):
        handled.add_metric(["door", "tap", outcome], n)
    handled.add_metric(["door", "decision", "recorded"], taps.gateway_decisions)
    if sensors is not None:
        counts = sensors.counters
        for outcome, n in (
            ("recorded", counts.recorded),
            ("duplicate", counts.duplicates),
            ("unknown_device", counts.unknown_device),
            ("invalid", counts.invalid),
        ):
            handled.add_metric(["sensors", "event", outcome], n)
    return handled


def _refused(ingest: Any, sensors: Any) -> Iterator[Metric]:
    refused = CounterMetricFamily(
        "spacehub_rejected_messages",
        "MQTT messages refused (never applied), by consumer, device and reason",
        labels=["consumer", "device", "reason"],
    )
    for consumer, source in (("door_path", ingest), ("sensors", sensors)):
        if source is None:
            continue
        for (device, reason), n in sorted(source.rejections.counts().items()):
            refused.add_metric([consumer, device, reason], n)
    yield refused


def _database(ctx: Context) -> Iterator[Metric]:
    online = GaugeMetricFamily(
        "spacehub_devices_online", "Devices of the site online now, by kind", labels=["kind"]
    )
    known = GaugeMetricFamily("spacehub_devices", "Devices of the site, by kind", labels=["kind"])
    mail = GaugeMetricFamily(
        "spacehub_mail", "Mail in the queue, by state (pending, sent, failed)", labels=["state"]
    )
    with ctx.reads() as session:
        listed = devices(session, site=ctx.site, now=ctx.clock())
        queue = dict(
            session.execute(
                select(models.Mail.state, func.count()).group_by(models.Mail.state)
            ).all()
        )
    for kind in ("door", "occupancy"):
        of_kind = [d for d in listed if d.kind == kind]
        online.add_metric([kind], sum(d.online for d in of_kind))
        known.add_metric([kind], len(of_kind))
    for state in ("pending", "sent", "failed"):
        mail.add_metric([state], queue.get(state, 0))
    yield online
    yield known
    yield mail

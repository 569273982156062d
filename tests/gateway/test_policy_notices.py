"""PolicyNotices: a retained notice on every policy change (within a second, coalesced)
and at a regular interval, through a real broker."""

from __future__ import annotations

import queue
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from gatewire import SITE, Clock, seed, server_settings

from protocol import topics
from protocol.messages import PolicyNotice, decode, new_id
from protocol.mqtt import MqttClient
from server.adapters.policy_notices import PolicyNotices
from server.app import create_app
from server.context import ServerContext
from server.db.meta import bump, version

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def served(broker, tmp_path: Path, server_clock: Clock) -> Iterator[ServerContext]:
    ctx = ServerContext.create(server_settings(tmp_path, broker.url), clock=server_clock)
    seed(ctx)
    try:
        yield ctx
    finally:
        ctx.close()


def _listen(url: str) -> tuple[MqttClient, queue.Queue[tuple[PolicyNotice, bool]]]:
    heard: queue.Queue[tuple[PolicyNotice, bool]] = queue.Queue()
    client = MqttClient(url, client_id=f"test-gw-{new_id()[:8]}")
    client.subscribe(
        topics.policy(SITE), lambda m: heard.put((decode(PolicyNotice, m.payload), m.retain))
    )
    client.start()
    assert client.wait_connected(10)
    return client, heard


def _publisher(ctx: ServerContext, **kwargs: float) -> tuple[MqttClient, PolicyNotices]:
    client = MqttClient(ctx.settings.mqtt_url, client_id=f"test-server-{new_id()[:8]}")
    notices = PolicyNotices(ctx, client, **kwargs)
    client.start()
    assert client.wait_connected(10)
    notices.start()
    return client, notices


def _bump(ctx: ServerContext) -> tuple[str, int]:
    with ctx.writes() as s, s.begin():
        bump(s)
    with ctx.reads() as s:
        return version(s)


def test_bump_is_noticed_within_a_second_and_changes_coalesce(
    served: ServerContext, broker
) -> None:
    listener, heard = _listen(broker.url)
    client, notices = _publisher(served)
    try:
        first, _ = heard.get(timeout=5)
        with served.reads() as s:
            assert (first.epoch, first.n) == version(s)

        started = time.monotonic()
        _bump(served)
        _bump(served)
        epoch, n = _bump(served)
        latest, _ = heard.get(timeout=2)
        while latest.n < n:  # a poll may fall between the bumps: at most a notice each
            latest, _ = heard.get(timeout=2)
        assert time.monotonic() - started < 1.0
        assert (latest.epoch, latest.n) == (epoch, n)
        assert latest.ts == served.clock()
    finally:
        notices.stop()
        client.stop()
        listener.stop()


def test_notice_is_retained_for_a_gateway_that_comes_later(served: ServerContext, broker) -> None:
    client, notices = _publisher(served)
    try:
        version_now = _bump(served)
        deadline = time.monotonic() + 5
        while notices.published != version_now:
            assert time.monotonic() < deadline, "no notice published"
            time.sleep(0.02)
        listener, heard = _listen(broker.url)
        try:
            notice, retained = heard.get(timeout=5)
            assert ((notice.epoch, notice.n), retained) == (version_now, True)
        finally:
            listener.stop()
    finally:
        notices.stop()
        client.stop()


def test_notice_is_repeated_without_a_change(served: ServerContext, broker) -> None:
    listener, heard = _listen(broker.url)
    client, notices = _publisher(served, poll_s=0.05, republish_s=0.3)
    try:
        first, _ = heard.get(timeout=5)
        again, _ = heard.get(timeout=2)
        assert (again.epoch, again.n) == (first.epoch, first.n)
    finally:
        notices.stop()
        client.stop()
        listener.stop()


def test_the_server_app_publishes_notices(served: ServerContext, broker) -> None:
    """`create_app` with MQTT runs PolicyNotices beside the door path."""
    listener, heard = _listen(broker.url)
    try:
        with TestClient(create_app(served.settings, ctx=served)):
            notice, _ = heard.get(timeout=5)
            with served.reads() as s:
                assert (notice.epoch, notice.n) == version(s)
            epoch, n = _bump(served)
            while (notice.epoch, notice.n) != (epoch, n):
                notice, _ = heard.get(timeout=2)
    finally:
        listener.stop()

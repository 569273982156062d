"""Fixtures shared by the whole suite: MQTT brokers and MQTT clients; the test markers; the
memory each test's FastAPI application would otherwise keep.

Test modules import helpers from `spacehub.broker` (`free_port`, `mosquitto_path`), never
from here: several directories have a conftest.py, and `import conftest` gets any of them.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from protocol.mqtt import MqttClient
from spacehub.broker import (
    BrokerKind,
    EmbeddedBroker,
    MosquittoBroker,
    free_port,  # noqa: F401  (re-exported for fixtures that others add here)
    mosquitto_path,
    start_broker,
)

Broker = EmbeddedBroker | MosquittoBroker

TESTS = Path(__file__).resolve().parent
# A test that uses one of these, directly or through another fixture, starts a real broker.
BROKER_FIXTURES = frozenset({"broker", "broker_kind", "embedded_broker", "mosquitto_broker"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test one of `faults`, `browser`, `broker` or `unit` (`make test-fast`).

    A test marked `slow` gets none of them: it is in no fault, browser or broker run and
    too slow for `make test-fast`; `make test` runs it with the rest."""
    for item in items:
        parts = item.path.resolve().relative_to(TESTS).parts
        if parts[0] == "faults":
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.alone)  # counts what came through in time
        elif parts[0] == "browser" or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
        elif (
            item.get_closest_marker("broker")
            or item.get_closest_marker("mosquitto")
            or BROKER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.broker)
        elif not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.unit)


# FastAPI keeps the last 4,096 dependency callables it classified (sync, coroutine or
# generator) in these caches; each test's app has its own closures, so the caches hold on to
# about a hundred whole applications, some two million objects that every full garbage
# collection then walks (about a tenth of a run's time). Emptied after each test.
_FASTAPI_CALLABLE_CACHES = (
    "_is_gen_callable_cached",
    "_is_async_gen_callable_cached",
    "_is_coroutine_callable_cached",
)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the imports and the collection made lives as long as the run: frozen, so that
    the garbage collector stops walking it, and collected less often (the tests make many
    short-lived objects; a full collection of this heap costs tens of milliseconds)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    models = sys.modules.get("fastapi.dependencies.models")
    for name in _FASTAPI_CALLABLE_CACHES:
        cache = getattr(models, name, None)
        if cache is not None:
            cache.cache_clear()
    try:
        return (yield)
    finally:
        # after the test's fixtures: its PostgreSQL databases (support.database)
        database = sys.modules.get("support.database")
        if database is not None:
            database.drop_databases()


@pytest.fixture(autouse=True, scope="session")
def shared_sql() -> Iterator[Any]:
    """SQLite engines share their compiled SQL across the tests of a process
    (support.sqlcache); yields the check that an engine does, which its test uses."""
    from support.sqlcache import shared_compiled_sql

    with shared_compiled_sql() as sharing:
        yield sharing


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[Any]:
    """Argon2id at its cheapest in tests (a server hashes with argon2-cffi's recommended
    cost, about 50 ms a password: most of the account tests' time otherwise). The hashes
    are still `$argon2id$`. Yields the server's own hasher, which test_accounts checks."""
    from argon2 import PasswordHasher

    from server.people import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    server_own = accounts._HASHER
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_HASHER", cheap)
        yield server_own


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("mosquitto", marks=[pytest.mark.mosquitto]),
    ]
)
def broker_kind(request: pytest.FixtureRequest) -> BrokerKind:
    """ "embedded", then "mosquitto" (skipped where a broker of that kind cannot run)."""
    if request.param == "embedded":
        pytest.importorskip("amqtt", reason="amqtt (the server extra) is not installed")
    elif mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    return request.param  # type: ignore[no-any-return]


def _start(kind: BrokerKind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    broker = start_broker(kind, port=free_port(), data_dir=tmp_path_factory.mktemp(kind))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def broker(broker_kind: BrokerKind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A started broker of each kind in turn (`.name`, `.url`); stopped afterwards."""
    yield from _start(broker_kind, tmp_path_factory)


@pytest.fixture
def embedded_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    pytest.importorskip("amqtt", reason="amqtt (the server extra) is not installed")
    yield from _start("embedded", tmp_path_factory)


@pytest.fixture
def mosquitto_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A started Mosquitto with persistence in a temporary directory (skipped when absent)."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    yield from _start("mosquitto", tmp_path_factory)


@pytest.fixture
def mqtt_client() -> Iterator[Callable[..., MqttClient]]:
    """Make `MqttClient(url, client_id=..., **kwargs)`s that are stopped after the test.

    Register handlers with `client.subscribe(...)` before `client.start()`.
    """
    clients: list[MqttClient] = []

    def make(url: str, client_id: str, **kwargs: Any) -> MqttClient:
        client = MqttClient(url, client_id=client_id, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.stop()

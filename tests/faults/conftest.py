"""Fixtures of the fault tests: a Mosquitto with persistence that a test stops and starts,
the server and the gateway as processes (killed after the test whatever happened), the
devices' side of the wire, and door controllers on gpiozero mock pins.

When a test fails, the end of every process's output (and Mosquitto's log) is printed
after it ("Captured stdout teardown")."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from procs import Api, GatewayProc, Proc, ServerProc, Wire, site_file

from devices.config import DoorConfig
from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader
from spacehub.broker import MosquittoBroker, free_port, mosquitto_path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


@pytest.fixture(autouse=True)
def _no_spacehub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test, never from the shell that runs it (in-process doors
    read none, and the processes get an environment built from scratch)."""
    for name in list(os.environ):
        if name.startswith("SPACEHUB_"):
            monkeypatch.delenv(name)


@pytest.fixture
def broker(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MosquittoBroker]:
    """Mosquitto with persistence in the test's directory; stop() and start() it freely."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    mosquitto = MosquittoBroker(free_port(), tmp_path / "mosquitto")
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.kill()
        if _failed(request):
            print(f"\n----- mosquitto log ({mosquitto.log_path}) -----\n{mosquitto.log_tail(40)}")


UNLIMITED = {
    "max_denied_taps": "1000",
    "unknown_taps_burst": "10000",
    "unknown_taps_per_minute": "60000",
}


class Processes:
    """Makes the server and gateway processes of one test and kills them all after it."""

    def __init__(self, tmp_path: Path, broker: MosquittoBroker) -> None:
        self.tmp_path = tmp_path
        self.broker = broker
        self.procs: list[Proc] = []
        self.apis: list[Api] = []

    def server(
        self, *, instance: str = "main", database: str | None = None, **access: str
    ) -> ServerProc:
        """A started, healthy server (a replica named `instance`, on another replica's
        `database`, if given); `access` overrides the site file's `[access]` values
        (e.g. `no_show_grace="5s"`). The tap limits are raised out of the way: a fault
        stream taps a few cards hundreds of times a minute, which is a flood by the site's
        rules (tests/server/test_tap_limits.py tests those)."""
        access = {**UNLIMITED, **access}
        proc = ServerProc(
            self.tmp_path,
            self.broker.url,
            site_file(self.tmp_path, **access),
            instance=instance,
            database=database,
        )
        self.procs.append(proc)
        proc.start()
        proc.wait_healthy()
        return proc

    def gateway(self, server: ServerProc, **env: str) -> GatewayProc:
        """A started gateway (not waited for: see GatewayProc.wait_for_*)."""
        proc = GatewayProc(self.tmp_path, self.broker.url, server.url, **env)
        self.procs.append(proc)
        proc.start()
        return proc

    def api(self, server: ServerProc) -> Api:
        api = Api(server.url)
        self.apis.append(api)
        return api

    def close(self, failed: bool) -> None:
        for api in self.apis:
            api.close()
        for proc in self.procs:
            proc.kill()
        if failed:
            for proc in self.procs:
                print(f"\n----- {proc.name} output ({proc.log_path}) -----\n{proc.log_tail(80)}")


@pytest.fixture
def processes(
    tmp_path: Path, broker: MosquittoBroker, request: pytest.FixtureRequest
) -> Iterator[Processes]:
    made = Processes(tmp_path, broker)
    try:
        yield made
    finally:
        made.close(_failed(request))


@pytest.fixture
def wires() -> Iterator[Callable[..., Wire]]:
    """Make `Wire(url, ...)`s, stopped after the test."""
    made: list[Wire] = []

    def make(url: str, **kwargs: Any) -> Wire:
        wire = Wire(url, **kwargs)
        made.append(wire)
        return wire

    yield make
    for wire in made:
        wire.stop()


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    """Fresh mock pins for one test, as gpiozero's own tests do."""
    pins = MockFactory()
    try:
        yield pins
    finally:
        pins.reset()


MakeDoor = Callable[[DoorConfig], DoorRunner]


@pytest.fixture
def doors(factory: MockFactory) -> Iterator[MakeDoor]:
    """Start `DoorRunner`s with a FakeReader on the mock pins (one at a time per pin
    set); every one still running is stopped after the test."""
    made: list[DoorRunner] = []

    def make(config: DoorConfig) -> DoorRunner:
        runner = DoorRunner(config, pin_factory=factory, reader=FakeReader())
        drive_idle(factory, config.pins)
        made.append(runner)
        runner.start()
        return runner

    yield make
    for runner in made:
        runner.stop()

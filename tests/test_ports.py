"""Free ports for tests and benchmarks: distinct, bindable, and (on Linux) below the range
the system hands out to outgoing connections, which could otherwise take one first."""

from __future__ import annotations

import socket

import pytest

from spacehub.ports import EPHEMERAL, HOST, free_ports

pytestmark = pytest.mark.unit


def test_free_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    ports = free_ports(20)
    assert len(set(ports)) == 20
    for port in ports:
        with socket.create_server((HOST, port)):
            pass
    if EPHEMERAL.exists():
        low = int(EPHEMERAL.read_text().split()[0])
        assert all(port < low for port in ports)


def test_a_port_taken_is_never_given(monkeypatch: pytest.MonkeyPatch) -> None:
    taken_port, other = free_ports(2)
    with socket.create_server((HOST, taken_port)):
        draws = iter([taken_port, other])
        monkeypatch.setattr("spacehub.ports.random.choice", lambda _ports: next(draws))
        assert free_ports(1) == [other]

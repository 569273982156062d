"""Home Assistant's discovery on the server's side, fed directly: the site file's switch,
the broker's ACL, and what the publisher sends as the rooms and doors change (a real
database, a moved clock, the MQTT client replaced by a recorder of what it publishes)."""

from __future__ import annotations

import json
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from support.waiting import wait_for

from protocol.homeassistant import door_state, room_state
from protocol.messages import Count, Motion, Status, new_id
from server.adapters.home_assistant import HomeAssistant
from server.context import ServerContext
from server.occupancy.readings import Reading, record_readings
from server.site import SiteConfig, SiteConfigError, load_site
from spacehub.provision.acl import accounts, grants

pytestmark = pytest.mark.unit

SITE_CONFIG = Path("firmware_configs/sites/piaseczno.toml")
SITE = load_site(SITE_CONFIG)


class Recorder:
    """An MQTT client as the publisher sees it: connected, keeping what it is given."""

    connected = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bool]] = []

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.sent.append((topic, payload, retain))

    def take(self) -> dict[str, dict]:  # type: ignore[type-arg]
        """What was published since the last take, by topic, read back from its JSON."""
        taken = {topic: json.loads(payload) for topic, payload, _retain in self.sent}
        assert all(retain for _t, _p, retain in self.sent)
        self.sent.clear()
        return taken


def with_discovery(tmp_path: Path, table: str) -> Path:
    """The demo site's file with another `[home_assistant]` table (its last)."""
    text = SITE_CONFIG.read_text(encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text(text[: text.index("[home_assistant]")] + table, encoding="utf-8")
    return path


def test_discovery_is_off_unless_the_site_file_turns_it_on(tmp_path: Path) -> None:
    assert not SITE.home_assistant.published_by("main")
    on = load_site(with_discovery(tmp_path, '[home_assistant]\ndiscovery = true\ninstance = "b"'))
    assert on.home_assistant.prefix == "homeassistant"
    assert on.home_assistant.published_by("b")
    assert not on.home_assistant.published_by("main")  # one replica publishes
    with pytest.raises(SiteConfigError, match="home_assistant.prefix"):
        load_site(with_discovery(tmp_path, '[home_assistant]\nprefix = "ha/#"'))


def test_with_discovery_on_the_servers_may_publish_the_configs(tmp_path: Path) -> None:
    on = load_site(with_discovery(tmp_path, "[home_assistant]\ndiscovery = true"))
    for site, expected in ((SITE, False), (on, True)):
        server = next(a for a in accounts(site, ["main"], "gw") if a.role == "server")
        granted = ("write", "homeassistant/+/spacehub_piaseczno/+/config") in grants(site, server)
        assert granted == expected
        users = accounts(site, ["main"], "gw")
        assert any(a.role == "homeassistant" for a in users) == expected
        for account in users:
            if account.role not in ("server", "homeassistant"):
                assert not any(f.startswith("homeassistant") for _a, f in grants(site, account))
    ha = next(a for a in accounts(on, ["main"], "gw") if a.role == "homeassistant")
    assert ("write", "homeassistant/status") in grants(on, ha)
    assert not [
        f for access, f in grants(on, ha) if "write" in access and f != "homeassistant/status"
    ]


def record(ctx: ServerContext, device: str, message: Motion | Count) -> None:
    with ctx.writes() as s, s.begin():
        record_readings(s, site=ctx.site, readings=[Reading(device, message)], now=ctx.clock())


def test_configs_and_states_are_published_once_and_again_as_they_change(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    client = Recorder()
    ha = HomeAssistant(ctx, client)  # type: ignore[arg-type]
    ha.follow(clock.now)
    first = client.take()
    configs = [t for t in first if t.endswith("/config")]
    # every room occupied and (with a counter) counted, every door's mode and connection
    counted = {d.room for d in ctx.site.devices if d.sensor == "counter"}
    doors = ctx.site.door_devices()
    assert len(configs) == len(ctx.site.rooms) + len(counted) + 2 * len(doors)
    assert first[room_state("piaseczno", "sala-a")] == {"v": 1, "occupied": False}
    assert first[room_state("piaseczno", "sala-b")] == {"v": 1, "occupied": False, "people": 0}
    assert first[door_state("piaseczno", "main")] == {"v": 1, "online": False}

    ha.follow(clock.now)
    assert client.take() == {}  # nothing changed, nothing sent

    record(ctx, "pir-sala-a", Motion(id=new_id(), ts=clock.now, motion=True))
    record(ctx, "counter-sala-b", Count(id=new_id(), ts=clock.now, entered=3))
    status = Status(state="online", kind="door", ts=clock.now, mode="locked")
    ctx.access.handle_status("reader-main", status)
    ha.follow(clock.now)
    assert client.take() == {
        room_state("piaseczno", "sala-a"): {"v": 1, "occupied": True},
        room_state("piaseczno", "sala-b"): {"v": 1, "occupied": True, "people": 3},
        door_state("piaseczno", "main"): {"v": 1, "online": True, "mode": "locked"},
    }

    record(ctx, "pir-sala-a", Motion(id=new_id(), ts=clock.now, motion=False))
    clock.advance(minutes=15)  # the vacancy timeout: no event says so
    assert ctx.site.walk_in.vacancy_timeout == timedelta(minutes=15).total_seconds()
    ha.follow(clock.now)
    assert client.take()[room_state("piaseczno", "sala-a")] == {"v": 1, "occupied": False}


def test_after_a_reconnect_everything_is_published_again(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    client = Recorder()
    ha = HomeAssistant(ctx, client, poll_s=0.01)  # type: ignore[arg-type]
    ha.follow(clock.now)
    everything = client.take()
    client.connected = False  # type: ignore[misc]
    ha.start()
    try:
        wait_for(lambda: not ha._sent, what="the publisher forgets what it sent")
        client.connected = True  # type: ignore[misc]
        wait_for(lambda: len(client.sent) == len(everything), what="all published again")
    finally:
        ha.stop()
    assert client.take() == everything


def test_the_demo_site_file_documents_the_switch_off() -> None:
    data = tomllib.loads(SITE_CONFIG.read_text(encoding="utf-8"))
    assert data["home_assistant"]["discovery"] is False
    assert SiteConfig.model_validate(data).home_assistant == SITE.home_assistant

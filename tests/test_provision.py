"""`spacehub provision`: its files, and a real Mosquitto started from them enforcing TLS,
passwords and the per-device ACLs of docs/protocol.md; `spacehub demo --secure` end to end."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from provision.wire import (
    WAIT,
    Account,
    client,
    connack,
    connected,
    listening,
    received_until,
    serving,
    tls_refusal,
    wait_healthy,
)

from devices.config import load_door_config, load_sensor_config
from gateway.config import load_settings
from protocol import topics
from protocol.mqtt import MqttClient
from server.settings import Settings, settings_file
from spacehub.broker import free_port, mosquitto_path
from spacehub.cli import main
from spacehub.ports import free_ports
from spacehub.provision import Options, ProvisionError, Result, provision
from spacehub.provision.acl import whole_site
from spacehub.provision.passwd import hash_password, verify

ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = ROOT / "firmware_configs" / "sites" / "piaseczno.toml"
SITE = "piaseczno"
DOORS = ["reader-main", "reader-sala-a", "reader-sala-b", "reader-cowork"]
SENSORS = ["counter-main", "pir-sala-a", "pir-sala-b", "counter-sala-b", "pir-cowork"]

MakeClient = Callable[..., MqttClient]


def run_provision(out: Path, port: int = 8883, **options: object) -> Result:
    return provision(
        Options(
            site_config=SITE_CONFIG,
            out=out,
            hosts=("127.0.0.1",),
            port=port,
            bind="127.0.0.1",
            **options,  # type: ignore[arg-type]
        )
    )


def mqtt_table(path: Path) -> dict[str, str]:
    return tomllib.loads(path.read_text())["mqtt"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def site_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Result]:
    """Mosquitto running on the provisioned mosquitto.conf, on a free port."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    tmp = tmp_path_factory.mktemp("site")
    port = free_port()
    provisioned = run_provision(tmp / "provision", port, installer=True)
    with serving(provisioned, port, tmp / "broker") as result:
        yield result


def account(result: Result, role: str, name: str | None = None) -> Account:
    """The credentials one of provision's TOML files holds."""
    path = result.file_of(role, name)
    table = mqtt_table(path)
    return Account(table["url"], table["username"], table["password"], str(path.parent / "ca.crt"))


# -- the files ------------------------------------------------------------------------


@pytest.mark.mosquitto  # runs mosquitto_passwd
def test_hash_is_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    hashed = hash_password("s3cret", salt=bytes(range(12)))
    assert hashed.startswith("$7$101$AAECAwQFBgcICQoL$") and verify(hashed, "s3cret")
    assert not verify(hashed, "s3cret ") and not verify("$6$abc$def", "s3cret")
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "passwd"
    path.touch()
    subprocess.run([tool, "-b", str(path), "alice", "s3cret"], check=True)
    theirs = path.read_text().strip().split(":", 1)[1]
    assert theirs.startswith("$7$101$") and verify(theirs, "s3cret")


def test_secrets_are_0600_in_0700_folders(tmp_path: Path) -> None:
    result = run_provision(tmp_path / "site" / "out")
    out = result.out
    for folder in (out.parent, out, out / "devices", out / "data"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    secret = ["ca.key", "broker.key", "passwd", "acl", "mosquitto.conf", "server.toml"]
    secret += ["gateway.toml", *(f"devices/{d}.toml" for d in DOORS + SENSORS)]
    for name in secret:
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    assert not list(out.rglob(".*.tmp"))


def test_mosquitto_conf_is_the_production_one(tmp_path: Path) -> None:
    result = run_provision(tmp_path / "out", 18883)
    conf = result.mosquitto_conf.read_text().splitlines()
    out = result.out
    for line in [
        "allow_anonymous false",
        f"password_file {out}/passwd",
        f"acl_file {out}/acl",
        "listener 18883 127.0.0.1",
        f"certfile {out}/broker.crt",
        f"keyfile {out}/broker.key",
        "set_tcp_nodelay true",
        "message_size_limit 8192",
        "max_queued_messages 1000000",
        "persistence true",
        f"persistence_location {out}/data/",
        "autosave_interval 1",
        "use_username_as_clientid true",
    ]:
        assert line in conf
    assert sum(line.startswith("listener ") for line in conf) == 1
    assert result.url == "mqtts://127.0.0.1:18883"


def test_running_again_keeps_secrets_and_rotate_changes_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_provision(out)
    files = ["passwd", "ca.crt", "ca.key", "broker.key", "broker.crt", "server.toml"]
    before = {name: (out / name).read_bytes() for name in files}
    door = mqtt_table(out / "devices" / "reader-main.toml")["password"]
    assert len(first.new_passwords) == len(first.users) == 11 and first.new_ca  # 9 devices

    again = run_provision(out)
    assert again.new_passwords == [] and not again.new_ca and not again.new_broker_cert
    assert {name: (out / name).read_bytes() for name in files} == before

    rotated = run_provision(out, rotate=True)
    assert len(rotated.new_passwords) == 11 and rotated.new_ca and rotated.new_broker_cert
    assert mqtt_table(out / "devices" / "reader-main.toml")["password"] != door
    for name in files:
        assert (out / name).read_bytes() != before[name], name


def test_a_new_host_renews_only_the_broker_certificate(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_provision(out)
    ca, key = (out / "ca.crt").read_bytes(), (out / "broker.key").read_bytes()
    result = provision(Options(site_config=SITE_CONFIG, out=out, hosts=("broker.lan",)))
    assert result.new_broker_cert and not result.new_ca and result.new_passwords == []
    assert (out / "ca.crt").read_bytes() == ca and (out / "broker.key").read_bytes() == key
    assert mqtt_table(out / "server.toml")["url"] == "mqtts://broker.lan:8883"


def test_the_toml_files_load_as_the_programs_load_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_provision(tmp_path / "out", 18883)
    out = result.out
    for device in DOORS + SENSORS:
        loader = load_door_config if device in DOORS else load_sensor_config
        config = loader(out / "devices" / f"{device}.toml")  # type: ignore[operator]
        assert (config.site, config.device) == (SITE, device)
        assert config.mqtt.url == "mqtts://127.0.0.1:18883"
        assert config.mqtt.username == f"{SITE}.{device}" and config.mqtt.password
        assert config.mqtt.ca_file == out / "devices" / "ca.crt" and config.mqtt.ca_file.is_file()
    door = load_door_config(out / "devices" / "reader-main.toml")
    assert door.pins.strike == 17 and door.reader.type == "fake"  # the template's wiring

    monkeypatch.chdir(tmp_path)  # the ca_file is found from anywhere
    server = Settings(**settings_file(out / "server.toml"))
    assert (server.mqtt_url, server.mqtt_username, server.instance) == (
        "mqtts://127.0.0.1:18883",
        f"{SITE}.server.main",
        "main",
    )
    assert server.mqtt_ca_file == str(out / "ca.crt") and server.mqtt_password
    assert not server.shared_subscriptions  # one server

    monkeypatch.setenv("SPACEHUB_GATEWAY_TOKEN", "token")
    monkeypatch.setenv("SPACEHUB_CARD_KEY", "k" * 32)
    monkeypatch.setenv("SPACEHUB_MQTT_URL", "mqtt://elsewhere:1883")  # the file wins
    gateway = load_settings(out / "gateway.toml")
    assert (gateway.site, gateway.instance, gateway.mqtt_url) == (
        SITE,
        "main",
        "mqtts://127.0.0.1:18883",
    )
    assert gateway.mqtt_username == f"{SITE}.gateway.main"
    assert gateway.mqtt_ca_file == str(out / "ca.crt")


def test_each_of_several_replicas_gets_its_account_and_shared_subscriptions(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    run_provision(out, servers=("a", "b"))
    replicas = [Settings(**settings_file(out / name)) for name in ("server.toml", "server-b.toml")]
    assert [(s.instance, s.mqtt_username, s.shared_subscriptions) for s in replicas] == [
        ("a", f"{SITE}.server.a", True),
        ("b", f"{SITE}.server.b", True),
    ]


def test_a_device_without_a_template_gets_the_standard_wiring(tmp_path: Path) -> None:
    site = tmp_path / "sites" / "site.toml"
    site.parent.mkdir()
    extra = '[[devices]]\nid = "reader-back"\nkind = "door"\nroom = "main"\ndoor = "back"\n'
    extra += '[[devices]]\nid = "counter-back"\nkind = "occupancy"\nroom = "main"\n'
    site.write_text(SITE_CONFIG.read_text() + extra + 'sensor = "counter"\n')
    templates = ROOT / "firmware_configs" / "devices"
    result = provision(Options(site_config=site, out=tmp_path / "out", device_configs=templates))
    door = load_door_config(result.file_of("door", "reader-back"))
    assert (door.device, door.pins.strike, door.mqtt.username) == (
        "reader-back",
        17,
        f"{SITE}.reader-back",
    )
    counter = load_sensor_config(result.file_of("occupancy", "counter-back"))
    assert (counter.sensor, counter.pins.beam_a, counter.pins.beam_b) == (("counter",), 16, 26)
    assert "user piaseczno.reader-back" in (result.out / "acl").read_text()

    (tmp_path / "devices").mkdir()  # the default templates folder: ../devices
    (tmp_path / "devices" / "reader-back.toml").write_text('site = "piaseczno"\ndevice = "x"\n')
    with pytest.raises(ProvisionError, match=r"reader-back.toml \(from its template\)"):
        provision(Options(site_config=site, out=tmp_path / "out"))


def test_a_bad_config_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "server.toml"
    bad.write_text('[mqtt]\nurl = "mqtt://127.0.0.1:1883"\nuser = "x"\n')
    assert main(["server", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"spacehub server: {bad}: mqtt.user: is not a known key"
    assert main(["gateway", "--data-dir", str(tmp_path)]) == 2
    assert "--site is required" in capsys.readouterr().err
    assert main(["provision", "--site-config", str(tmp_path / "none.toml"), "--out", "x"]) == 2
    assert "none.toml: no such file" in capsys.readouterr().err


def test_the_installers_account_is_written_only_when_asked_and_removed_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    base = ["provision", "--site-config", str(SITE_CONFIG), "--out", str(out)]

    def installer_lines() -> list[str]:
        text = (out / "passwd").read_text() + (out / "acl").read_text()
        return [line for line in text.splitlines() if f"{SITE}.installer" in line]

    assert main(base) == 0
    assert installer_lines() == [] and not (out / "installer.toml").exists()
    assert main([*base, "--installer"]) == 0
    assert len(installer_lines()) == 2  # its passwd line and its acl `user` line
    assert mqtt_table(out / "installer.toml")["username"] == f"{SITE}.installer"
    assert main(base) == 0  # the site is set up: the account goes
    assert installer_lines() == [] and not (out / "installer.toml").exists()
    capsys.readouterr()


# -- a real Mosquitto on those files --------------------------------------------------


@pytest.mark.mosquitto
def test_anonymous_and_wrong_passwords_are_refused(site_broker: Result) -> None:
    door = account(site_broker, "door", "reader-main")
    assert connack(door) == "Success"
    assert connack(door._replace(username=None, password=None)) == "Not authorized"
    assert connack(door._replace(password="wrong")) == "Not authorized"
    other = account(site_broker, "door", "reader-sala-a")
    assert connack(door._replace(password=other.password)) == "Not authorized"


@pytest.mark.mosquitto
def test_tls_needs_the_sites_ca_and_the_brokers_name(site_broker: Result) -> None:
    door = account(site_broker, "door", "reader-main")
    # The system's CAs do not know the site's own CA.
    assert "certificate verify failed" in tls_refusal(door._replace(ca_file=None))
    context = ssl.create_default_context(cafile=door.ca_file)
    port = int(door.url.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock,
        pytest.raises(ssl.SSLCertVerificationError, match="mismatch"),
    ):
        context.wrap_socket(sock, server_hostname="not-the-broker.example")


@pytest.mark.mosquitto
def test_a_device_publishes_its_own_tap_to_the_servers_shared_subscription(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    server = client(mqtt_client, account(site_broker, "server"), "test-server-shared")
    taps = listening(server, topics.shared(topics.all_events(SITE, "tap")))
    door = connected(client(mqtt_client, account(site_broker, "door", "reader-main")))

    door.publish(topics.tap(SITE, "reader-main"), b'{"v":1}').wait_for_publish(WAIT)

    msg = taps.get()
    assert (msg.topic, msg.payload) == (topics.tap(SITE, "reader-main"), b'{"v":1}')


@pytest.mark.mosquitto
def test_a_device_cannot_publish_as_another_device_or_the_server(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    server = client(mqtt_client, account(site_broker, "server"), "test-server-all")
    everything = listening(server, whole_site(SITE))
    door = connected(client(mqtt_client, account(site_broker, "door", "reader-main")))
    forged = [
        topics.tap(SITE, "reader-sala-a"),
        topics.status(SITE, "pir-sala-a"),
        topics.server_status(SITE, "main"),
        topics.decision(SITE, "reader-sala-a"),
        topics.decision(SITE, "reader-main"),  # not even its own commands
        topics.mode(SITE, "reader-main"),
        topics.policy(SITE),
        topics.motion(SITE, "reader-main"),  # a door reports no motion
    ]
    for topic in forged:
        door.publish(topic, b'{"v":1,"forged":true}').wait_for_publish(WAIT)
    marker = topics.tap(SITE, "reader-main")
    door.publish(marker, b'{"v":1}').wait_for_publish(WAIT)

    # One connection, one queue: anything forged that got through would come first.
    assert received_until(everything, marker) == [marker]


@pytest.mark.mosquitto
def test_a_device_reads_only_its_own_commands(site_broker: Result, mqtt_client: MakeClient) -> None:
    door = client(mqtt_client, account(site_broker, "door", "reader-main"))
    heard = listening(
        door,
        topics.device_commands(SITE, "reader-main"),
        topics.all_commands(SITE, "decision"),  # every door's decisions: only its own come
        topics.shared(topics.device_commands(SITE, "reader-sala-a")),
    )
    server = connected(client(mqtt_client, account(site_broker, "server"), "test-server-cmd"))

    for device in ("reader-sala-a", "reader-cowork", "reader-main"):
        server.publish(topics.decision(SITE, device), b'{"v":1}').wait_for_publish(WAIT)

    assert received_until(heard, topics.decision(SITE, "reader-main")) == [
        topics.decision(SITE, "reader-main")
    ]


@pytest.mark.mosquitto
def test_the_gateway_decides_for_doors_only_and_a_sensor_reports_only_itself(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    server = client(mqtt_client, account(site_broker, "server"), "test-server-gw")
    everything = listening(server, whole_site(SITE))
    gateway = connected(client(mqtt_client, account(site_broker, "gateway"), "test-gateway"))
    sensor = connected(client(mqtt_client, account(site_broker, "occupancy", "pir-sala-a")))

    allowed = [topics.decision(SITE, "reader-cowork"), topics.gateway_status(SITE, "main")]
    for topic in [topics.door_command(SITE, "reader-cowork"), topics.server_status(SITE, "x")]:
        gateway.publish(topic, b"{}").wait_for_publish(WAIT)
    for topic in allowed:
        gateway.publish(topic, b"{}").wait_for_publish(WAIT)
    assert received_until(everything, allowed[-1]) == allowed

    sensor.publish(topics.motion(SITE, "pir-sala-b"), b"{}").wait_for_publish(WAIT)
    sensor.publish(topics.motion(SITE, "pir-sala-a"), b"{}").wait_for_publish(WAIT)
    assert received_until(everything, topics.motion(SITE, "pir-sala-a")) == [
        topics.motion(SITE, "pir-sala-a")
    ]


@pytest.mark.mosquitto
def test_an_oversized_payload_is_not_delivered(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    server = client(mqtt_client, account(site_broker, "server"), "test-server-size")
    taps = listening(server, topics.all_events(SITE, "tap"))
    door = connected(client(mqtt_client, account(site_broker, "door", "reader-main")))
    tap = topics.tap(SITE, "reader-main")

    door.publish(tap, b"x" * 8193).wait_for_publish(WAIT)
    door.publish(tap, b"y" * 8192).wait_for_publish(WAIT)

    assert taps.get(timeout=WAIT).payload == b"y" * 8192
    assert taps.empty()


# -- the demo, secure ------------------------------------------------------------------


@pytest.mark.mosquitto
def test_secure_demo_grants_a_staff_tap_through_tls_and_acls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    http_port, mqtt_port = free_ports(2)
    args = ["demo", "--broker", "mosquitto", "--secure", "--no-traffic"]
    args += ["--http-port", str(http_port), "--mqtt-port", str(mqtt_port)]
    data_dir = tmp_path / "demo"
    args += ["--data-dir", str(data_dir)]
    log = (tmp_path / "demo.log").open("w+")
    demo = subprocess.Popen(
        [sys.executable, "-m", "spacehub.cli", *args],
        cwd=ROOT,
        env={**os.environ, "SPACEHUB_ADMIN_TOKEN": "t" * 24},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{http_port}/healthz", demo, tmp_path / "demo.log")
        banner = (tmp_path / "demo.log").read_text()
        for folder in (data_dir, data_dir / "provision"):  # the database's, the secrets'
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        installer = data_dir / "provision" / "installer.toml"
        assert f"spacehub tap --config {installer} --device reader-main 04A1B2C3" in banner
        assert f"mqtts://127.0.0.1:{mqtt_port}" in banner

        tap = ["tap", "--config", str(installer), "--device", "reader-main", "04A1B2C3"]
        assert main(tap) == 0
        assert capsys.readouterr().out.startswith("granted: staff (Ewa N.), by server")
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
        log.close()


def test_secure_demo_refuses_the_embedded_broker(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--broker", "embedded", "--secure"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spacehub demo: --secure needs Mosquitto") and "embedded" in err


@pytest.mark.mosquitto
def test_a_client_id_is_its_username_so_no_session_can_be_taken_over(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    server = client(mqtt_client, account(site_broker, "server"), "test-server-ids")
    everything = listening(server, whole_site(SITE))
    door = connected(client(mqtt_client, account(site_broker, "door", "reader-main")))
    # another device names reader-main's client id: the broker gives it its own instead
    connected(client(mqtt_client, account(site_broker, "door", "reader-sala-a"), door.client_id))
    marker = topics.tap(SITE, "reader-main")
    door.publish(marker, b'{"v":1}').wait_for_publish(WAIT)

    assert door.connected
    assert received_until(everything, marker)[-1] == marker


@pytest.mark.mosquitto
def test_the_installer_taps_at_any_door_and_hears_the_answer_only(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    server = client(mqtt_client, account(site_broker, "server"), "test-server-installer")
    everything = listening(server, whole_site(SITE))
    installer = client(mqtt_client, account(site_broker, "installer"))
    answers = listening(installer, topics.all_commands(SITE, "decision"))
    for forged in (topics.decision(SITE, "reader-main"), topics.mode(SITE, "reader-main")):
        installer.publish(forged, b'{"v":1,"forged":true}').wait_for_publish(WAIT)
    tap = topics.tap(SITE, "reader-sala-b")
    installer.publish(tap, b'{"v":1}').wait_for_publish(WAIT)
    assert received_until(everything, tap) == [tap]

    server.publish(topics.decision(SITE, "reader-sala-b"), b'{"v":1}').wait_for_publish(WAIT)
    assert answers.get(timeout=WAIT).topic == topics.decision(SITE, "reader-sala-b")

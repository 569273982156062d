"""Loading a door controller's TOML file: the demo doors, defaults, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.config import ConfigError, DoorConfig, load_door_config

DEVICES = Path(__file__).resolve().parents[2] / "firmware_configs" / "devices"
DEMO_DOORS = ["reader-main", "reader-sala-a", "reader-sala-b", "reader-cowork"]

MINIMAL = """
site = "piaseczno"
device = "reader-x"
[pins]
strike = 17
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "door.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("device", DEMO_DOORS)
def test_the_demo_doors_load(device: str) -> None:
    config = load_door_config(DEVICES / f"{device}.toml")
    assert (config.site, config.device) == ("piaseczno", device)
    assert config.reader.type == "fake"
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    pins = config.pins
    wired = [pins.strike, pins.green, pins.red, pins.buzzer, pins.contact, pins.exit, pins.fire]
    assert None not in wired and len(set(wired)) == len(wired)
    timing = config.timing
    assert (timing.unlock, timing.decision_timeout, timing.held_open) == (5.0, 2.0, 30.0)
    assert timing.max_remote_unlock == 30.0


def test_defaults(tmp_path: Path) -> None:
    config = load_door_config(write(tmp_path, MINIMAL))
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert config.mqtt.username is None and config.mqtt.ca_file is None
    timing = config.timing
    assert (timing.unlock, timing.decision_timeout, timing.held_open, timing.heartbeat) == (
        5.0,
        2.0,
        30.0,
        60.0,
    )
    assert timing.max_remote_unlock == 30.0
    assert config.data_dir == Path("var/devices/reader-x")
    assert config.reader.type == "fake" and config.pins.green is None


def test_durations_and_reader_options_are_read(tmp_path: Path) -> None:
    text = MINIMAL + (
        '[timing]\nunlock = "7s"\ndecision_timeout = "1500ms"\nheld_open = "2m"\n'
        'heartbeat = "1m"\nmax_remote_unlock = "1m"\n'
        '[reader]\ntype = "wedge"\npath = "/dev/input/event3"\nformat = "dec"\nbytes = 7\n'
        "reverse = true\n"
    )
    config = load_door_config(write(tmp_path, text))
    assert (config.timing.unlock, config.timing.decision_timeout) == (7.0, 1.5)
    assert (config.timing.held_open, config.timing.heartbeat) == (120.0, 60.0)
    assert config.timing.max_remote_unlock == 60.0
    reader = config.reader
    assert (reader.type, reader.path, reader.format, reader.nbytes, reader.reverse) == (
        "wedge",
        "/dev/input/event3",
        "dec",
        7,
        True,
    )


def test_ca_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "[pins]", '[mqtt]\nurl = "mqtts://broker:8883"\nca_file = "ca.crt"\n[pins]'
    )
    config = load_door_config(write(tmp_path, text))
    assert config.mqtt.ca_file == tmp_path / "ca.crt"


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        (MINIMAL + '[timing]\nunlock = "5 parsecs"\n', "timing.unlock", "not a duration"),
        (MINIMAL + '[timing]\nheld_open = "0s"\n', "timing.held_open", "longer than 0s"),
        (MINIMAL + '[timing]\nheartbeat = "2d"\n', "timing.heartbeat", "less than or equal"),
        (MINIMAL + '[timing]\nmax_remote_unlock = "0s"\n', "timing.max_remote_unlock", "0s"),
        (MINIMAL.replace("strike", "strik"), "pins.strike", "is required"),
        (MINIMAL + "bogus = 1\n", "pins.bogus", "is not a known key"),
        (MINIMAL.replace('device = "reader-x"', 'device = "Reader X"'), "device", "[a-z0-9_-]"),
        (MINIMAL.replace("strike = 17", "strike = 40"), "pins.strike", "less than or equal"),
        (MINIMAL + "red = 17\n", "pins", "BCM 17 is used for both strike and red"),
        (MINIMAL + '[reader]\ntype = "wedge"\n', "reader.path", "needs the path"),
        (MINIMAL + '[reader]\ntype = "nfc"\n', "reader.type", "'fake', 'wedge' or 'uart'"),
        (MINIMAL + '[mqtt]\nurl = "http://x"\n', "mqtt.url", "mqtt://host"),
        ('site = "piaseczno"\n', "device", "is required"),
    ],
)
def test_an_invalid_config_names_the_file_the_key_and_why(
    tmp_path: Path, text: str, key: str, why: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_door_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert why in message
    assert "\n" not in message


def test_a_missing_file_and_bad_toml_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: cannot read"):
        load_door_config(tmp_path / "nowhere.toml")
    path = write(tmp_path, "site = \n")
    with pytest.raises(ConfigError, match=r"door\.toml: not valid TOML"):
        load_door_config(path)


def test_the_model_is_usable_without_a_file() -> None:
    config = DoorConfig.model_validate(
        {"site": "s", "device": "d", "pins": {"strike": 4}, "timing": {"unlock": 3}}
    )
    assert config.timing.unlock == 3.0

"""`spacehub tap --config`: as a door with the door's own file, or as the site's installer
with `installer.toml` and `--device` (both as `spacehub provision` writes them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacehub.cli import main
from spacehub.errors import CliError
from spacehub.tap import from_file

ROOT = Path(__file__).resolve().parent.parent
READER_MAIN = ROOT / "firmware_configs" / "devices" / "reader-main.toml"

INSTALLER = """\
site = "piaseczno"

[mqtt]
url = "mqtts://broker.example:8883"
username = "piaseczno.installer"
password = "secret"
ca_file = "ca.crt"
"""


def test_a_doors_file_taps_as_that_door() -> None:
    site, device, mqtt = from_file(READER_MAIN, None)
    assert (site, device) == ("piaseczno", "reader-main")
    assert mqtt.url.startswith("mqtt")


def test_the_installers_file_taps_at_the_door_named_with_its_ca_beside_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "installer.toml").write_text(INSTALLER)
    site, device, mqtt = from_file(tmp_path / "installer.toml", "reader-sala-a")
    assert (site, device) == ("piaseczno", "reader-sala-a")
    assert (mqtt.url, mqtt.username) == ("mqtts://broker.example:8883", "piaseczno.installer")
    assert mqtt.ca_file == tmp_path / "ca.crt"


def test_the_installers_file_needs_a_door_and_no_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "installer.toml"
    path.write_text(INSTALLER)
    with pytest.raises(CliError, match="give --device"):
        from_file(path, None)
    path.write_text(INSTALLER.replace('site = "piaseczno"', 'site = "piaseczno"\nsiet = 1'))
    with pytest.raises(CliError, match="siet"):
        from_file(path, "reader-main")


def test_a_file_that_is_neither_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "door.toml"
    path.write_text('site = "piaseczno"\n')
    assert main(["tap", "--config", str(path), "04A1B2C3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spacehub tap: {path}: ") and "required" in err

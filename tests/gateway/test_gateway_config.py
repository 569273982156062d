"""The gateway's settings from the environment, and `spacehub gateway` refusing a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import GatewayConfigError, GatewaySettings, load_settings
from spacehub.cli import main

KEY = "k" * 32


def test_defaults_and_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACEHUB_GATEWAY_TOKEN", "tok")
    monkeypatch.setenv("SPACEHUB_CARD_KEY", KEY)
    settings = load_settings(site="piaseczno")
    assert (settings.takeover, settings.max_age, settings.instance) == (0.5, 7 * 86400.0, "main")
    assert settings.server_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("SPACEHUB_TAKEOVER", "750ms")
    monkeypatch.setenv("SPACEHUB_MAX_AGE", "2d")
    monkeypatch.setenv("SPACEHUB_SERVER_URL", "https://hub.example.org/")
    settings = load_settings(site="piaseczno")
    assert (settings.takeover, settings.max_age) == (0.75, 2 * 86400.0)
    assert settings.server_url == "https://hub.example.org"


def test_token_falls_back_to_the_admin_token() -> None:
    settings = GatewaySettings(site="piaseczno", admin_token="admin", card_key=KEY)
    assert settings.token() == "admin"
    both = GatewaySettings(site="piaseczno", admin_token="a", gateway_token="g", card_key=KEY)
    assert both.token() == "g"
    with pytest.raises(GatewayConfigError, match="SPACEHUB_GATEWAY_TOKEN"):
        GatewaySettings(site="piaseczno", card_key=KEY).token()


def test_card_key_is_read_beside_the_servers_database(tmp_path: Path) -> None:
    (tmp_path / "card.key").write_text(KEY + "\n")
    settings = GatewaySettings(site="piaseczno", database_url=f"sqlite:///{tmp_path}/hub.db")
    assert settings.resolve_card_key() == KEY
    assert GatewaySettings(site="piaseczno").key_file() == Path("var/card.key")
    with pytest.raises(GatewayConfigError, match="SPACEHUB_CARD_KEY: not set.*nowhere"):
        GatewaySettings(site="piaseczno", card_key_file=tmp_path / "nowhere").resolve_card_key()


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["--site", "Bad Site"], {}, "--site: must be 1-64 characters from [a-z0-9_-]"),
        (["--site", "piaseczno"], {"SPACEHUB_CARD_KEY": KEY}, "SPACEHUB_GATEWAY_TOKEN: not set"),
        (["--site", "piaseczno"], {"SPACEHUB_GATEWAY_TOKEN": "t"}, "SPACEHUB_CARD_KEY: not set"),
        (
            ["--site", "piaseczno"],
            {"SPACEHUB_GATEWAY_TOKEN": "t", "SPACEHUB_CARD_KEY": KEY, "SPACEHUB_TAKEOVER": "soon"},
            "SPACEHUB_TAKEOVER: 'soon' is not a duration",
        ),
        (
            ["--site", "piaseczno"],
            {"SPACEHUB_GATEWAY_TOKEN": "t", "SPACEHUB_CARD_KEY": KEY, "SPACEHUB_MQTT_URL": "x"},
            "SPACEHUB_MQTT_URL",
        ),
    ],
)
def test_spacehub_gateway_refuses_a_bad_configuration_in_one_line(
    argv: list[str],
    env: dict[str, str],
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no var/card.key here
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["gateway", *argv, "--data-dir", str(tmp_path / "gw")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spacehub gateway: ") and says in err
    assert err.count("\n") == 1

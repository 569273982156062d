"""The gateway's one configuration object, from `SPACEHUB_` environment variables.

>>> settings = load_settings(site="piaseczno")  # doctest: +SKIP
>>> settings.takeover, settings.max_age  # doctest: +SKIP
(0.5, 604800.0)

It shares its variables with the server where they mean the same thing (docs/api.md,
Configuration): `SPACEHUB_MQTT_URL`, `SPACEHUB_SERVER_URL`, `SPACEHUB_GATEWAY_TOKEN`
(falling back to `SPACEHUB_ADMIN_TOKEN`), `SPACEHUB_CARD_KEY` (falling back to the key
file the server keeps beside its default database, `SPACEHUB_CARD_KEY_FILE` to name
another). Its own: `SPACEHUB_INSTANCE`, `SPACEHUB_TAKEOVER` (500ms), `SPACEHUB_MAX_AGE`
(7d), `SPACEHUB_REFRESH` (5m), `SPACEHUB_HEARTBEAT` (10s); durations are written `500ms`,
`90s`, `15m`, `7d`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol.fields import ConfigFileError, Duration, Id, MqttUrl, program_file

# The server's default database; the card key file sits beside it (server/settings.py).
DEFAULT_DATABASE_URL = "sqlite:///var/spacehub.db"
CARD_KEY_MIN = 16


class GatewayConfigError(ValueError):
    """A configuration the gateway cannot run with; the message is one line naming the key."""


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must look like http://host:8000, got {value!r}")
    return value.rstrip("/")


class GatewaySettings(BaseSettings):
    """Everything the gateway reads from its environment (see the module docstring)."""

    model_config = SettingsConfigDict(env_prefix="SPACEHUB_", extra="ignore")

    site: Id
    # The gateway's id: its MQTT client id and its sys/gateway/{instance}/status topic.
    instance: Id = "main"
    mqtt_url: MqttUrl = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_ca_file: str | None = None
    server_url: Annotated[str, AfterValidator(_http_url)] = "http://127.0.0.1:8000"
    gateway_token: str | None = None
    admin_token: str | None = None
    card_key: str | None = Field(default=None, min_length=CARD_KEY_MIN)
    card_key_file: Path | None = None
    database_url: str = DEFAULT_DATABASE_URL  # only to find the card key file beside it
    takeover: Duration = 0.5
    max_age: Duration = 7 * 86400.0
    refresh: Duration = 300.0
    heartbeat: Duration = 10.0
    http_timeout: Duration = 5.0

    @field_validator("card_key", "admin_token", "gateway_token", "card_key_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def token(self) -> str:
        """The API token the snapshot is fetched with."""
        token = self.gateway_token or self.admin_token
        if not token:
            raise GatewayConfigError(
                "SPACEHUB_GATEWAY_TOKEN: not set (nor SPACEHUB_ADMIN_TOKEN); "
                "the gateway cannot fetch its policy snapshot without a token"
            )
        return token

    def key_file(self) -> Path:
        """Where the card key is read from when `SPACEHUB_CARD_KEY` is unset: the named
        file, else `card.key` beside the SQLite database (the server writes it there)."""
        if self.card_key_file is not None:
            return self.card_key_file
        prefix = "sqlite:///"
        url = self.database_url
        if not url.startswith(prefix) or ":memory:" in url:
            url = DEFAULT_DATABASE_URL
        return Path(url.removeprefix(prefix)).parent / "card.key"

    def resolve_card_key(self) -> str:
        """`SPACEHUB_CARD_KEY`, else the key file; never made here (the server makes it,
        and a gateway with a key of its own would match no card)."""
        if self.card_key:
            return self.card_key
        path = self.key_file()
        try:
            key = path.read_text().strip()
        except OSError as exc:
            raise GatewayConfigError(
                f"SPACEHUB_CARD_KEY: not set, and the key file {path} cannot be read "
                f"({exc.strerror or exc})"
            ) from None
        if len(key) < CARD_KEY_MIN:
            raise GatewayConfigError(
                f"SPACEHUB_CARD_KEY_FILE: {path} holds a key of under {CARD_KEY_MIN} characters"
            )
        return key


def settings_file(path: str | Path) -> dict[str, Any]:
    """The settings a gateway.toml (as `spacehub provision` writes it) gives: `site`,
    `instance` and its `[mqtt]` table, as GatewaySettings fields."""
    try:
        return program_file(path, top=("site", "instance"))
    except ConfigFileError as exc:
        raise GatewayConfigError(str(exc)) from None


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> GatewaySettings:
    """Settings from the environment, with the settings of `config_file` (a gateway.toml)
    and then `overrides` (e.g. the command line's `site`) on top; GatewayConfigError with
    one line naming the variable, option or file key on anything invalid, including a
    missing token or card key."""
    from_file = settings_file(config_file) if config_file is not None else {}
    try:
        settings = GatewaySettings(**{**from_file, **overrides})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        if field in overrides:
            key = f"--{field}"
        elif field in from_file:
            key = f"{config_file}: {field.replace('mqtt_', 'mqtt.', 1)}"
        else:
            key = f"SPACEHUB_{field.upper()}"
        raise GatewayConfigError(f"{key}: {err['msg'].removeprefix('Value error, ')}") from None
    settings.token()
    settings.resolve_card_key()
    return settings

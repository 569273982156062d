"""The server's one configuration object, from `SPACEHUB_` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol import topics
from protocol.fields import ConfigFileError, program_file
from protocol.files import private_file, write_private
from server.notify.smtp import smtp_target

DEFAULT_DATABASE_URL = "sqlite:///var/spacehub.db"


class Settings(BaseSettings):
    """Everything the server reads from its environment (see docs/api.md, Configuration)."""

    model_config = SettingsConfigDict(env_prefix="SPACEHUB_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_ca_file: str | None = None
    site_config: Path = Path("firmware_configs/sites/piaseczno.toml")
    admin_token: str | None = None
    gateway_token: str | None = None
    server_url: str = "http://127.0.0.1:8000"
    # the base of links in e-mails (a sign-in link) and on door panels
    public_url: str = "http://127.0.0.1:8000"
    # where mail goes: smtp://host:port, smtp+starttls://user:password@host:587 or
    # smtps://user:password@host:465; unset, mail is queued and shown to staff, never sent
    smtp_url: str | None = None
    # a Prometheus scraper's token for GET /metrics (which staff's tokens read too)
    metrics_token: str | None = Field(default=None, min_length=16)
    mail_from: str = "spacehub@localhost"
    card_key: str | None = Field(default=None, min_length=16)
    # The replica's id: its MQTT client ids and its sys/server/{instance}/status topic.
    instance: str = Field(default="main", pattern=r"^[a-z0-9_-]{1,32}$")
    # Several replicas (on PostgreSQL): each message of the door path and the sensors goes
    # to one of them, through MQTT shared subscriptions (Mosquitto 2; not the demo's
    # embedded broker). Off, the one server subscribes plainly.
    shared_subscriptions: bool = False

    @field_validator(
        "card_key", "admin_token", "gateway_token", "smtp_url", "metrics_token", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is not None:
            smtp_target(value)  # a clear error at start, not at the first mail
        return value

    def subscription(self, filter_: str) -> str:
        """How the server's consumers subscribe to `filter_`: shared when several replicas
        split the stream (`shared_subscriptions`), else plainly."""
        return topics.shared(filter_) if self.shared_subscriptions else filter_

    def sqlite_path(self) -> Path | None:
        """The database file, for a SQLite URL."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix) :])
        return None

    def resolve_card_key(self) -> str:
        """`SPACEHUB_CARD_KEY`, else a key kept in a file beside the database (made once)."""
        if self.card_key:
            return self.card_key
        db = self.sqlite_path() or Path(DEFAULT_DATABASE_URL.removeprefix("sqlite:///"))
        path = db.parent / "card.key"
        if path.exists():
            private_file(path)  # an older version's may be readable by others
        else:
            write_private(path, (secrets.token_hex(32) + "\n").encode())
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()


class SettingsFileError(ValueError):
    """A `--config` file that cannot be read; the message names the file, the key and why."""


def settings_file(path: str | Path) -> dict[str, Any]:
    """The Settings fields a server.toml (as `spacehub provision` writes it) gives: its
    `[mqtt]` table, `instance` and `shared_subscriptions`. Passed as
    `Settings(**fields)`, they take precedence over the environment, which gives
    everything else.

    >>> Settings(**settings_file("/etc/spacehub/server.toml")).mqtt_username  # doctest: +SKIP
    'piaseczno.server.main'
    """
    try:
        return program_file(path, top=("instance", "shared_subscriptions"))
    except ConfigFileError as exc:
        raise SettingsFileError(str(exc)) from None

"""Door panels' words (`/panel/...`) in Ukrainian (server.notify.texts.panel).

The keys and placeholders are those of the other languages' panel tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {}

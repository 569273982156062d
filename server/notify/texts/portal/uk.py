"""Member portal's words (`/me/...`) in Ukrainian (server.notify.texts.portal).

The keys and placeholders are those of the other languages' portal tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {}

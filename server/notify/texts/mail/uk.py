"""Words of e-mails to members and staff in Ukrainian (server.notify.texts.mail).

The keys and placeholders are those of the other languages' mail tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {}

"""The dashboard's share of the text catalogue (server.notify.texts): what the page's
script needs to word live changes without a round trip."""

from __future__ import annotations

from server.notify.texts import CATALOGUE, pick


def client_strings(lang: str) -> dict[str, str]:
    """What the page's script needs: the live status, confirmations and outcomes."""
    prefixes = ("live.", "confirm.", "done.", "failed", "error.", "signin.submit")
    return {k: v for k, v in CATALOGUE[pick(lang)].items() if k.startswith(prefixes)}

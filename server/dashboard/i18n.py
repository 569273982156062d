"""The dashboard's languages, Polish (the site's locale, the default), English and
Ukrainian, and the words for a key in each (the tables are in `words`).

>>> t("en", "state.in_use_unbooked")
'In use without booking'
"""

from __future__ import annotations

from typing import Final

from server.dashboard.words import STRINGS

LANGS: Final = ("pl", "en", "uk")
DEFAULT: Final = "pl"
LANG_NAMES: Final = {"pl": "Polski", "en": "English", "uk": "Українська"}


def pick(lang: str | None) -> str:
    """The language to use: `lang` when the dashboard speaks it, else Polish."""
    return lang if lang in LANGS else DEFAULT


def t(lang: str, key: str, **values: object) -> str:
    """The words for `key` in `lang` (Polish when missing there, the key itself when
    unknown), with `{placeholders}` filled."""
    text = STRINGS.get(lang, {}).get(key) or STRINGS[DEFAULT].get(key) or key
    return text.format(**values) if values else text


def known(key: str) -> bool:
    """True when the dashboard has words for `key`."""
    return key in STRINGS[DEFAULT]


def client_strings(lang: str) -> dict[str, str]:
    """What the page's script needs: the live status, confirmations and outcomes."""
    prefixes = ("live.", "confirm.", "done.", "failed", "signin.submit")
    return {k: v for k, v in STRINGS[pick(lang)].items() if k.startswith(prefixes)}

"""Every text a member or a receptionist reads, in one catalogue per language: `pl` (the
default), `en` and `uk`, each a table keyed by message id (`pl.TEXTS`, ...) joined with
the reception desk's (`reception.pl.TEXTS`, ..., continued in `desk`), the member
portal's (`portal`), the e-mails' (`mail`) and the door panels' (`panel`). Pages use their
keys (`state.free`, `action.unlock`, ...); a notice to a member is `notice.<kind>`.

Every language has every key with the same placeholders (a test checks). Placeholders
are named and may carry a format spec, so each language writes a date its own way
(`{start:%d.%m.%Y}`, `{start:%Y-%m-%d}`); a `Phrase` among the values is put into words
in the same language.

>>> text("en", "state.in_use_unbooked")
'In use without booking'
>>> from datetime import datetime
>>> text("uk", "notice.released_by_staff", room="Sala A",
...      start=datetime(2026, 3, 2, 11, 0), end=datetime(2026, 3, 2, 13, 0))
'Персонал зняв ваше бронювання зали Sala A (02.03.2026, 11:00–13:00). Неявку не зараховано.'
>>> text("pl", "notice.booking_suspended", count=3, window=last_period(30 * 86400),
...      until=datetime(2026, 3, 16, 10, 0))[:40]
'Po 3 nieobecnościach w ciągu ostatnich 3'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from server.notify.texts import en, pl, uk
from server.notify.texts.desk import en as more_en
from server.notify.texts.desk import pl as more_pl
from server.notify.texts.desk import uk as more_uk
from server.notify.texts.mail import en as mail_en
from server.notify.texts.mail import pl as mail_pl
from server.notify.texts.mail import uk as mail_uk
from server.notify.texts.panel import en as panel_en
from server.notify.texts.panel import pl as panel_pl
from server.notify.texts.panel import uk as panel_uk
from server.notify.texts.portal import en as portal_en
from server.notify.texts.portal import pl as portal_pl
from server.notify.texts.portal import uk as portal_uk
from server.notify.texts.reception import en as desk_en
from server.notify.texts.reception import pl as desk_pl
from server.notify.texts.reception import uk as desk_uk
from server.site import LANGUAGES, Language

DEFAULT: Final[Language] = "pl"
LANGS: Final = LANGUAGES
# Each language's own name, the same on every page.
LANG_NAMES: Final = {"pl": "Polski", "en": "English", "uk": "Українська"}


def _joined(*tables: dict[str, str]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for table in tables:
        if twice := joined.keys() & table.keys():
            raise ValueError(f"texts given twice: {sorted(twice)}")
        joined.update(table)
    return joined


CATALOGUE: Final[dict[str, dict[str, str]]] = {
    "pl": _joined(
        pl.TEXTS, desk_pl.TEXTS, portal_pl.TEXTS, mail_pl.TEXTS, panel_pl.TEXTS, more_pl.TEXTS
    ),
    "en": _joined(
        en.TEXTS, desk_en.TEXTS, portal_en.TEXTS, mail_en.TEXTS, panel_en.TEXTS, more_en.TEXTS
    ),
    "uk": _joined(
        uk.TEXTS, desk_uk.TEXTS, portal_uk.TEXTS, mail_uk.TEXTS, panel_uk.TEXTS, more_uk.TEXTS
    ),
}


@dataclass(frozen=True)
class Phrase:
    """Words from the catalogue inside another text, put in the same language."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


def pick(lang: str | None) -> Language:
    """`lang` when the catalogue has it, else Polish."""
    return lang if lang in LANGS else DEFAULT  # type: ignore[return-value]


def known(key: str) -> bool:
    """True when the catalogue has a text for `key`."""
    return key in CATALOGUE[DEFAULT]


def text(lang: str, key: str, **params: object) -> str:
    """The text for `key` in `lang` (Polish when missing there, the key itself when
    unknown), with its `{placeholders}` filled from `params`."""
    template = CATALOGUE.get(lang, {}).get(key) or CATALOGUE[DEFAULT].get(key) or key
    if not params:
        return template
    values = {
        name: text(lang, value.key, **value.params) if isinstance(value, Phrase) else value
        for name, value in params.items()
    }
    return template.format(**values)


def last_period(seconds: float) -> Phrase:
    """A period that ends now, in words: `ostatnich 30 dni`, `the last 12 h`."""
    days, hours = seconds / 86400, seconds / 3600
    if days == 1:
        return Phrase("period.last_day")
    if days >= 1 and days == int(days):
        return Phrase("period.last_days", {"n": int(days)})
    if hours >= 1 and hours == int(hours):
        return Phrase("period.last_hours", {"n": int(hours)})
    return Phrase("period.last_minutes", {"n": round(seconds / 60)})

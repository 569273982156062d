"""The text catalogue: every key in every language with the same placeholders, the
lookup and its fallbacks, phrases, notices in each language, and the site's language."""

from __future__ import annotations

import string
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from server.notify import texts
from server.notify.texts import CATALOGUE, DEFAULT, LANGS, Phrase, last_period, text
from server.site import LANGUAGES, SiteConfig, SiteConfigError, load_site

SITE_FILE = Path(__file__).resolve().parents[2] / "firmware_configs/sites/piaseczno.toml"
WARSAW = timezone(timedelta(hours=1))


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_catalogue_has_the_sites_languages() -> None:
    assert tuple(CATALOGUE) == LANGS == LANGUAGES == ("pl", "en", "uk")
    assert DEFAULT == "pl"


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_every_key_with_the_same_placeholders(lang: str) -> None:
    polish = CATALOGUE[DEFAULT]
    table = CATALOGUE[lang]
    assert set(table) == set(polish)
    for key, template in table.items():
        assert template.strip(), key
        assert fields(template) == fields(polish[key]), key


def test_the_languages_are_not_copies_of_each_other() -> None:
    for key in ("notice.released", "notice.offer", "state.free", "period.last_days"):
        assert len({CATALOGUE[lang][key] for lang in LANGS}) == 3, key


def test_lookup_falls_back_to_polish_then_to_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert text("uk", "state.free") == "Вільна"
    assert text("de", "state.free") == "Wolna"
    monkeypatch.delitem(CATALOGUE["uk"], "state.free")
    assert text("uk", "state.free") == "Wolna"
    assert text("en", "no.such.key") == "no.such.key"
    assert text("uk", "room.people_of", people=3, capacity=12) == "3 з 12"
    assert texts.pick("uk") == "uk" and texts.pick("de") == "pl" and texts.pick(None) == "pl"


@pytest.mark.parametrize(
    ("seconds", "pl", "en", "uk"),
    [
        (30 * 86400, "ostatnich 30 dni", "the last 30 days", "останніх 30 днів"),
        (86400, "ostatniej doby", "the last day", "останньої доби"),
        (36 * 3600, "ostatnich 36 godz.", "the last 36 h", "останніх 36 год"),
        (90 * 60, "ostatnich 90 min", "the last 90 min", "останніх 90 хв"),
    ],
)
def test_a_period_in_words(seconds: float, pl: str, en: str, uk: str) -> None:
    period = last_period(seconds)
    assert [text(lang, period.key, **period.params) for lang in LANGS] == [pl, en, uk]


def test_a_phrase_is_worded_in_the_language_of_its_text() -> None:
    until = datetime(2026, 3, 16, 10, 0, tzinfo=WARSAW)
    params = {"count": 3, "window": Phrase("period.last_days", {"n": 30}), "until": until}
    assert text("en", "notice.booking_suspended", **params) == (
        "After 3 no-shows in the last 30 days you may not book rooms until 2026-03-16 10:00. "
        "Your cards and memberships still open doors."
    )
    assert text("uk", "notice.booking_suspended", **params) == (
        "Після 3 неявок протягом останніх 30 днів ви не можете бронювати зали до "
        "16.03.2026 10:00. Ваші картки та членство й далі відчиняють двері."
    )


def test_every_notice_is_worded_in_every_language() -> None:
    """Each notice with the values its domain gives it: every format spec fits its value."""
    start = datetime(2026, 3, 2, 11, 0, tzinfo=WARSAW)
    values = {
        "room": "Sala A",
        "start": start,
        "end": start + timedelta(hours=2),
        "release_at": start + timedelta(minutes=15),
        "until": start + timedelta(days=14),
        "count": 1,
        "limit": 3,
        "window": last_period(30 * 86400),
        "span": "02.03 13:00–15:00",
        "by": "10:10",
    }
    notices = [key for key in CATALOGUE[DEFAULT] if key.startswith("notice.")]
    assert len(notices) == 5
    for lang in LANGS:
        for key in notices:
            worded = text(lang, key, **{f: values[f] for f in fields(CATALOGUE[lang][key])})
            assert "{" not in worded and "%" not in worded, (lang, key)


def test_the_sites_language_is_its_locales() -> None:
    site = load_site(SITE_FILE)
    assert site.site.language == "pl"
    data = tomllib.loads(SITE_FILE.read_text(encoding="utf-8"))
    for locale, language in (("uk-UA", "uk"), ("en_GB", "en"), ("PL", "pl")):
        data["site"]["locale"] = locale
        assert SiteConfig.model_validate(data).site.language == language


def test_a_locale_in_a_language_without_texts_is_refused(tmp_path: Path) -> None:
    source = SITE_FILE.read_text(encoding="utf-8").replace('locale = "pl"', 'locale = "de-DE"')
    path = tmp_path / "site.toml"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(SiteConfigError, match="site.locale"):
        load_site(path)

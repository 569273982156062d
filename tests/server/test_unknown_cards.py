"""The recent unknown cards per reader: a handful each, for a few minutes, newest first."""

from __future__ import annotations

from datetime import timedelta

from support.clock import EPOCH

from server.access.unknown_cards import RecentUnknownCards


def test_the_newest_after_the_page_was_opened_at_that_reader_only() -> None:
    recent = RecentUnknownCards()
    recent.add("reader-main", "a" * 64, at=EPOCH)
    recent.add("reader-main", "b" * 64, at=EPOCH + timedelta(seconds=5))
    recent.add("reader-sala-a", "c" * 64, at=EPOCH + timedelta(seconds=6))
    now = EPOCH + timedelta(seconds=10)
    seen = recent.latest("reader-main", since=EPOCH, now=now)
    assert seen is not None and seen.card_hash == "b" * 64
    assert recent.latest("reader-main", since=EPOCH + timedelta(seconds=5), now=now) is None
    assert recent.latest("reader-sala-b", since=EPOCH - timedelta(hours=1), now=now) is None


def test_kept_a_few_minutes_and_a_handful_per_reader() -> None:
    recent = RecentUnknownCards(per_reader=3, keep=timedelta(minutes=5))
    for n in range(5):
        recent.add("reader-main", f"{n}" * 64, at=EPOCH + timedelta(seconds=n))
    now = EPOCH + timedelta(seconds=10)
    assert recent.find("reader-main", "0" * 64, now=now) is None  # pushed out
    assert recent.find("reader-main", "2" * 64, now=now) is not None
    later = EPOCH + timedelta(minutes=5, seconds=3)
    assert recent.find("reader-main", "2" * 64, now=later) is None  # too old
    assert recent.find("reader-main", "4" * 64, now=later) is not None


def test_an_enrolled_card_is_offered_no_more() -> None:
    recent = RecentUnknownCards()
    recent.add("reader-main", "a" * 64, at=EPOCH)
    recent.taken("a" * 64)
    assert recent.latest("reader-main", since=EPOCH - timedelta(seconds=1), now=EPOCH) is None

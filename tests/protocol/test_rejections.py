"""protocol.rejections: messages not applied, counted per (device, reason) and logged at
most once a minute per key, on a clock the test moves."""

from __future__ import annotations

import threading

from support.clock import MonotonicClock

from protocol.rejections import LOG_EVERY_S, Counted, LogEvery, Tally


def test_a_key_is_due_at_first_then_once_a_minute_with_the_quiet_ones_counted() -> None:
    clock = MonotonicClock()
    logs = LogEvery(LOG_EVERY_S, clock)
    assert logs.due("db") == (True, 0)
    answers = [logs.due("db") for _ in range(5)]
    assert answers == [(False, 0)] * 5
    assert logs.due("other") == (True, 0)  # each key has its own minute
    clock.advance(LOG_EVERY_S - 0.5)
    assert logs.due("db") == (False, 0)
    clock.advance(0.5)
    assert logs.due("db") == (True, 6)
    assert logs.due("db", now=clock() + LOG_EVERY_S) == (True, 0)  # an explicit now


def test_log_every_forgets_its_keys_rather_than_grow_past_its_bound() -> None:
    clock = MonotonicClock()
    logs = LogEvery(LOG_EVERY_S, clock, max_keys=3)
    for key in "abc":
        assert logs.due(key) == (True, 0)
    assert logs.due("a") == (False, 0)
    assert logs.due("d") == (True, 0)  # the fourth key: the three are forgotten
    assert logs.due("a") == (True, 0)


def test_a_tally_counts_per_device_and_reason_and_paces_per_device() -> None:
    clock = MonotonicClock()
    tally = Tally(clock=clock)
    assert tally.add("reader-main", "invalid") == Counted("reader-main", True, 0)
    assert tally.add("reader-main", "bad_topic") == Counted("reader-main", False, 0)
    assert tally.add("reader-side", "invalid") == Counted("reader-side", True, 0)
    clock.advance(LOG_EVERY_S)
    assert tally.add("reader-main", "invalid") == Counted("reader-main", True, 1)
    assert tally.counts() == {
        ("reader-main", "invalid"): 2,
        ("reader-main", "bad_topic"): 1,
        ("reader-side", "invalid"): 1,
    }
    assert tally.total() == 4
    assert tally.total(reason="invalid") == 3
    assert tally.total(device="reader-main") == 3
    assert tally.total(device="reader-main", reason="bad_topic") == 1


def test_a_tally_paced_per_reason_logs_each_reason_of_one_device() -> None:
    tally = Tally(per_reason=True)
    assert tally.add("reader-main", "invalid", now=0.0).due
    assert tally.add("reader-main", "bad_topic", now=1.0).due
    assert not tally.add("reader-main", "invalid", now=59.0).due
    assert tally.add("reader-main", "invalid", now=60.0) == Counted("reader-main", True, 1)


def test_junk_naming_ever_new_devices_is_counted_together_past_the_bound() -> None:
    tally = Tally(clock=MonotonicClock(), max_devices=3, others="*others*")
    counted = [tally.add(f"d{i}", "bad_topic") for i in range(10)]
    assert [c.device for c in counted] == ["d0", "d1", "d2"] + ["*others*"] * 7
    assert [c.due for c in counted] == [True] * 4 + [False] * 6  # others: one key
    assert tally.add("d1", "invalid").device == "d1"  # a device already named keeps its name
    assert tally.counts() == {
        ("d0", "bad_topic"): 1,
        ("d1", "bad_topic"): 1,
        ("d2", "bad_topic"): 1,
        ("*others*", "bad_topic"): 7,
        ("d1", "invalid"): 1,
    }


def test_a_tally_counts_every_message_of_many_threads() -> None:
    tally = Tally(clock=MonotonicClock())

    def flood(device: str) -> None:
        for _ in range(2000):
            tally.add(device, "invalid")

    threads = [threading.Thread(target=flood, args=(f"d{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tally.total() == 8000
    assert tally.counts() == {(f"d{i}", "invalid"): 2000 for i in range(4)}

"""Durations as people write them: 90s, 15m, 2h, 1h30m, 500ms, bare seconds."""

from __future__ import annotations

import pytest

from protocol.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1d", 86400.0),
        ("1.5h", 5400.0),
        ("2m30s", 150.0),
        ("1h0m5s", 3605.0),
        ("0s", 0.0),
        (" 15M ", 900.0),
        ("90", 90.0),
        ("2.5", 2.5),
        ("0", 0.0),
    ],
)
def test_parse_text(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("value", "seconds"), [(90, 90.0), (2.5, 2.5), (0, 0.0)])
def test_parse_bare_numbers(value: float, seconds: float) -> None:
    result = parse_duration(value)
    assert result == seconds and isinstance(result, float)


@pytest.mark.parametrize(
    "junk",
    ["", " ", "5x", "m", "-5s", "-5", "5 m", "1h 30m", "s5", "5s!", "1.s", ".5s", "5mss",
     "abc", "1e3", "٣s", "٣"],
)  # fmt: skip
def test_parse_rejects_junk(junk: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(junk)


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), True, False])
def test_parse_rejects_bad_numbers(value: float) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (7200, "2h"),
        (900, "15m"),
        (90, "90s"),
        (5400, "90m"),
        (0.5, "0.5s"),
        (0, "0s"),
        (86400, "1d"),
        (90 * 86400, "90d"),
        (36 * 3600, "36h"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds

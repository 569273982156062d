"""`make bench` at tiny sizes (`bench/report.py --quick`): every script runs, and the one
table in results.md has a row for every figure issue 12 asks for, each with a value and,
where it has a target, whether it holds. Behaviour only: no figure is judged here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.database import sqlite_only

from spacehub.broker import mosquitto_path

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed"),
    # bench/ makes its own SQLite files whatever the suite's database: once is enough
    sqlite_only("bench/ runs on databases of its own"),
]

ROOT = Path(__file__).resolve().parent.parent

# Each a pattern that some row's measure must begin with.
ROWS = [
    r"tap → decision, mosquitto, .* sequential p50",
    r"tap → decision, mosquitto, .* sequential p99",
    r"tap → decision, mosquitto, 20 doors × 5/s .* p99",
    r"tap → decision, embedded, .* sequential p99",
    r"tap → decision, embedded, 20 doors × 5/s .* p99",
    r"tap → decision, mosquitto, .* sensor events/s p99",
    r"tap → decision, mosquitto, sweep over .* bookings p99",
    r"gateway tap → decision, server down, mosquitto, .* p99",
    r"gateway tap → decision, server down, embedded, .* p99",
    r"sensor ingest, .* Count events committed, .*",
    r"release lag after grace, .* bookings, max",
    r"availability of a room over 7 days, .* p99",
    r"policy snapshot, .*: size",
    r"policy snapshot, .*: rebuild",
    r"door controller RSS",
    r"sensor program RSS",
    r"server RSS, .* members, .* bookings",
    r"full garbage-collector pass, server, .* members, .* bookings",
    r"sensor event → .* dashboard streams .* p95",
    r"known card's tap during .* junk taps .* p99",
]


def table_rows(text: str) -> dict[str, list[str]]:
    """The table's rows by measure: [value, baseline, ratio, target, holds]."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("measure", "---"):
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.timeout(900)
def test_make_bench_quick_writes_one_table_with_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, "bench/report.py", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = out.read_text()
    assert "Machine:" in text and "Python" in text and "Brokers:" in text
    rows = table_rows(text)
    for pattern in ROWS:
        assert any(re.match(pattern, m) for m in rows), f"no row {pattern!r} in:\n{text}"
    for measure, (value, _base, ratio, target, holds) in rows.items():
        assert re.match(r"^[\d,.]+ ", value), f"{measure}: no value ({value!r})"
        assert (holds in ("yes", "**no**")) == bool(target), f"{measure}: target {target!r}"
        if ratio:
            assert ratio.endswith("×")
    assert text.count("| measure |") == 1

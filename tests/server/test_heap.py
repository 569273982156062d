"""`spacehub server`'s allocator setting (server.heap.bound_allocator): a large block freed
goes back to the system, where glibc's own setting keeps it once a larger one was freed
before (as after every answer of a big policy snapshot). Each case runs in a new
interpreter, since the setting is the process's."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="glibc's allocator is the one set"
)

# Prints how many MB stay resident after a block of 8 MB is freed, the first block of
# 16 MB having been freed before it; `bound` calls bound_allocator() first.
KEPT_AFTER_FREE = """
import sys
from server.heap import bound_allocator

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

if sys.argv[1] == "bound":
    assert bound_allocator()
first = bytearray(16 << 20)
del first
before = rss_mb()
block = bytearray(8 << 20)
after_it = bytearray(1024)  # allocated after the block, so the block is not the heap's top
block[:] = b"x" * len(block)
del block
print(rss_mb() - before)
"""


def kept_mb(setting: str) -> float:
    run = subprocess.run(
        [sys.executable, "-c", KEPT_AFTER_FREE, setting],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(run.stdout)


def test_a_large_block_freed_goes_back_to_the_system():
    assert kept_mb("bound") < 2


def test_without_the_setting_the_same_block_stays_resident():
    """The case above is one the setting changes: glibc's own keeps the block."""
    assert kept_mb("default") > 6

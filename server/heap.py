"""The memory of a process that serves the app until it exits (`spacehub server`): how its
allocator hands memory back (`bound_allocator`, before its threads start), and which of
its objects the garbage collector leaves alone (`settle_heap`, once the app is made).
README, "Performance", has what each does to its figures."""

from __future__ import annotations

import ctypes
import gc

# glibc's mallopt(3) parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept from then on


def bound_allocator() -> bool:
    """Set glibc's allocator so that what the server frees goes back to the system; whether
    it could (False with another C library, which keeps its own ways).

    By default glibc gives each thread that meets contention an arena of its own (up to
    eight a core), and memory freed in one stays with it; the server's threads (paho's,
    the inbox's, the HTTP workers', the snapshot builder's) each leave some behind. And a
    block of 128 KiB or more is mapped on its own and unmapped when freed, until the first
    such block is freed: glibc then raises that threshold to the block's size, so every
    later answer of the policy snapshot (megabytes of JSON) is carved from the heap, where
    it stays once freed. Two arenas, and the threshold kept where it starts."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, ARENAS)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def settle_heap() -> None:
    """Keep what exists now (the modules, the app, the ORM's mappings, the site) out of the
    garbage collector's full passes for the rest of the process. It lives as long as the
    process, and a full pass walks every object it tracks while every thread waits, the
    door path's included: a pass over a server holding 10,000 members and a week of
    bookings then takes a few milliseconds rather than a tenth of a second. A cycle among
    what is kept is never freed."""
    gc.collect()
    gc.freeze()

"""The gateway's copy of the policy snapshot: fetched over HTTP, kept in memory and on disk.

>>> store = SnapshotStore(Path("var/gateway"))  # doctest: +SKIP
>>> fetcher = PolicyFetcher("http://127.0.0.1:8000", "piaseczno", token)  # doctest: +SKIP
>>> fetcher.refresh(store, now=utcnow())  # doctest: +SKIP
'fresh'
>>> store.current.snapshot.n, store.current.fetched_at  # doctest: +SKIP
(42, datetime.datetime(2026, 11, 30, 11, 0, tzinfo=datetime.timezone.utc))

It asks for the snapshot's compact form (`?v=2`) and keeps that form on disk; an older
server, which leaves the query out of account, sends the full form, read just as well
(protocol.policy_wire).

`fetched_at` is when the server last confirmed the snapshot (a 200 or a 304), by the
gateway's clock; the snapshot's own `generated_at` is when the server built it. The
gateway's staleness is measured from `fetched_at`: a snapshot the server keeps confirming
is current however long ago it was built.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from protocol.files import FILE_MODE, private_dir, write_private
from protocol.messages import UtcTime
from protocol.policy import PolicySnapshot
from protocol.policy_wire import COMPACT, decode, from_wire, to_wire

log = logging.getLogger(__name__)

FILENAME = "policy.json"


class FetchError(Exception):
    """The server could not be asked, or answered with something other than a snapshot."""


@dataclass(frozen=True)
class HeldSnapshot:
    """A snapshot as the gateway holds it: with the ETag it came with and when the server
    last confirmed it."""

    snapshot: PolicySnapshot
    etag: str
    fetched_at: datetime

    @property
    def version(self) -> tuple[str, int]:
        return self.snapshot.epoch, self.snapshot.n


class _OnDisk(BaseModel):
    v: int = 1
    etag: str = ""
    fetched_at: UtcTime
    # In either wire form: the compact one since it exists, the full one before.
    snapshot: dict[str, Any]


def newer(candidate: tuple[str, int], held: tuple[str, int] | None) -> bool:
    """Whether version `candidate` should replace `held`: nothing held, another epoch (a
    new database: its counter starts again), or a higher `n` of the same epoch."""
    return held is None or candidate[0] != held[0] or candidate[1] > held[1]


class SnapshotStore:
    """The newest snapshot in memory, mirrored atomically to `data_dir/policy.json`.

    Thread-safe: the fetch worker writes while the decision thread reads `current`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILENAME
        self._lock = threading.Lock()
        self._held: HeldSnapshot | None = None

    @property
    def current(self) -> HeldSnapshot | None:
        return self._held

    def load(self) -> HeldSnapshot | None:
        """Read the snapshot kept on disk (at start), making its folder 0700 and the file
        0600 (an older gateway left them readable to all); a missing or unreadable file
        leaves the store empty, and says so in the log."""
        try:
            private_dir(self.path.parent)
            data = self.path.read_bytes()
            os.chmod(self.path, FILE_MODE)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the policy snapshot %s: %s", self.path, exc)
            return None
        try:
            disk = _OnDisk.model_validate_json(data)
            snapshot = from_wire(disk.snapshot)
        except ValueError as exc:  # a pydantic ValidationError among them
            log.warning("ignoring the unreadable policy snapshot %s: %s", self.path, exc)
            return None
        held = HeldSnapshot(snapshot, disk.etag, disk.fetched_at)
        with self._lock:
            self._held = held
        return held

    def offer(self, snapshot: PolicySnapshot, etag: str, fetched_at: datetime) -> bool:
        """Keep a snapshot the server just sent, unless the one held is newer (see
        `newer`); the same version is kept too (it may carry a moved booking window).
        Returns whether it was kept."""
        with self._lock:
            held = self._held
            version = (snapshot.epoch, snapshot.n)
            if held is not None and version != held.version and not newer(version, held.version):
                return False
            self._save(HeldSnapshot(snapshot, etag, fetched_at))
            return True

    def confirm(self, etag: str, fetched_at: datetime) -> bool:
        """The server answered 304 for `etag`: the held snapshot is current as of
        `fetched_at`. False when what is held no longer has that ETag."""
        with self._lock:
            held = self._held
            if held is None or held.etag != etag:
                return False
            self._save(replace(held, fetched_at=fetched_at))
            return True

    def _save(self, held: HeldSnapshot) -> None:
        """Write, flush and rename over the old file, so a power cut leaves the old or the
        new snapshot, never half of one; memory follows even if the disk fails. The file
        holds card hashes: 0600 in a 0700 folder."""
        self._held = held
        snapshot = to_wire(held.snapshot, COMPACT)
        disk = _OnDisk(etag=held.etag, fetched_at=held.fetched_at, snapshot=snapshot)
        try:
            write_private(self.path, disk.model_dump_json().encode())
            _fsync_dir(self.path.parent)
        except OSError as exc:
            log.error("cannot keep the policy snapshot on disk at %s: %s", self.path, exc)


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is; not possible everywhere.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


FetchOutcome = Literal["fresh", "unchanged", "older"]


class PolicyFetcher:
    """`GET /api/sites/{site}/policy?v=2` with the gateway's token and `If-None-Match`.

    `http` is any `httpx.Client` (a test passes one with a mock transport, or a
    TestClient); by default one is made for `server_url`."""

    def __init__(
        self,
        server_url: str,
        site: str,
        token: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.site = site
        self.url = f"{server_url.rstrip('/')}/api/sites/{site}/policy?v={COMPACT}"
        self._token = token
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def refresh(self, store: SnapshotStore, *, now: datetime) -> FetchOutcome:
        """Ask the server for a snapshot newer than the one `store` holds and keep it;
        `now` (the gateway's clock) becomes its `fetched_at`. Raises FetchError."""
        held = store.current
        headers = {"Authorization": f"Bearer {self._token}"}
        if held is not None and held.etag:
            headers["If-None-Match"] = held.etag
        try:
            response = self._http.get(self.url, headers=headers)
        except httpx.HTTPError as exc:
            raise FetchError(f"GET {self.url}: {exc.__class__.__name__}: {exc}") from None
        etag = response.headers.get("etag", "")
        if response.status_code == 304 and held is not None:
            if store.confirm(held.etag, now):
                return "unchanged"
            # The held snapshot changed while we asked: ask again next time.
            return "older"
        if response.status_code != 200:
            raise FetchError(f"GET {self.url}: HTTP {response.status_code} {response.text[:200]}")
        try:
            snapshot = decode(response.content)
        except ValueError as exc:  # a pydantic ValidationError among them
            raise FetchError(f"GET {self.url}: not a policy snapshot: {exc}") from None
        if snapshot.site != self.site:
            raise FetchError(f"GET {self.url}: a snapshot of site {snapshot.site!r}")
        return "fresh" if store.offer(snapshot, etag, now) else "older"

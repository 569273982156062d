"""The gateway's snapshot store (memory and disk) and its HTTP fetch with an ETag."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from gatewire import MONDAY_NOON, SITE

from gateway.snapshot import FetchError, PolicyFetcher, SnapshotStore, newer
from protocol.policy import (
    BookingPolicy,
    CardPolicy,
    DoorPolicy,
    MemberPolicy,
    PolicySnapshot,
)
from protocol.policy_wire import COMPACT, encode


def snap(epoch: str = "e1", n: int = 1, *, site: str = SITE) -> PolicySnapshot:
    return PolicySnapshot(
        site=site,
        epoch=epoch,
        n=n,
        generated_at=MONDAY_NOON,
        timezone="Europe/Warsaw",
        doors={"reader-main": DoorPolicy(id="main", room="building", kind="entrance")},
    )


def test_kept_snapshot_is_loaded_by_a_new_store(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.load() is None and store.current is None
    assert store.offer(snap(n=3), '"e1-3"', MONDAY_NOON)

    again = SnapshotStore(tmp_path)
    held = again.load()
    assert held is not None
    assert (held.snapshot, held.etag, held.fetched_at) == (snap(n=3), '"e1-3"', MONDAY_NOON)
    assert held.version == ("e1", 3)


def test_write_is_atomic_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SnapshotStore(tmp_path)
    store.offer(snap(n=1), '"e1-1"', MONDAY_NOON)
    before = store.path.read_bytes()

    def power_cut(src: str, dst: str) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", power_cut)
    store.offer(snap(n=2), '"e1-2"', MONDAY_NOON)
    # The file still holds the old snapshot whole; memory has the new one.
    assert store.path.read_bytes() == before
    assert store.current is not None and store.current.version == ("e1", 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.json"]
    monkeypatch.undo()

    store.offer(snap(n=3), '"e1-3"', MONDAY_NOON)
    assert json.loads(store.path.read_text())["snapshot"]["n"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.json"]


def test_newest_version_wins_and_another_epoch_replaces(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.offer(snap("e1", 5), "a", MONDAY_NOON)
    assert not store.offer(snap("e1", 4), "b", MONDAY_NOON)  # a late answer: older
    assert store.current is not None and store.current.version == ("e1", 5)
    assert store.offer(snap("e1", 5), "c", MONDAY_NOON)  # same version, rebuilt: kept
    assert store.offer(snap("e1", 6), "d", MONDAY_NOON)
    assert store.offer(snap("e2", 1), "e", MONDAY_NOON)  # a new database starts again
    assert SnapshotStore(tmp_path).load().version == ("e2", 1)

    assert newer(("e1", 1), None)
    assert newer(("e1", 2), ("e1", 1)) and not newer(("e1", 1), ("e1", 1))
    assert newer(("e0", 0), ("e1", 9))


def test_confirm_moves_fetched_at_on_disk_too(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.offer(snap(), '"t"', MONDAY_NOON)
    later = MONDAY_NOON + timedelta(hours=2)
    assert not store.confirm('"other"', later)
    assert store.confirm('"t"', later)
    assert SnapshotStore(tmp_path).load().fetched_at == later


@pytest.mark.parametrize(
    "text",
    [
        '{"snapshot": {"site": ',
        '{"fetched_at": "2026-11-30T11:00:00Z", "snapshot": {"v": 2, "site": "x", "members": []}}',
        '{"fetched_at": "2026-11-30T11:00:00Z", "snapshot": {"v": 7, "site": "x"}}',
    ],
    ids=["cut-short", "bad-compact", "unknown-form"],
)
def test_unreadable_file_leaves_the_store_empty(tmp_path: Path, text: str) -> None:
    (tmp_path / "policy.json").write_text(text)
    assert SnapshotStore(tmp_path).load() is None


def with_people(n: int = 1) -> PolicySnapshot:
    """A snapshot with a member, their cards and a booking, off the whole second."""
    start = MONDAY_NOON + timedelta(hours=1, milliseconds=5)
    return snap(n=n).model_copy(
        update={
            "members": {7: MemberPolicy(category="ngo", suspended_until=start)},
            "cards": {"ab" * 32: CardPolicy(member_id=7),
                      "cd" * 32: CardPolicy(member_id=7, active=False)},
            "bookings": [BookingPolicy(id=1, room="building", member_id=7, attendees=(8,),
                                       start=start, end=start + timedelta(hours=1),
                                       status="booked")],
        }
    )  # fmt: skip


def test_the_snapshot_is_kept_in_its_compact_form(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.offer(with_people(), '"e1-1"', MONDAY_NOON)
    kept = json.loads(store.path.read_text())
    assert kept["snapshot"]["v"] == COMPACT
    assert kept["snapshot"]["cards"]["cd" * 32] == [7, False]
    held = SnapshotStore(tmp_path).load()
    assert held is not None and held.snapshot == with_people()


def test_an_older_gateway_s_file_is_read(tmp_path: Path) -> None:
    """Before the compact form the file held the snapshot as the model dumps it."""
    older = {"v": 1, "etag": '"e1-4"', "fetched_at": "2026-11-30T11:00:00.000Z",
             "snapshot": with_people(4).model_dump(mode="json")}  # fmt: skip
    (tmp_path / "policy.json").write_text(json.dumps(older))
    held = SnapshotStore(tmp_path).load()
    assert held is not None
    assert (held.snapshot, held.etag, held.fetched_at) == (with_people(4), '"e1-4"', MONDAY_NOON)


def _fetcher(handler) -> PolicyFetcher:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return PolicyFetcher("http://server:8000/", SITE, "tok", http=http)


def test_fetch_sends_its_token_and_etag_and_a_304_confirms(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    body = snap(n=7).model_dump_json()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("if-none-match") == '"e1-7"':
            return httpx.Response(304, headers={"ETag": '"e1-7"'})
        return httpx.Response(200, content=body, headers={"ETag": '"e1-7"'})

    fetcher = _fetcher(handler)
    store = SnapshotStore(tmp_path)
    assert fetcher.refresh(store, now=MONDAY_NOON) == "fresh"
    later = MONDAY_NOON + timedelta(minutes=5)
    assert fetcher.refresh(store, now=later) == "unchanged"
    assert store.current is not None and store.current.fetched_at == later
    assert str(seen[0].url) == f"http://server:8000/api/sites/{SITE}/policy?v=2"
    assert seen[0].headers["authorization"] == "Bearer tok"
    assert "if-none-match" not in seen[0].headers
    assert seen[1].headers["if-none-match"] == '"e1-7"'


def test_fetch_reads_the_compact_form_it_asks_for(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        form = int(request.url.params.get("v", "1"))
        return httpx.Response(200, content=encode(with_people(9), form), headers={"ETag": '"t"'})

    store = SnapshotStore(tmp_path)
    assert _fetcher(handler).refresh(store, now=MONDAY_NOON) == "fresh"
    assert store.current is not None and store.current.snapshot == with_people(9)


@pytest.mark.parametrize(
    ("response", "why"),
    [
        (httpx.Response(401, json={"detail": "a valid bearer token is required"}), "401"),
        (httpx.Response(200, content=b"<html>"), "not a policy snapshot"),
        (httpx.Response(200, content=snap(site="elsewhere").model_dump_json()), "elsewhere"),
    ],
)
def test_fetch_refuses_what_is_not_our_snapshot(
    tmp_path: Path, response: httpx.Response, why: str
) -> None:
    store = SnapshotStore(tmp_path)
    with pytest.raises(FetchError, match=why):
        _fetcher(lambda request: response).refresh(store, now=MONDAY_NOON)
    assert store.current is None


def test_unreachable_server_is_a_fetch_error(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(FetchError, match="ConnectError"):
        _fetcher(refuse).refresh(SnapshotStore(tmp_path), now=MONDAY_NOON)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_snapshot_is_private_to_the_gateway(tmp_path: Path) -> None:
    """Card hashes and bookings: 0600 in a 0700 folder, whatever the umask."""
    old = os.umask(0o022)
    try:
        store = SnapshotStore(tmp_path / "var" / "gateway")
        store.load()
        assert _mode(tmp_path / "var" / "gateway") == 0o700
        store.offer(snap(n=1), '"e1-1"', MONDAY_NOON)
        assert _mode(store.path) == 0o600
        store.confirm('"e1-1"', MONDAY_NOON + timedelta(minutes=5))
        assert _mode(store.path) == 0o600
        assert sorted(p.name for p in store.path.parent.iterdir()) == ["policy.json"]
    finally:
        os.umask(old)


def test_an_older_gateway_s_readable_snapshot_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "gw"
    SnapshotStore(folder).offer(snap(n=2), '"e1-2"', MONDAY_NOON)
    folder.chmod(0o755)
    (folder / "policy.json").chmod(0o644)
    held = SnapshotStore(folder).load()
    assert held is not None and held.version == ("e1", 2)
    assert (_mode(folder), _mode(folder / "policy.json")) == (0o700, 0o600)


def test_a_started_gateway_keeps_its_data_private(system, make_gateway, tmp_path: Path) -> None:
    data = tmp_path / "gw-data"
    make_gateway(data_dir=data)
    kept = [data, *data.rglob("*")]
    assert {p.name: _mode(p) for p in kept} == {"gw-data": 0o700, "policy.json": 0o600}

"""`GET /api/sites/{site}/policy`: the snapshot the server decides from, with an ETag."""

from __future__ import annotations

from gatewire import ADMIN_TOKEN, CARDS, GATEWAY_TOKEN, KEY, SITE, Clock

from protocol.cards import card_hash
from protocol.policy import PolicySnapshot
from server.context import ServerContext
from server.db.meta import bump

PATH = f"/api/sites/{SITE}/policy"
GATEWAY = {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_gateway_gets_the_snapshot_the_server_decides_from(api, ctx: ServerContext) -> None:
    response = api.get(PATH, headers=GATEWAY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    snapshot = PolicySnapshot.model_validate_json(response.content)
    with ctx.reads() as session:
        assert snapshot == ctx.policy.get(session, ctx.clock())
    assert card_hash(KEY, CARDS["coworker"]) in snapshot.cards
    assert "Anna" not in response.text  # no names
    assert CARDS["staff"] not in response.text  # no raw card numbers
    epoch, n = snapshot.epoch, snapshot.n
    assert response.headers["etag"].startswith(f'"{epoch}-{n}-')


def test_admin_may_read_it_too(api) -> None:
    assert api.get(PATH, headers=ADMIN).status_code == 200


def test_without_a_valid_token_401(api) -> None:
    assert api.get(PATH).status_code == 401
    assert api.get(PATH, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_another_site_404(api) -> None:
    response = api.get("/api/sites/elsewhere/policy", headers=GATEWAY)
    assert response.status_code == 404
    assert "elsewhere" in response.json()["detail"]


def test_unchanged_snapshot_is_304_without_a_body(api) -> None:
    tag = api.get(PATH, headers=GATEWAY).headers["etag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        response = api.get(PATH, headers=GATEWAY | {"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
    assert api.get(PATH, headers=GATEWAY | {"If-None-Match": '"e-1-1"'}).status_code == 200


def test_a_change_gives_a_new_snapshot_and_tag(api, ctx: ServerContext) -> None:
    first = api.get(PATH, headers=GATEWAY)
    with ctx.writes() as s, s.begin():
        bump(s)
    response = api.get(PATH, headers=GATEWAY | {"If-None-Match": first.headers["etag"]})
    assert response.status_code == 200
    assert response.headers["etag"] != first.headers["etag"]
    before = PolicySnapshot.model_validate_json(first.content)
    assert PolicySnapshot.model_validate_json(response.content).n == before.n + 1


def test_hourly_rebuild_of_an_unchanged_policy_gets_a_new_tag(api, server_clock: Clock) -> None:
    """The rebuilt snapshot carries a booking window moved on: a gateway must get it."""
    first = api.get(PATH, headers=GATEWAY)
    server_clock.advance(hours=2)
    response = api.get(PATH, headers=GATEWAY | {"If-None-Match": first.headers["etag"]})
    assert response.status_code == 200
    snapshot = PolicySnapshot.model_validate_json(response.content)
    assert snapshot.generated_at == server_clock.now

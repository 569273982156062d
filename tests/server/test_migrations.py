"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from support.database import database_at, downgrade, empty_database, upgrade

from server.db.engine import make_engine, migrate
from server.db.models import Base


def test_migrations_match_the_models(tmp_path):
    engine = create_engine(empty_database(tmp_path / "m.db"))
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrating_twice_changes_nothing(tmp_path):
    engine = create_engine(empty_database(tmp_path / "m.db"))
    migrate(engine)
    migrate(engine)
    engine.dispose()


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_member_language_up_and_down(tmp_path):
    """0005 gives members so far Polish and messages so far no parameters; and undoes it."""
    engine = create_engine(database_at(tmp_path / "m.db", "0004"))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO members (id, name, category, created_at) "
                "VALUES (1, 'Anna', 'resident', '2026-03-02 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO notifications (member_id, kind, text_pl, text_en, created_at) "
                "VALUES (1, 'reminder', 'Przypomnienie', 'Reminder', '2026-03-02 09:00:00')"
            )
        )
    upgrade(engine, "0005")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT lang FROM members")).scalar_one() == "pl"
        assert conn.execute(text("SELECT params FROM notifications")).scalar_one() is None
    downgrade(engine, "0004")
    assert "lang" not in _columns(engine, "members")
    assert "params" not in _columns(engine, "notifications")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT text_pl FROM notifications")).scalar_one() == (
            "Przypomnienie"
        )
    migrate(engine)
    assert "lang" in _columns(engine, "members") and "params" in _columns(engine, "notifications")
    engine.dispose()


def test_users_site_up_and_down(tmp_path):
    """0010 gives accounts so far no site (every site); and undoes it, keeping the
    accounts."""
    engine = create_engine(database_at(tmp_path / "m.db", "0008"))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, role, created_at) "
                "VALUES (1, 'ola@example.org', 'Ola', 'staff', '2026-03-02 09:00:00')"
            )
        )
        conn.execute(text("INSERT INTO sites (id, name, timezone) VALUES ('x', 'X', 'UTC')"))
    upgrade(engine, "0010")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT site_id FROM users")).scalar_one() is None
        conn.execute(text("UPDATE users SET site_id = 'x'"))
    downgrade(engine, "0008")
    assert "site_id" not in _columns(engine, "users")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM users")).scalar_one() == "ola@example.org"
    engine.dispose()


def test_sessions_site_up_and_down(tmp_path):
    """0012 gives the administrator token's open sessions the one site (users' sessions
    none); and undoes it, keeping the sessions."""
    engine = create_engine(database_at(tmp_path / "m.db", "0010"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name, timezone) VALUES ('x', 'X', 'UTC')"))
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, role, created_at) "
                "VALUES (1, 'ola@example.org', 'Ola', 'staff', '2026-03-02 09:00:00')"
            )
        )
        for token, user in (("a", None), ("b", 1)):
            conn.execute(
                text(
                    "INSERT INTO auth_sessions (token_hash, user_id, role, csrf_token,"
                    " created_at, expires_at) VALUES (:token, :user, 'admin', 'c',"
                    " '2026-03-02 09:00:00', '2026-03-02 21:00:00')"
                ),
                {"token": token, "user": user},
            )
    upgrade(engine, "0012")
    with engine.connect() as conn:
        found = conn.execute(text("SELECT token_hash, site_id FROM auth_sessions")).all()
        assert sorted(found) == [("a", "x"), ("b", None)]
    downgrade(engine, "-1")
    assert "site_id" not in _columns(engine, "auth_sessions")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM auth_sessions")).scalar_one() == 2
    engine.dispose()


def test_a_postgresql_url_is_psycopg_3() -> None:
    for url in ("postgresql://spacehub@db/hub", "postgresql+psycopg://spacehub@db/hub"):
        engine = make_engine(url)  # connects only when used
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
        assert engine.url.render_as_string() == "postgresql+psycopg://spacehub@db/hub"


def _member(engine: Engine, *sites: str) -> None:
    """The sites, and member 1."""
    with engine.begin() as conn:
        for site in sites:
            conn.execute(
                text("INSERT INTO sites (id, name, timezone) VALUES (:id, :id, 'UTC')"),
                {"id": site},
            )
        conn.execute(
            text(
                "INSERT INTO members (id, name, category, lang, created_at) "
                "VALUES (1, 'Anna', 'resident', 'pl', '2026-03-02 09:00:00')"
            )
        )


def _member_with_a_membership(engine: Engine, *sites: str) -> None:
    _member(engine, *sites)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO memberships (member_id, plan, valid_from, valid_until, created_at) "
                "VALUES (1, 'coworking', '2026-03-01 00:00:00', '2026-04-01 00:00:00', "
                "'2026-03-01 00:00:00')"
            )
        )


def test_memberships_so_far_are_of_the_one_site_up_and_down(tmp_path):
    """0009 gives existing memberships the one site, and adds the sites' plans; and undoes
    it."""
    engine = create_engine(database_at(tmp_path / "m.db", "0008"))
    _member_with_a_membership(engine, "piaseczno")
    upgrade(engine, "0009")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT site_id FROM memberships")).scalar_one() == "piaseczno"
    assert {"site_id", "id", "name", "partners"} <= _columns(engine, "plans")
    downgrade(engine, "0008")
    assert "site_id" not in _columns(engine, "memberships")
    assert "plans" not in inspect(engine).get_table_names()
    migrate(engine)
    assert "site_id" in _columns(engine, "memberships")
    engine.dispose()


def _waiting(engine: Engine, *sites: str) -> None:
    """A member waiting for the room `sala-a` of the first site, and for any meeting room."""
    _member(engine, *sites)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rooms (id, site_id, name, kind, capacity, bookable) "
                "VALUES ('sala-a', :site, 'Sala A', 'meeting', 12, true)"
            ),
            {"site": sites[0]},
        )
        for room, kind in (("sala-a", None), (None, "meeting")):
            conn.execute(
                text(
                    'INSERT INTO waitlist (member_id, room_id, kind, start, "end", status, '
                    "created_at) VALUES (1, :room, :kind, '2026-03-02 12:00:00', "
                    "'2026-03-02 13:00:00', 'waiting', '2026-03-02 09:00:00')"
                ),
                {"room": room, "kind": kind},
            )


def test_waitlist_entries_so_far_are_of_their_rooms_or_the_one_site_up_and_down(tmp_path):
    """0011 gives an entry for a room the room's site, and one for any room of a kind the
    one site; and undoes it, keeping the entries."""
    engine = create_engine(database_at(tmp_path / "m.db", "0010"))
    _waiting(engine, "piaseczno")
    upgrade(engine, "0011")
    with engine.connect() as conn:
        found = conn.execute(text("SELECT kind, site_id FROM waitlist ORDER BY id")).all()
    assert [tuple(row) for row in found] == [(None, "piaseczno"), ("meeting", "piaseczno")]
    downgrade(engine, "0010")
    assert "site_id" not in _columns(engine, "waitlist")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM waitlist")).scalar_one() == 2
    migrate(engine)
    assert "site_id" in _columns(engine, "waitlist")
    engine.dispose()


@pytest.mark.parametrize(
    ("before", "rows", "revision"),
    [("0008", _member_with_a_membership, "0009"), ("0010", _waiting, "0011")],
    ids=["memberships", "waitlist entries for any room of a kind"],
)
def test_rows_of_a_database_of_two_sites_are_not_guessed(tmp_path, before, rows, revision):
    """Memberships (0009) and entries for no room (0011) of a database of two sites: which
    site's they are cannot be told, and the migration stops saying so."""
    engine = create_engine(database_at(tmp_path / "m.db", before))
    rows(engine, "konstancin", "piaseczno")
    with pytest.raises(RuntimeError, match=f"{revision}: .* 2 sites .konstancin, piaseczno., not"):
        upgrade(engine, revision)
    engine.dispose()


def test_entries_for_rooms_of_a_database_of_two_sites_are_their_rooms_sites(tmp_path):
    engine = create_engine(database_at(tmp_path / "m.db", "0010"))
    _waiting(engine, "konstancin", "piaseczno")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM waitlist WHERE room_id IS NULL"))
    upgrade(engine, "0011")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT site_id FROM waitlist")).scalar_one() == "konstancin"
    engine.dispose()


def test_a_database_with_rows_that_refer_to_the_changed_tables_migrates(tmp_path):
    """The server's own engine (foreign keys on, on SQLite) takes a database at 0008 holding
    an offer of a waitlist entry and a session of a user to the head: SQLite rebuilds
    `waitlist` and `users`, which those rows refer to."""
    engine = make_engine(database_at(tmp_path / "m.db", "0008"))
    at = "'2026-03-02 09:00:00'"
    rows = [
        "INSERT INTO sites (id, name, timezone) VALUES ('piaseczno', 'P', 'Europe/Warsaw')",
        "INSERT INTO rooms (id, site_id, name, kind, bookable) "
        "VALUES ('sala-a', 'piaseczno', 'A', 'meeting', true)",
        "INSERT INTO members (id, name, category, created_at, lang, minor) "
        f"VALUES (1, 'Anna', 'resident', {at}, 'pl', false)",
        'INSERT INTO waitlist (id, member_id, room_id, start, "end", status, created_at) '
        f"VALUES (1, 1, 'sala-a', {at}, {at}, 'offered', {at})",
        'INSERT INTO offers (waitlist_id, member_id, room_id, start, "end", expires_at, '
        f"status, created_at) VALUES (1, 1, 'sala-a', {at}, {at}, {at}, 'open', {at})",
        "INSERT INTO users (id, email, name, role, created_at) "
        f"VALUES (1, 'a@b.pl', 'A', 'admin', {at})",
        "INSERT INTO auth_sessions (token_hash, user_id, role, csrf_token, created_at, "
        f"expires_at) VALUES ('h', 1, 'admin', 'c', {at}, {at})",
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(text(row))
    migrate(engine)
    with engine.connect() as conn:
        kept = [
            conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
            for t in ("offers", "auth_sessions")
        ]
        entry_site = conn.execute(text("SELECT site_id FROM waitlist")).scalar()
        if engine.dialect.name == "sqlite":  # and its foreign keys are on again
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
    assert kept == [1, 1] and entry_site == "piaseczno"

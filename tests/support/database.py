"""One migrated SQLite database per test process, copied for each test that needs one.

Running the Alembic migrations on a new file costs about a tenth of a second; copying a
migrated file costs almost nothing, and `ServerContext.create` then finds the schema at
the head revision and leaves it alone. Given a site file, the copy also holds that site's
rooms, doors and devices, so `ServerContext.create` finds its inventory in line and writes
nothing (the `meta` row is not in the copy: each database still draws its own epoch).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from server.db.engine import make_engine, make_sessions, migrate
from server.db.inventory import sync_site
from server.site import load_site


@cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="spacehub-template-db-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@cache
def _template(site_config: Path | None) -> Path:
    path = _folder() / f"migrated-{len(list(_folder().iterdir()))}.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        if site_config is not None:
            site = load_site(site_config)
            with make_sessions(engine, writer=True)() as session, session.begin():
                sync_site(session, site)
    finally:
        engine.dispose()  # the last connection closed: the WAL is checkpointed and removed
    return path


def migrated_database(path: Path, site_config: Path | None = None) -> str:
    """The URL of the SQLite file `path`, a copy of the migrated template (holding the
    inventory of `site_config` when given) unless a database is already there (a test
    that restarts the server keeps its data)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template(site_config and site_config.resolve()), path)
        path.chmod(0o600)  # as the server's own (protocol.files.private_file)
    return f"sqlite:///{path}"

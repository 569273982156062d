"""One migrated SQLite database per test process, copied for each test that needs one.

Running the Alembic migrations on a new file costs about a tenth of a second; copying a
migrated file costs almost nothing, and `ServerContext.create` then finds the schema at
the head revision and leaves it alone.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from server.db.engine import make_engine, migrate


@cache
def _template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="spacehub-template-db-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
    finally:
        engine.dispose()  # the last connection closed: the WAL is checkpointed and removed
    return path


def migrated_database(path: Path) -> str:
    """The URL of the SQLite file `path`, a copy of the migrated template unless a database
    is already there (a test that restarts the server keeps its data)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template(), path)
        path.chmod(0o600)  # as the server's own (protocol.files.private_file)
    return f"sqlite:///{path}"

"""The head revision that `migrate` reads from the migrations' file names, without Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from server.db.engine import MIGRATIONS, _head


def test_each_migration_is_named_after_its_revision_which_revises_the_one_before():
    """What lets `migrate` find the head from the files' names without Alembic."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    by_file = {Path(r.path).name: r for r in script.walk_revisions()}
    names = sorted(by_file)
    assert [by_file[name].revision for name in names] == [name[:4] for name in names]
    assert [by_file[name].down_revision for name in names] == [None] + [n[:4] for n in names[:-1]]
    assert _head() == script.get_current_head() == names[-1][:4]

"""The database's folder: made 0700 by the server, or told about when it was there and
is open to other users (the server never changes a folder it did not make)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from server.db.engine import make_engine

pytestmark = pytest.mark.unit


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_folder_made_for_the_database_is_0700(tmp_path: Path) -> None:
    make_engine(f"sqlite:///{tmp_path}/data/db/spacehub.db").dispose()
    assert (mode(tmp_path / "data"), mode(tmp_path / "data" / "db")) == (0o700, 0o700)
    assert mode(tmp_path / "data" / "db" / "spacehub.db") == 0o600


def test_an_open_folder_that_was_there_is_told_about_and_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    os.chmod(tmp_path, 0o755)  # the working directory, say
    with caplog.at_level(logging.WARNING, logger="server.db.engine"):
        make_engine(f"sqlite:///{tmp_path}/spacehub.db").dispose()
    assert mode(tmp_path) == 0o755
    [warning] = [r.getMessage() for r in caplog.records]
    assert str(tmp_path) in warning and "open to other users" in warning


def test_a_private_folder_that_was_there_is_not_told_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    os.chmod(tmp_path, 0o700)
    with caplog.at_level(logging.WARNING, logger="server.db.engine"):
        make_engine(f"sqlite:///{tmp_path}/spacehub.db").dispose()
    assert caplog.records == []

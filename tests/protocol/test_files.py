"""Files holding secrets or personal data are the program's user's alone."""

from __future__ import annotations

import os
import stat

from protocol.files import private_dir, private_file, write_private


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_private_folder_is_0700_even_when_it_existed_open(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    private_dir(folder)
    assert mode(folder) == 0o700


def test_a_shared_sticky_folder_is_left_as_it_is(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    private_dir(shared)
    assert mode(shared) == 0o1777


def test_a_private_file_is_made_0600_in_a_new_0700_folder(tmp_path):
    path = private_file(tmp_path / "new" / "spacehub.db")
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)


def test_every_folder_made_for_a_private_file_is_0700_and_one_that_was_there_is_left(tmp_path):
    os.chmod(tmp_path, 0o755)  # the working directory, say
    path = private_file(tmp_path / "var" / "lib" / "spacehub.db")
    assert [mode(tmp_path / "var"), mode(tmp_path / "var" / "lib"), mode(path)] == [
        0o700,
        0o700,
        0o600,
    ]
    assert mode(tmp_path) == 0o755


def test_an_existing_file_becomes_0600_and_keeps_its_content(tmp_path):
    path = tmp_path / "key"
    path.write_text("secret")
    os.chmod(path, 0o644)
    private_file(path)
    assert (mode(path), path.read_text()) == (0o600, "secret")


def test_write_private_replaces_the_content_atomically_as_0600(tmp_path):
    path = tmp_path / "door" / "emergency.json"
    write_private(path, b"one")
    os.chmod(path, 0o644)
    write_private(path, b"two")
    assert (path.read_bytes(), mode(path), mode(path.parent)) == (b"two", 0o600, 0o700)
    assert [p.name for p in path.parent.iterdir()] == ["emergency.json"]

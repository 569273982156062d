"""Files that hold secrets or personal data: written 0600 in folders of mode 0700.

Card hashes, raw UIDs waiting in an outbox, emergency lists, keys, policy snapshots and
databases are readable by the program's own user only, whatever the umask.

>>> folder = private_dir(tmp / "door")  # doctest: +SKIP
>>> write_private(folder / "emergency.json", b"{}")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def new_dirs(path: str | Path) -> Path:
    """Create the folder and each missing parent 0700 (whatever the umask); a folder that
    exists is left as it is (the working directory, a folder shared with other things)."""
    path = Path(path)
    missing, above = [], path
    while not above.exists() and above != above.parent:
        missing.append(above)
        above = above.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs
        os.chmod(folder, DIR_MODE)  # mkdir's mode went through the umask
    return path


def open_to_others(folder: str | Path) -> bool:
    """Whether users other than the owner may list or enter the folder."""
    return bool(stat.S_IMODE(os.stat(folder).st_mode) & 0o077)


def private_dir(path: str | Path) -> Path:
    """Create the program's own folder (and its parents) if needed, and make it 0700 —
    unless it is a shared folder such as /tmp (sticky) or another user's."""
    path = new_dirs(path)
    info = path.stat()
    if info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX:
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: str | Path) -> Path:
    """Make sure the file exists with mode 0600 (for a file another library opens, such as
    an SQLite database: its -wal and -shm files take its mode); missing folders are
    created 0700, an existing one is left as it is (it may hold other things)."""
    path = Path(path)
    new_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def write_private(path: str | Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Replace the file's content atomically (a temporary file renamed over it, so a
    reader sees the old file or the new one), created with `mode` (0600 unless it holds
    nothing secret), in a 0700 folder."""
    path = Path(path)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # the umask may have taken bits away
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

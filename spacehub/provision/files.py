"""Writing provision's output: secrets 0600 in 0700 folders, each file replaced whole.

A file is written beside its final name and renamed over it, so a broker or device that
reads it meanwhile sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from protocol.files import FILE_MODE, private_dir, write_private

SECRET = FILE_MODE
PUBLIC = 0o644  # certificates: nothing secret in them


def folder(path: Path) -> Path:
    """Make `path` (and missing parents) and keep it 0700."""
    return private_dir(path)


def write(path: Path, data: str | bytes, mode: int = SECRET) -> None:
    """Replace `path` with `data`, created with `mode` (never readable by others first)."""
    write_private(path, data.encode("utf-8") if isinstance(data, str) else data, mode)


def read_toml(path: Path) -> dict[str, Any] | None:
    """A TOML file's data; None when there is no such file."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return None


def toml_value(value: str | int | bool) -> str:
    """A TOML literal: basic strings with every special character escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'

"""The error every `spacehub` command reports the same way (`spacehub.cli` prints it)."""

from __future__ import annotations


class CliError(Exception):
    """Bad arguments or a configuration that does not validate: one line, exit 2."""

"""The systemd units in firmware_configs/systemd/ start commands this `spacehub` accepts,
restart their program on failure, and watch the programs that tell systemd they are well
(protocol.systemd) with a watchdog."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spacehub.cli import build_parser

UNITS = Path(__file__).resolve().parent.parent / "firmware_configs" / "systemd"
# the programs that say READY=1 and WATCHDOG=1 (protocol.systemd.supervise)
WATCHED = {"door", "sensor", "gateway"}


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections, each key with its values in order (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key, []).append(value)
    return sections


def command(path: Path) -> list[str]:
    exec_start = unit(path)["Service"]["ExecStart"]
    assert len(exec_start) == 1
    return shlex.split(exec_start[0].replace("%i", "reader-main"))


def test_every_program_has_its_unit() -> None:
    programs = {command(path)[1] for path in UNITS.glob("*.service")}
    assert programs == {"door", "sensor", "gateway", "server"}


@pytest.mark.parametrize("path", sorted(UNITS.glob("*.service")), ids=lambda p: p.name)
def test_the_unit_runs_a_command_spacehub_accepts(path: Path) -> None:
    argv = command(path)
    assert Path(argv[0]).name == "spacehub"
    args = build_parser().parse_args(argv[1:])  # exits (fails the test) on a bad option
    assert args.command == argv[1]


@pytest.mark.parametrize("path", sorted(UNITS.glob("*.service")), ids=lambda p: p.name)
def test_the_unit_restarts_on_failure_and_watches_what_can_be_watched(path: Path) -> None:
    service = unit(path)["Service"]
    assert service["Restart"] == ["on-failure"]
    assert service["User"] == ["spacehub"]
    if command(path)[1] in WATCHED:
        assert service["Type"] == ["notify"]
        assert service["WatchdogSec"]
    else:
        assert "WatchdogSec" not in service
    assert unit(path)["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("path", sorted(UNITS.glob("*.service")), ids=lambda p: p.name)
def test_systemd_finds_nothing_wrong_in_the_unit(path: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # the unit as installed, its program where this checkout has it
    here = Path(sys.executable).parent / "spacehub"
    copy = tmp_path / path.name.replace("@.", "@reader-main.")
    copy.write_text(path.read_text().replace("/opt/spacehub/.venv/bin/spacehub", str(here)))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr

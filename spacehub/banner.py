"""What `spacehub demo` prints once everything is up, and again on demand: the dashboard
and its sign-in link, the token, the broker, the demo cards, and commands to try that work
as printed (the right `spacehub` program, broker and ports)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from spacehub.seed import DEMO_MEMBERS, demo_email
from spacehub.tap import default_mqtt_url


@dataclass(frozen=True)
class Running:
    """What the banner tells about a running demo."""

    http_port: int
    broker_name: str
    broker_url: str
    token: str
    data_dir: Path
    earlier_data: bool  # the database is an earlier run's (not seeded now)
    secure_folder: Path | None = None  # the provisioned folder of `--secure`
    keys: bool = False  # Enter in the terminal shows the banner again
    staff: tuple[str, str] | None = None  # the demo receptionist's e-mail and password
    panels: tuple[tuple[str, str], ...] = ()  # each bookable room's name and panel path
    mail: str | None = None  # the demo's own SMTP server (its mail at /demo/mail)


def program() -> str:
    """How to run `spacehub` from where the demo was started: plain `spacehub` when that is
    this installation's on PATH, else its path (`.venv/bin/spacehub` for `make run`)."""
    script = Path(sys.executable).parent / "spacehub"
    if not script.exists():
        return "spacehub"
    found = shutil.which("spacehub")
    if found is not None and Path(found).resolve() == script.resolve():
        return "spacehub"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def tap_hint(run: Running) -> str:
    """A `spacehub tap` at the main entrance with the staff card, as this demo needs it."""
    if run.secure_folder is not None:  # the installer's account: taps at any door
        config = run.secure_folder / "installer.toml"
        return f"{program()} tap --config {shlex.quote(str(config))} --device reader-main 04A1B2C3"
    broker = "" if run.broker_url == default_mqtt_url() else f" --mqtt-url {run.broker_url}"
    return f"{program()} tap{broker} --site piaseczno --device reader-main 04A1B2C3"


def panel_lines(run: Running, base: str) -> str:
    """The door panels' links, one room a line (nothing without any)."""
    if not run.panels:
        return ""
    rooms = "\n".join(f"    {name:<22} {base}{path}" for name, path in run.panels)
    head = f"door panels (a tablet by each room's door; new keys: {base}/reception/panels)"
    return f"\n\n  {head}:\n{rooms}"


def banner(run: Running) -> str:
    base = f"http://127.0.0.1:{run.http_port}"
    note = (
        " (embedded: for showing the system only; it keeps no queue across a restart "
        "and has no ACLs)"
        if run.broker_name == "embedded"
        else ""
    )
    if run.secure_folder is not None:
        note = (
            "\n             secure: TLS with the site's own CA, a password and ACL per device,"
            f"\n             no anonymous clients; files in {run.secure_folder}"
        )
    data = (
        "\n             the database of an earlier run: --reset (make demo-reset) starts over"
        if run.earlier_data
        else ""
    )
    cards = "\n".join(f"    {m.card}  {m.name:<18} {m.shows}" for m in DEMO_MEMBERS)
    staff = (
        f"\n  staff:     {run.staff[0]} / {run.staff[1]} (sign in at {base}/)" if run.staff else ""
    )
    mail = (
        f"\n  mail:      {base}/demo/mail (staff: what its SMTP server at {run.mail} got)"
        "\n             a member signs in by a link mailed there: "
        + ", ".join(demo_email(m) for m in DEMO_MEMBERS[1:3])
        + ", ..."
        if run.mail
        else ""
    )
    again = f"Enter or `kill -USR1 {os.getpid()}`" if run.keys else f"`kill -USR1 {os.getpid()}`"
    return f"""
spacehub demo: PiasecznoHUB
  dashboard: {base}/
  sign in:   {base}/login?token={run.token}
  token:     {run.token}{staff}
  API:       {base}/docs{mail}
  broker:    {run.broker_name} at {run.broker_url}{note}
  data:      {run.data_dir}{data}

  demo cards:
{cards}{panel_lines(run, base)}

  try:  {tap_hint(run)}
        curl -H 'Authorization: Bearer {run.token}' {base}/api/access-events

{again} shows this again; Ctrl-C stops everything.
"""

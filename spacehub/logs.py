"""How much every `spacehub` command logs: by default spacehub's own lines from INFO up
and the libraries' from WARNING up (a broker connection, an HTTP request or a migration
step is not news); with `--verbose`, spacehub's DEBUG lines and the libraries' INFO lines.

    configure(verbose=False)
    configure(verbose=False, quiet=("devices",))  # the demo's simulated devices too
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Libraries that log at INFO for every connection, request or step.
NOISY = (
    "alembic",  # every migration step, at every start
    "amqtt",  # the embedded broker: every connection
    "transitions",  # amqtt's state machines
    "httpx",  # every request (the gateway fetches the policy snapshot)
    "httpcore",
    "uvicorn",  # start-up lines and, under uvicorn.access, every request
    "asyncio",
)


def configure(*, verbose: bool, quiet: Iterable[str] = ()) -> None:
    """Log to stderr with times; `quiet` names loggers of ours that keep to WARNING unless
    `verbose` (the demo's simulated devices, whose every strike and mode the dashboard
    already shows)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=FORMAT)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)

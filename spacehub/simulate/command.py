"""`spacehub simulate`: run the month and print its outcome, as a table or one JSON object."""

from __future__ import annotations

import argparse
import logging

from spacehub.simulate import FIRST_DAY, simulate
from spacehub.simulate.outcome import as_json, as_table


def run_simulation(args: argparse.Namespace) -> int:
    """Simulate `args.days` days and print the community outcome."""
    if not args.verbose:
        # The simulated server's own warnings (a device that never reported, ...) are
        # about the simulation's furniture, not news to the reader.
        logging.getLogger("server").setLevel(logging.ERROR)
    result = simulate(days=args.days, no_show_rate=args.no_show_rate, seed=args.seed)
    print(as_json(result) if args.json else as_table(result, first_day=FIRST_DAY))
    return 0

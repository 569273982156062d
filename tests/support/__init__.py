"""Helpers shared by the test suite: clocks a test moves, waiting, a migrated database, and
factories of members, cards, memberships and bookings.

Test modules import them as `from support.clock import Clock` (pytest puts tests/ on
`sys.path`, see `pythonpath` in pyproject.toml).
"""

"""The spacehub wire contract: topics, payload models, card UIDs, the policy snapshot and
the pure decide function. Imports nothing heavy, so a Raspberry Pi can install it."""

PROTOCOL_VERSION = 1

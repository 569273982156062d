"""The server: the source of truth for a site's doors, rooms, bookings and occupancy.

Grouped by domain, so the folder a rule lives in is the one its name says:

- domains: `access/` (taps, results and reconciliation, the policy snapshot, emergency
  lists, door modes, the access log, tap limits), `bookings/` (store, lifecycle, rules,
  availability, pricing, calendar feeds), `noshows/` (release and strikes), `waitlist/`,
  `occupancy/`, `people/` (members and cards, dashboard sessions, the audit log),
  `monitoring/` (device status and staff alerts), `notify/` (messages to members),
  `live/` (events for dashboards), `reports/`;
- the store: `db/` (engine, models, Alembic migrations, the meta row, the inventory);
- the edges: `adapters/` (the MQTT door path and sensors, policy notices, the scheduler),
  `api/` (HTTP), `dashboard/` (HTML);
- at the top, what every part shares: `app` (`create_app`), `context` (what one process
  holds), `settings`, `site` (the site file), `deps` (FastAPI dependencies), `errors`,
  `schemas` (the vocabulary of request bodies) and `timefmt`; and `heap`, how
  `spacehub server` keeps its memory.

Dependencies run one way: edges -> domains -> store -> `protocol` (tests/test_structure.py
keeps the import graph free of cycles)."""

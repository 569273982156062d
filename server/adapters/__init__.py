"""The MQTT and timer edges of the server: parse, call the domain, emit.

The door path (`door_ingest`, with the retained commands it keeps on the doors in
`door_state`), the occupancy sensors (`sensor_ingest`), the PolicyNotices for gateways
(`policy_notices`) and the one scheduler (`scheduler`); and the guard every MQTT message
goes through (`inbox`, `rejections`, `dead_letters`, `writehealth`)."""

"""Live events for dashboards: one typed model per kind (`kinds`), and the bus (`events`)
they are published on by the domain and the adapters from any thread, read by each
Server-Sent Events connection on the event loop."""

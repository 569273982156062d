"""Live events for dashboards (`events`): published by the domain and the adapters from any
thread, read by each Server-Sent Events connection on the event loop."""

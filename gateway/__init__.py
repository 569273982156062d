"""The on-site gateway: `config` (GatewaySettings), `snapshot` (the policy snapshot kept in
memory and on disk, fetched over HTTP) and `gateway` (the program: `Gateway`,
`run_gateway`). It imports `protocol` and never `server`."""

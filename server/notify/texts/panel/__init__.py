"""The door panels' words (`/panel/...`), a table per language joined into the one
catalogue (server.notify.texts)."""

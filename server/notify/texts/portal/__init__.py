"""The member portal's words (`/me/...`), a table per language joined into the one
catalogue (server.notify.texts)."""

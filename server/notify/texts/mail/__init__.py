"""The words of e-mails to members and staff, a table per language joined into the one
catalogue (server.notify.texts)."""

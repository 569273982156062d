"""The reception desk's words (`/reception/...`), a table per language beside the
dashboard's and the notices' (server.notify.texts), which joins them into one catalogue."""

"""The reception desk's words, continued (server.notify.texts.reception holds the rest):
a member's GDPR export and erasure, editing an account, adding someone to the waitlist."""

"""The reception desk's words, continued, in English (server.notify.texts.desk)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- a member's data (GDPR), administrators only
    "gdpr.title": "Personal data (GDPR)",
    "gdpr.intro": (
        "Administrators only. Downloading and erasing data are recorded in the audit trail."
    ),
    "gdpr.export": "Download data (JSON)",
    "gdpr.erase": "Erase personal data",
    "gdpr.erase_ask": "Erase the personal data of {name}?",
    "gdpr.erase_means": (
        "The name becomes #{id}; the e-mail, the guardian and the suspension are cleared; "
        "the cards are deleted (no door opens for them); the member's accounts are "
        "disabled; notifications, mail, offers and waitlist entries are deleted; future "
        "bookings are cancelled. Entries at the doors, past bookings and no-shows stay, "
        "under the member's number only."
    ),
    "gdpr.erase_final": "This cannot be undone.",
    "gdpr.erase_go": "Erase personal data for good",
    "gdpr.erased_already": "This member's personal data has been erased already.",
    "gdpr.back": "Back to the member's page",
    # -- a user's account (`/reception/accounts/{id}`)
    "useredit.edit": "Edit",
    "useredit.title": "Account: {name}",
    "useredit.back": "← All accounts",
    "useredit.details": "Account details",
    "useredit.member_hint": "For the Member role only: the number of the member this person is.",
    "useredit.password": "New password (optional)",
    "useredit.password_hint": (
        "Leave empty to keep it. At least 10 characters; the person can also sign in with a "
        "link sent by e-mail."
    ),
    "useredit.access": "Access",
    "useredit.disable_means": "Disabling ends this person's sessions and API tokens at once.",
    "useredit.enable": "Enable",
    # -- adding someone to the waitlist (`/reception/waitlist`)
    "waitjoin.title": "Add to the waitlist",
    "waitjoin.intro": (
        "When the room frees up in that time, the member is offered it (by e-mail and in the "
        "portal)."
    ),
    "waitjoin.any_similar": "Or any similar room (the same kind, at least as many places)",
    "waitjoin.go": "Add to the waitlist",
    "desk.wl.done.joined": "Added to the waitlist.",
}

"""Member portal's words (`/me/...`) in English (server.notify.texts.portal).

The keys and placeholders are those of the other languages' portal tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "portal.title": "My HUB",
    "portal.nav": "Portal pages",
    "portal.nav.home": "Home",
    "portal.nav.rooms": "Rooms",
    "portal.nav.bookings": "My bookings",
    "portal.nav.waitlist": "Waitlist",
    "portal.nav.notifications": "Notifications",
    "portal.nav.calendar": "Calendar",
    "portal.nav.strikes": "No-shows",
    "portal.back_rooms": "Back to the rooms",
    "portal.back_bookings": "Back to my bookings",
    "portal.dur.h": "{h} h",
    "portal.dur.hm": "{h} h {m} min",
    "portal.dur.m": "{m} min",
    # signing in
    "portal.signin.title": "Sign in to the members' portal",
    "portal.signin.intro": "Book rooms, see your bookings and your notifications.",
    "portal.signin.by_link": "A sign-in link by e-mail",
    "portal.signin.by_password": "Or e-mail and password",
    # the front page
    "portal.home.find": "Find a free room",
    "portal.home.all_bookings": "All my bookings",
    # rooms
    "portal.rooms.title": "Rooms and free hours",
    "portal.rooms.days": "Choose a day",
    "portal.rooms.today": "Today",
    "portal.rooms.other_day": "Another day",
    "portal.rooms.show": "Show",
    "portal.rooms.size": "Size",
    "portal.rooms.people": "up to {n} people",
    "portal.rooms.equipment": "Equipment",
    "portal.rooms.who": "Who may book",
    "portal.rooms.any_member": "any member of the hub",
    "portal.rooms.price": "Your price",
    "portal.rooms.per_hour": "{price} {currency} an hour",
    "portal.rooms.free_of_charge": "free of charge",
    "portal.rooms.all": "All rooms",
    "portal.rooms.free": "free",
    "portal.rooms.taken": "taken – wait",
    "portal.rooms.none": "No hours left to book on this day.",
    "portal.wd.0": "Mon",
    "portal.wd.1": "Tue",
    "portal.wd.2": "Wed",
    "portal.wd.3": "Thu",
    "portal.wd.4": "Fri",
    "portal.wd.5": "Sat",
    "portal.wd.6": "Sun",
    "portal.quota.week": "Your limit: {limit} of bookings a week ({left} left this week)",
    # booking
    "portal.book.title": "Book a room",
    "portal.book.day": "Day",
    "portal.book.start": "From",
    "portal.book.end": "To",
    "portal.book.what": "Title (what it is for)",
    "portal.book.attendees": "Attendees (members' e-mail addresses)",
    "portal.book.attendees_hint": (
        "Optional. Members with these addresses may enter the room with their own card too."
    ),
    "portal.book.weeks": "Number of weeks",
    "portal.book.weeks_hint": "1 is once; more repeats it weekly at the same time (at most {max}).",
    "portal.book.cost": "Cost: {price} {currency}",
    "portal.book.submit": "Book",
    # my bookings
    "portal.bk.title": "My bookings",
    "portal.bk.upcoming": "Upcoming",
    "portal.bk.past": "Past",
    "portal.bk.no_past": "No past bookings.",
    "portal.bk.attending": "you attend",
    "portal.bk.attendees_n": "attendees: {n}",
    "portal.bk.cancel": "Cancel",
    "portal.bk.add_attendees": "Add attendees",
    "portal.status.booked": "booked",
    "portal.status.checked_in": "under way – you are in",
    "portal.status.completed": "took place",
    "portal.status.released": "released – nobody came",
    "portal.status.cancelled": "cancelled",
    "portal.done.booked": "Booked (bookings made: {n}).",
    "portal.done.cancelled": "Booking cancelled. The room is free again.",
    "portal.done.attendees": "Attendees added.",
    "portal.done.joined": "You are on the waitlist.",
    "portal.done.left": "You left the waitlist.",
    "portal.cancel.title": "Cancel the booking?",
    "portal.cancel.submit": "Yes, cancel the booking",
    "portal.cancel.keep": "No, keep it",
    "portal.cancel.cannot": "This booking can no longer be cancelled.",
    "portal.att.title": "Add attendees",
    "portal.att.hint": "Members' e-mail addresses, separated by commas or on lines of their own "
    "(at most {max} at once).",
    "portal.att.submit": "Add",
    # the waitlist
    "portal.wl.title": "Waitlist",
    "portal.wl.intro": (
        "When a taken hour frees up, you get an offer. Accept it before it lapses."
    ),
    "portal.wl.entries": "What I wait for",
    "portal.wl.none": "You are not waiting for any room.",
    "portal.wl.leave": "Leave",
    "portal.wl.status.waiting": "waiting",
    "portal.wl.status.offered": "offered to you – accept it",
    "portal.wl.status.booked": "booked",
    "portal.wl.status.expired": "the offer lapsed",
    "portal.wl.status.cancelled": "left",
    "portal.offer.title": "Offers to accept",
    "portal.offer.none": "You have no offers.",
    "portal.offer.until": "Accept by {at}",
    "portal.offer.accept": "Accept and book",
    "portal.join.title": "Wait for this hour?",
    "portal.join.intro": (
        "This hour is taken. If it frees up, we offer it to you (whoever joined first gets "
        "the first offer)."
    ),
    "portal.join.any_similar": "Or any room like it that holds as many people",
    "portal.join.submit": "Put me on the waitlist",
    # notifications
    "portal.notes.title": "Notifications",
    "portal.notes.none": "You have no notifications.",
    # the calendar link
    "portal.cal.title": "My calendar",
    "portal.cal.intro": (
        "Add this link to your calendar (Google, Apple, Outlook: \u201csubscribe to "
        "calendar\u201d or \u201cadd from URL\u201d) and your bookings appear there by themselves."
    ),
    "portal.cal.link": "Calendar link",
    "portal.cal.open": "Open the calendar file",
    "portal.cal.new_title": "A new link",
    "portal.cal.new_intro": (
        "The link works without signing in: do not share it. If someone learnt it, make a new "
        "one: the old one stops working."
    ),
    "portal.cal.new": "Make a new link",
    "portal.cal.renewed": "A new link was made; the old one no longer works.",
    # no-show strikes
    "portal.strikes.title": "My no-shows",
    "portal.strikes.rule": (
        "If you do not tap your card within {grace} min of a booking's start, the room is "
        "released for others and you get a no-show. After {limit} no-shows within {days} "
        "days you may not book for {suspension} days (doors still open for you)."
    ),
    "portal.strikes.count": "No-shows in the last {days} days: {n} of {limit}.",
    "portal.strikes.suspended": "You may not book until {until}.",
    "portal.strikes.list": "My no-shows",
    "portal.strikes.when": "When",
    "portal.strikes.room": "Room",
    "portal.strikes.counts": "Counts",
    "portal.strikes.yes": "yes",
    "portal.strikes.no": "no (too old or removed)",
    "portal.strikes.none": "You have no no-shows.",
    # refusals
    "portal.refused.title": "That did not work",
    "portal.err.quota": (
        "Your limit is {limit} of bookings a week; {left} is left in the week of "
        "{week:%d.%m.%Y}. Nothing was booked."
    ),
    # the reception desk's words for the same refusal, of a member booked for by staff
    "desk.err.quota": (
        "This member's limit is {limit} of bookings a week; {left} is left in the week of "
        "{week:%d.%m.%Y}. Nothing was booked."
    ),
    "portal.err.unknown_emails": (
        "No member has this address: {emails}. Check it. Nothing was changed."
    ),
    "portal.err.too_many_emails": "Too many addresses at once. Nothing was changed.",
    "portal.err.self_attendee": "You hold the booking: do not add yourself as an attendee.",
    "portal.err.suspended": "Your account is suspended; you cannot book now.",
    "portal.err.barred": (
        "After repeated no-shows you may not book for a while (see \u201cNo-shows\u201d)."
    ),
    "portal.err.not_yours": "This is not your booking.",
    "portal.err.when": "Give a valid day and time.",
    "portal.err.weeks": "The number of weeks must be a whole number from 1 to {max}.",
    "portal.err.room": "This room cannot be booked.",
    # equipment of the rooms (the site file's `equipment` ids)
    "equipment.projector": "projector",
    "equipment.whiteboard": "whiteboard",
    "equipment.workbenches": "workbenches",
    "equipment.sound": "sound system",
    "equipment.video_call": "video-call kit",
    # the audit log's words for what members do in the portal
    "audit.action.booking.attendees": "Added attendees to a booking",
    "audit.action.member.calendar_key": "New calendar link of a member",
}

"""The waitlist: members waiting for a room and a time, and the offers made when it frees.

A member waits for one room, or for any bookable room of a kind that holds at least
`min_capacity` people (`entries`). When a booking is released or cancelled, the freed
room is held for the first member waiting for a time in it (oldest entry first), for
`bookings.offer_hold`: the whole of the time they wanted when it lies inside, else the
part the freed slot overlaps when that lasts at least `bookings.min_partial_offer`
(`offers.offered_part`); nobody is booked until they accept (`offers`). An offer not
accepted in time passes to the next member waiting (`expire_offers`, run by the
scheduler). Bookings know nothing of the waitlist: whatever frees a slot offers it
(`freed`, the no-show sweep, staff's release).

Entry: `waiting -> offered -> booked` (a part accepted is booked, and the entry is done
as with the whole); `offered -> expired` (the offer lapsed: it had its chance),
`offered -> waiting` (the room was taken before the offer was accepted),
`waiting|offered -> cancelled`. Offer: `offered -> accepted | expired`. Every transition
that can race is one conditional UPDATE. Plain functions over a Session; the caller owns
the transaction."""

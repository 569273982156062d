"""Bookings: as stored, with the overlap check and the insert every path uses (`store`),
every status change as one conditional UPDATE (`lifecycle`), the API's rules for a booking
or a weekly series (`rules`), a room's free time (`availability`), what it costs
(`pricing`), a room's calendar feed (`calendar`) and the API's bodies (`schemas`).

Bookings know nothing of the waitlist: whatever frees a slot offers it (server.waitlist)."""

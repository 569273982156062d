"""The utilisation report a municipal hub sends its funders: per bookable room and ISO week
(Monday to Sunday in the site's time zone), booked, used, no-show and re-taken hours, split
by the member category of the booking's holder.

Pure functions over plain values (intervals, sensor samples, booking spans) do the work;
`utilisation.load_utilisation` is the one that reads the database. Intervals are half-open
`[start, end)` pairs of aware UTC datetimes.

- booked: bookings that were not cancelled (`booked`, `checked_in`, `completed`,
  `released`), each clipped to the week; a completed booking counts until it ended.
- used: when the room's sensors saw it occupied (motion within the site's vacancy timeout,
  or a people count above zero); the room's total, and the part inside each booking that
  holds the room, for that booking holder's category; never past the report's `now`
  (people still in, or motion within its timeout, are use until now, not until closing).
- no-show: released bookings, from start to end.
- re-taken: the part of a released booking's slot covered by a walk-in or waitlist booking
  of the same room; counted for the released holder's category, so that it reads as
  "of which taken again" next to that category's no-show hours.

`intervals` does the interval arithmetic, `weeks` the weeks and closing times in the
site's time zone, `occupied` the occupied time from sensor samples, and `utilisation` the
figures."""

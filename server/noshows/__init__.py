"""No-shows: bookings released when nobody came (`release`), and the strikes counted
against their holders, with the booking suspension that too many of them bring
(`strikes`)."""

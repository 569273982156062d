"""Live room occupancy: what the sensors saw, derived into occupied / people / last motion.

A room is occupied when its people count is above zero (where a beam counter watches it),
when its motion sensor says motion goes on, or when motion was seen within the site's
vacancy timeout. `people` is entered minus left, never below zero and never capped at the
capacity (over it raises an alert), back to zero at each daily closing time since counters
drift; it is None for a room without a counter.

- `live`: the pure derivation, over plain values and an explicit `now`, and the evidence
  that a room is in use (people counted, or motion and how long ago);
- `state`: the `room_states` rows, a room's view now, and the `Changes` to publish;
- `readings`: a batch of Motion and Count events recorded and applied (`record_readings`);
- `tick`: the scheduler's pass (the nightly reset, walk-ins ended by vacancy, booked rooms
  still empty, device health);
- `rooms`: the rooms with their occupancy and current booking, as the API and the
  dashboard show them.

The domain functions run in the caller's writer transaction and return the `Changes` to
publish once it has committed."""

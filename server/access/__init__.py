"""Who may enter: the door path's domain service that decides and records taps, decisions
and results (`service`), what a door did and what that implies for bookings
(`reconcile`), the policy snapshot decisions are made from (`snapshot`), the tap limits
(`limiter`), the work done after a tap (`aftertap`), the emergency cards' lists
(`emergency`), the mode each door follows (`doormodes`) and the access log (`accesslog`,
with the API's bodies in `schemas`)."""

"""The reception desk: the dashboard's pages for the work of a receptionist (members,
cards, memberships, bookings, the waitlist, reports, the access log, the audit trail),
server-rendered through server.dashboard.pages, one module an area, each with its router
included by server.dashboard.install."""

"""People and who acts: members, their cards and memberships (`members`, with the API's
bodies in `schemas`), the staff dashboard's browser sessions (`sessions`) and the audit log
of what staff did (`audit`)."""

"""What staff watch for trouble: the site's devices, whether each is online, their door
events and their health (`device_status`), and the alerts raised for staff (`alerts`)."""

"""The emergency list at the door: the staff cards it admits by itself when neither the
server nor the gateway answers, kept on disk so that it has them after a restart too.

`EmergencyStore` keeps the latest EmergencyList in `data_dir/emergency.json` (0600, in a
0700 folder, replaced atomically); `EmergencyCards` checks a tap against a list with one
hash of the card (memory-hard when the list names a `kdf`) and a set lookup.

>>> store = EmergencyStore("var/devices/reader-main")  # doctest: +SKIP
>>> store.save(emergency_list); store.load() == emergency_list  # doctest: +SKIP
True
>>> EmergencyCards(emergency_list).admits("04A1B2C3")  # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from protocol.cards import KdfError, emergency_hash
from protocol.files import FILE_MODE, write_private
from protocol.messages import EmergencyList, ProtocolError, decode, encode

log = logging.getLogger(__name__)

# Any canonical card will do: hashing it tells whether this program knows the list's kdf.
_PROBE_CARD = "00000000"


class EmergencyStore:
    """The door's latest EmergencyList on disk, replaced atomically, so that a power cut
    leaves the old list or the new one, never half of one; readable by the door's user only
    (the hashes are worth a brute force)."""

    FILENAME = "emergency.json"

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / self.FILENAME

    def load(self) -> EmergencyList | None:
        """The list kept on disk; None when there is none or it cannot be read."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.error("%s: cannot read the emergency list: %s", self.path, exc)
            return None
        # A list an older version wrote world-readable is closed now, not at the next one.
        with contextlib.suppress(OSError):
            os.chmod(self.path, FILE_MODE)
        try:
            return decode(EmergencyList, data)
        except ProtocolError as exc:
            log.error("%s: cannot read the emergency list: %s", self.path, exc)
            return None

    def save(self, emergency: EmergencyList) -> None:
        """Write the list (0600) to a temporary file, flush it to the card, rename it over
        the old one, and flush the rename."""
        write_private(self.path, encode(emergency))
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class EmergencyCards:
    """An EmergencyList ready for taps: its hashes as a set, so a tap costs one hash of the
    card, whatever the number of cards. A list whose `kdf` this program does not know
    admits nobody (fail-secure), and says so."""

    def __init__(self, emergency: EmergencyList, device: str) -> None:
        self.list = emergency
        self._device = device
        self._hashes = frozenset(emergency.cards)
        self.usable = self._knows_kdf()

    def _knows_kdf(self) -> bool:
        if self.list.kdf is None:
            return True
        try:
            emergency_hash(self.list.salt, _PROBE_CARD, self.list.kdf)
        except KdfError:
            log.error(
                "%s: the emergency list uses %r, which this version does not know: no "
                "emergency card will open this door until a list it can read arrives",
                self._device,
                self.list.kdf,
            )
            return False
        return True

    def admits(self, card: str) -> bool:
        """Whether a canonical card is on the list."""
        if not self.usable:
            log.warning(
                "%s: emergency list unreadable (kdf %r): card refused", self._device, self.list.kdf
            )
            return False
        return emergency_hash(self.list.salt, card, self.list.kdf) in self._hashes

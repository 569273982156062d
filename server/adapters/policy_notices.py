"""PolicyNotice: tell the gateways, retained on `hub/{site}/sys/policy`, that a new policy
snapshot is ready, so that they fetch it over HTTP.

>>> notices = PolicyNotices(ctx, app.state.ingest.client)  # doctest: +SKIP
>>> notices.start()  # doctest: +SKIP

It polls the stored policy version (server.db.meta.version) a few times a second rather
than hooking every write: each write already bumps the version in its own transaction,
any replica's write is seen (they share the database), and a burst of writes between two
polls becomes one notice. The notice is published again at a regular interval even when
nothing changed (so a broker that lost its retained messages gets it back), and after
the connection comes back.

It publishes on the client it is given; the server passes the door path's client
(`DoorIngest.client`): the notice is tiny and rare, so it cannot delay a door, and it then
goes out under the server replica's own MQTT identity and ACL, on the connection whose
last will marks the replica offline, with no third connection per replica.
"""

from __future__ import annotations

import logging
import threading

from protocol import topics
from protocol.messages import PolicyNotice
from protocol.mqtt import MqttClient
from server.context import ServerContext
from server.db.meta import version

log = logging.getLogger(__name__)

POLL_S = 0.25
REPUBLISH_S = 60.0


class PolicyNotices:
    """Publishes a retained PolicyNotice `{"epoch","n","ts"}` on every change of the stored
    policy version (within a second), and every `republish_s` even without one."""

    def __init__(
        self,
        ctx: ServerContext,
        client: MqttClient,
        *,
        poll_s: float = POLL_S,
        republish_s: float = REPUBLISH_S,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.topic = topics.policy(ctx.site.id)
        self.poll_s = poll_s
        self.republish_s = republish_s
        self.published: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-policy-notices", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        since_publish = 0.0
        was_connected = False
        while not self._stop.wait(self.poll_s):
            since_publish += self.poll_s
            connected = self.client.connected
            if not connected:
                was_connected = False
                continue
            try:
                with self.ctx.reads() as session:
                    current = version(session)
            except Exception:
                log.exception("could not read the policy version")
                continue
            if current != self.published or not was_connected or since_publish >= self.republish_s:
                self._publish(current)
                since_publish = 0.0
            was_connected = True

    def _publish(self, current: tuple[str, int]) -> None:
        epoch, n = current
        notice = PolicyNotice(epoch=epoch, n=n, ts=self.ctx.clock())
        self.client.publish(self.topic, notice, retain=True)
        self.published = current
        log.debug("policy notice %s-%s published", epoch, n)

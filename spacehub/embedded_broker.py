"""The embedded pure-Python MQTT broker (amqtt), for a demo where Mosquitto is not
installed: see `EmbeddedBroker`, and `spacehub.broker` for the choice between the two."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from spacehub.ports import HOST, BrokerStartError, check_port_free


class EmbeddedBroker:
    """amqtt's broker on a background thread with its own asyncio loop, for showing the system.

    Not for keeping promises: it speaks MQTT 3.1.1 only, keeps no queue for a disconnected
    persistent session of an anonymous client (and every client is anonymous here, so QoS 1
    messages published while a consumer is offline are lost), keeps nothing across a
    restart (its persistence plugin is unreliable, so it is not used), and has no ACLs.
    It listens on 127.0.0.1 only and accepts anonymous clients.

    >>> broker = EmbeddedBroker(port=1883)  # doctest: +SKIP
    >>> broker.start()  # doctest: +SKIP
    >>> broker.url  # doctest: +SKIP
    'mqtt://127.0.0.1:1883'
    >>> broker.stop()  # doctest: +SKIP
    """

    name = "embedded"

    def __init__(self, host: str = HOST, port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _config(self) -> dict[str, Any]:
        # TCP_NODELAY needs nothing here: asyncio sets it on every accepted TCP socket.
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; return once clients can connect."""
        if self._thread is not None:
            raise BrokerStartError("embedded broker already started")
        for name in ("amqtt", "transitions"):  # both log every connection and state change
            logging.getLogger(name).setLevel(logging.WARNING)
        check_port_free(self.host, self.port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"mqtt-broker-{self.port}", daemon=True
        )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout)
        except Exception as exc:
            self._close_loop()
            raise BrokerStartError(
                f"embedded MQTT broker did not start on {self.host}:{self.port}: {exc}"
            ) from exc

    async def _start(self) -> None:
        from amqtt.broker import Broker  # imported here: only the server extra installs amqtt

        broker = Broker(self._config())
        amqtt_connected = broker.stream_connected

        async def connected(reader: Any, writer: asyncio.StreamWriter, listener_name: str) -> None:
            try:
                await amqtt_connected(reader, writer, listener_name)
            finally:
                # amqtt's own close drains first and gives up when that raises (a reset
                # socket), and a handler cancelled by stop() closes nothing: without this
                # the socket would stay open until garbage collection, with a ResourceWarning.
                writer.transport.abort()

        broker.stream_connected = connected  # amqtt looks it up when it starts listening
        await broker.start()
        self._broker = broker

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection and the listener, then end the loop thread."""
        if self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout)
        finally:
            self._close_loop()

    async def _stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
        # Whatever amqtt left running (per-client handler tasks) ends here, not in a warning
        # about a task destroyed while pending.
        me = asyncio.current_task()
        rest = [task for task in asyncio.all_tasks() if task is not me]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)
        await asyncio.sleep(0)  # closed transports release their sockets on the next turn
        await asyncio.get_running_loop().shutdown_asyncgens()

    def _close_loop(self) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> EmbeddedBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

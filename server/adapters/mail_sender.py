"""The mail sender: a daemon thread that sends the queued mail every few seconds
(server.notify.sender), away from the door path and from requests, so a slow or
refusing SMTP server delays nothing but mail.

    sender = MailSender(ctx)    # only when SPACEHUB_SMTP_URL is set
    sender.start()
    ...
    sender.stop()

Tests call `run_once()` with a moved clock instead of starting the thread."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from server.adapters.background import Background
from server.notify.sender import SendReport, send_due
from server.notify.smtp import smtp_target

if TYPE_CHECKING:
    from server.context import ServerContext

log = logging.getLogger(__name__)


class MailSender(Background):
    """Runs `send_due` every `interval` seconds on the context's SMTP server."""

    THREAD = "mail-sender"

    def __init__(self, ctx: ServerContext, *, interval: float = 2.0) -> None:
        if not ctx.settings.smtp_url:
            raise ValueError("no SMTP server: SPACEHUB_SMTP_URL is not set")
        super().__init__()
        self.ctx = ctx
        self.target = smtp_target(ctx.settings.smtp_url)
        self.interval = interval

    def run_once(self) -> SendReport:
        """One pass: every mail due now, sent or counted as failed."""
        ctx = self.ctx
        return send_due(
            ctx.reads,
            ctx.writes,
            target=self.target,
            mail_from=ctx.settings.mail_from,
            now=ctx.clock(),
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("sending mail failed; trying again in %.0f s", self.interval)
            self._stop.wait(self.interval)

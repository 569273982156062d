"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port): the demo's own
(spacehub.demomail.MailCatcher), and one that refuses every message; and sending what is
queued, as the server's mail sender does.

    with smtp_server() as mailbox:
        ctx = mail_context(settings, clock, mailbox.url)
        ...                                     # book, cancel, ...
        send_queued(ctx)
        [got] = mailbox.messages(to="ala@example.org")
        got.subject, got.text, got.html, got.links, got.attachments()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from icalendar import Calendar

from server.adapters.mail_sender import MailSender
from server.context import ServerContext
from server.notify.sender import SendReport
from server.settings import Settings
from spacehub.demomail import MailCatcher, Received
from spacehub.ports import free_port
from support.clock import Clock


class RefusingCatcher(MailCatcher):
    """An SMTP server that answers every message with `reply` (a temporary failure)."""

    reply = "451 4.3.0 Try again later"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.reply


@contextmanager
def smtp_server(*, refusing: bool = False) -> Iterator[MailCatcher]:
    """A running SMTP server that keeps what it is sent (or refuses it), stopped after."""
    catcher = RefusingCatcher() if refusing else MailCatcher()
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()


def nobody_listening() -> str:
    """The URL of an SMTP server that is down: a port nothing listens on."""
    return f"smtp://127.0.0.1:{free_port()}"


def mail_context(settings: Settings, clock: Clock, smtp_url: str | None) -> ServerContext:
    """A server context whose mail goes to `smtp_url` (the caller closes it)."""
    return ServerContext.create(settings.model_copy(update={"smtp_url": smtp_url}), clock=clock)


def send_queued(ctx: ServerContext) -> SendReport:
    """One pass of the server's mail sender at the context's clock."""
    return MailSender(ctx).run_once()


def calendar_of(message: Received) -> Calendar:
    """The message's `.ics` attachment, parsed by icalendar."""
    [part] = [p for p in message.attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())

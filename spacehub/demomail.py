"""The demo's own SMTP server and its mailbox page: every mail the demo sends is caught
here and shown to signed-in staff at `/demo/mail`, so a sign-in link, a booking's `.ics`
and a cancel link can be followed on one machine. Only `spacehub demo` installs the page
(a server never catches mail), and it hides a sign-in link's token as staff's mail lists
do: shown only for an account whose role is below the reader's.

    catcher = MailCatcher()
    catcher.start()                  # aiosmtpd on 127.0.0.1, a free port
    settings = Settings(smtp_url=catcher.url, ...)
    app = create_app(settings, ctx=ctx)
    install(app, catcher)            # GET /demo/mail, /demo/mail/{id}, .../attachment
    ...
    catcher.stop()

The mail is kept in memory, newest first, up to `KEEP` messages. The tests' SMTP server
(tests/support/smtp.py) is this one."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from server.dashboard.pages import SECURITY_HEADERS, LangQuery, page_lang, render
from server.deps import CallerDep, ReadSession, Staff
from server.errors import NotFound
from server.people import logins
from spacehub.ports import HOST, free_port

KEEP = 500
_LINK = re.compile(r"https?://[^\s<>\"]+")


def links_in(text: str) -> list[str]:
    """The links in a text, in order, once each."""
    return list(dict.fromkeys(_LINK.findall(text)))


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server took it."""

    id: int
    at: datetime
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The plain text part."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""  # type: ignore[no-any-return]

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None  # type: ignore[no-any-return]

    @property
    def links(self) -> list[str]:
        """The links in its plain text, in order, once each."""
        return links_in(self.text)

    def attachments(self) -> list[EmailMessage]:
        return list(self.message.iter_attachments())  # type: ignore[arg-type]


class MailCatcher:
    """An SMTP server on 127.0.0.1 that keeps every message it receives."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._controller = Controller(self, hostname=HOST, port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> None:
        # aiosmtpd logs every connection at INFO: not news in the demo's log
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            got = Received(
                id=(self._received[-1].id + 1) if self._received else 1,
                at=datetime.now(UTC),
                sender=envelope.mail_from,
                recipients=tuple(envelope.rcpt_tos),
                message=parsed,  # type: ignore[arg-type]
            )
            self._received = [*self._received[-(KEEP - 1) :], got]
        return "250 Message accepted for delivery"

    def messages(self, to: str | None = None) -> list[Received]:
        """Every message kept, oldest first; only those to `to` when given."""
        with self._lock:
            kept = list(self._received)
        if to is None:
            return kept
        return [m for m in kept if to.lower() in (r.lower() for r in m.recipients)]

    def get(self, message_id: int) -> Received:
        """One message by id, or NotFound."""
        for found in self.messages():
            if found.id == message_id:
                return found
        raise NotFound(f"no message {message_id}")


# -- /demo/mail: the mailbox for staff --------------------------------------------------

router = APIRouter(include_in_schema=False, dependencies=[Staff])


def _catcher(request: Request) -> MailCatcher:
    return request.app.state.demo_mail  # type: ignore[no-any-return]


@router.get("/demo/mail")
def mailbox(request: Request, lang: LangQuery = None) -> Response:
    """Every message caught, newest first."""
    shown = list(reversed(_catcher(request).messages()))
    return render(request, "demo/mail.html", page_lang(request, lang), messages=shown, one=None)


@router.get("/demo/mail/{message_id}")
def one_message(
    message_id: int,
    request: Request,
    principal: CallerDep,
    session: ReadSession,
    lang: LangQuery = None,
) -> Response:
    """One message: its headers, its text and its links (a sign-in link only for an
    account below the reader's role)."""
    found = _catcher(request).get(message_id)
    [text] = logins.shown_to(session, viewer=principal.manager, texts=[found.text])
    links = [link for link in links_in(text) if logins.REDACTED not in link]
    return render(
        request, "demo/mail.html", page_lang(request, lang), messages=[], one=found,
        text=text, links=links,
    )  # fmt: skip


@router.get("/demo/mail/{message_id}/attachment/{index}")
def attachment(message_id: int, index: int, request: Request) -> Response:
    """An attachment as sent (a booking's `.ics`), to download."""
    parts = _catcher(request).get(message_id).attachments()
    if not 0 <= index < len(parts):
        raise NotFound(f"message {message_id} has no attachment {index}")
    part = parts[index]
    name = re.sub(r"[^\w.-]", "_", part.get_filename() or f"attachment-{index}")
    headers = SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(part.get_content().encode() if part.get_content_maintype() == "text"
                    else part.get_content(), media_type=part.get_content_type(),
                    headers=headers)  # fmt: skip


def install(app: FastAPI, catcher: MailCatcher) -> None:
    """Serve `catcher`'s mailbox at /demo/mail on `app`."""
    app.state.demo_mail = catcher
    app.include_router(router)

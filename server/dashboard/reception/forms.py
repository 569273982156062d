"""What the reception desk's forms share: reading a posted form, local dates and times of
the site, and saying a refusal in the reader's language.

A state-changing form carries its session's hidden `csrf_token` (every page has it:
server.dashboard.pages), which the routers' `Staff` dependency checks (server.deps).
`Form` reads the posted fields. A change is made with `submit`, which commits
and redirects (POST, then GET), or on a refusal renders the page again with the error,
changing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from server.context import ServerContext
from server.dashboard.pages import LangQuery, page_lang
from server.deps import CtxDep, WriteSession, audited
from server.errors import DomainError
from server.notify import texts
from server.people.members import Refusal

MAX_FIELDS = 32


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields of an `application/x-www-form-urlencoded` form (the last of each
    name, stripped); 422 for too many fields."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        parsed = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise HTTPException(status_code=422, detail="too many form fields") from None
    return {k: v[-1].strip() for k, v in parsed.items()}


Form = Annotated[dict[str, str], Depends(read_form)]


@dataclass(frozen=True)
class Post:
    """What a form's handler works with: the request, the fields posted, a writer
    session, the server and the reader's language."""

    request: Request
    form: dict[str, str]
    session: Session
    ctx: ServerContext
    lang: str

    def audited(self, action: str, target: int, detail: dict[str, Any] | None = None) -> None:
        """Record in the audit log, in the change's transaction, what the caller did."""
        audited(self.request, self.session, action, target, detail)


def _post(
    request: Request, form: Form, session: WriteSession, ctx: CtxDep, lang: LangQuery = None
) -> Post:
    return Post(request, form, session, ctx, page_lang(request, lang))


PostDep = Annotated[Post, Depends(_post)]


def submit(
    session: Session,
    change: Callable[[], str],
    failed: Callable[[DomainError], Response],
) -> Response:
    """Make `change` in one transaction and redirect (303) to the URL it returns; when the
    domain refuses it, nothing is committed and `failed` answers with the page again."""
    try:
        with session.begin():
            target = change()
    except DomainError as exc:
        session.rollback()
        return failed(exc)
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def refusal(lang: str, exc: DomainError) -> str:
    """Why a change was refused, in `lang`: the refusal's own words when it has a key in
    the catalogues, else what kind of refusal it was."""
    key = getattr(exc, "key", None)
    if isinstance(key, str) and texts.known(key):
        return texts.text(lang, key)
    return texts.text(
        lang, f"error.status_{exc.status}" if exc.status in (404, 409) else "error.form_invalid"
    )


def url(path: str, lang: str, **query: object) -> str:
    """`path` with `lang` and the other non-empty query values."""
    values = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode({'lang': lang, **values})}"


# -- the site's local dates and times ---------------------------------------------------


def parse_date(text: str, key: str) -> date:
    """A `YYYY-MM-DD` of a date field; Refusal `key` otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refusal(key, f"not a date: {text[:20]!r}") from None


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight at the start of `day`, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC"))


def last_day(until: datetime, zone: ZoneInfo) -> date:
    """The last local day of a span ending at `until` (exclusive)."""
    return (until - timedelta(microseconds=1)).astimezone(zone).date()


def local(value: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time as the site's local time; empty for None."""
    return value.astimezone(zone).strftime(fmt) if value is not None else ""

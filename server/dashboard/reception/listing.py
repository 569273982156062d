"""What the reception desk's newest-first lists share (the access log, the audit trail):
a GET form of filters kept as typed, the `before` cursor of a page, and rendering a page
of rows, or the form with what is wrong in it (422, nothing read)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Self
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from server.dashboard.pages import render
from server.errors import Invalid
from server.schemas import whole_number


@dataclass(frozen=True)
class Filters:
    """A list's filters as typed (strings, shown back as they were); subclasses name
    the fields."""

    @classmethod
    def of(cls, request: Request) -> Self:
        params = request.query_params
        return cls(**{f.name: params.get(f.name, "").strip() for f in fields(cls)})

    def query(self, **more: object) -> str:
        """These filters as a query string (blank ones left out), with `more` added."""
        pairs = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        return urlencode(pairs | more)

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def list_texts(area: str, path: str) -> dict[str, str]:
    """What templates/reception/_list.html takes of a list: its address and the catalogue
    keys of its title, introduction, rows heading and empty list (`<area>.title`, ...)."""
    keys = {f"{part}_key": f"{area}.{part}" for part in ("title", "intro", "rows", "empty")}
    return keys | {"path": path}


def cursor(request: Request) -> int | None:
    """The page's `before` (a row id), None for the newest; Invalid when it is not one."""
    before = request.query_params.get("before", "").strip()
    if not before:
        return None
    row = whole_number(before)
    if row is None:
        raise Invalid("list.bad_page")
    return row


def show(
    request: Request,
    template: str,
    lang: str,
    *,
    form: Filters,
    rows: list[Any],
    after: int | None,
    first: bool,
    **values: Any,
) -> HTMLResponse:
    """A page of rows with its paging links (`after`: the next page's cursor)."""
    older = f"?{form.query(before=after)}" if after is not None else None
    return render(
        request, template, lang, error=None, form=form, rows=rows, older=older, first=first,
        **values,
    )  # fmt: skip


def refuse(
    request: Request, template: str, lang: str, *, form: Filters, bad: Invalid, **values: Any
) -> HTMLResponse:
    """The form again with what is wrong in it (`bad` holds a catalogue key), no rows."""
    return render(
        request, template, lang, status=422, error=str(bad), form=form, rows=[], older=None,
        first=True, **values,
    )  # fmt: skip

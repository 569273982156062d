"""Cursor paging at the HTTP edge: the next page's address in an RFC 8288 `Link` header
(`<...?before=42>; rel="next"`), the request's own query with its `before` moved on.
There is no such header on the last page."""

from __future__ import annotations

from fastapi import Request, Response


def link_next(request: Request, response: Response, before: int | None) -> str | None:
    """Set the `Link: rel="next"` header to the page after `before`; the URL, or None."""
    if before is None:
        return None
    url = str(request.url.include_query_params(before=before))
    response.headers["Link"] = f'<{url}>; rel="next"'
    return url

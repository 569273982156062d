"""The information notice (GDPR, art. 13): what the hub records, why, for how long, whom
to ask, and the rights of the people it records. Public, in Polish, English and Ukrainian;
linked from every page's footer.

| route | what |
| --- | --- |
| `GET /privacy` | the notice; how long from the site file's `[privacy]` table |
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.dashboard.pages import LangQuery, page_lang, render
from server.deps import CtxDep

router = APIRouter(include_in_schema=False)


@router.get("/privacy")
def privacy(request: Request, ctx: CtxDep, lang: LangQuery = None) -> Response:
    return render(
        request,
        "reception/privacy.html",
        page_lang(request, lang),
        privacy=ctx.site.privacy,
    )

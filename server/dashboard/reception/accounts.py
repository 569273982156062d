"""The accounts page (`/reception/accounts`): users (administrators see and make every
account, staff member accounts only; one bound to a site, member accounts and accounts
of its site only), the signed-in user's API tokens, and the sign-in mail waiting to be
sent (a link's token only for an account below the reader's role that they manage);
and a user's page (`/reception/accounts/{id}`) to change their name, e-mail, role,
password or site (administrators), or disable and enable them, as `PATCH /api/users/{id}`
does.

Forms post and redirect (or show the page again with the error, in the reader's language);
each carries the session's `csrf_token`, which the route's `Staff` dependency checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from server.dashboard.pages import LangQuery, page_lang, render
from server.dashboard.reception.forms import url
from server.deps import CallerDep, Principal, Staff, audited, get_ctx, read_form
from server.errors import Conflict, DomainError, Forbidden
from server.notify import outbox, texts
from server.people import accounts, logins, tokens
from server.schemas import MAX_ID, Email, Name, whole_number

router = APIRouter(prefix="/reception/accounts", include_in_schema=False, dependencies=[Staff])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = "/reception/accounts"
EMAIL: TypeAdapter[str] = TypeAdapter(Email)
NAME: TypeAdapter[str] = TypeAdapter(Name)
MEMBER_ID: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=MAX_ID)])
# The site field's values besides a site's id: every site, and (a new account) the role's
# default (accounts.default_site).
EVERY_SITE, ROLE_DEFAULT = "*", ""


def _site_field(form: dict[str, str], role: str, here: str, by: accounts.Manager) -> str | None:
    """The site a form binds an account of `role` to (none for a member's account)."""
    chosen = form.get("site_id", ROLE_DEFAULT).strip()[:64]
    if role == "member" or chosen == EVERY_SITE:
        return None
    return accounts.default_site(role, here, by) if chosen == ROLE_DEFAULT else chosen


def _error_key(exc: DomainError) -> str:
    if isinstance(exc, Conflict):
        return "accounts.error.taken"
    if isinstance(exc, Forbidden):
        return "accounts.error.forbidden"
    return "accounts.error.invalid"


def _page(
    request: Request, principal: Principal, lang: str | None, status: int = 200, **extra: Any
) -> Response:
    ctx = get_ctx(request)
    chosen = page_lang(request, lang)
    with ctx.reads() as session:
        users = accounts.list_users(session, limit=500, by=principal.manager)
        mine = (
            [] if principal.user_id is None else tokens.of_user(session, user_id=principal.user_id)
        )
        waiting = outbox.pending(session, limit=50)
        bodies = logins.shown_to(session, viewer=principal.manager, texts=[m.body for m in waiting])
        mail = list(zip(waiting, bodies, strict=True))
        sites = accounts.sites(session, principal.manager) if principal.role == "admin" else []
    values: dict[str, Any] = {"error": None, "new_token": None, **extra}
    if values["error"]:
        values["error"] = texts.text(chosen, values["error"])
    return render(
        request,
        "reception/accounts.html",
        chosen,
        status=status,
        page_id="accounts",
        users=users,
        tokens=mine,
        mail=mail,
        roles=accounts.ROLES if principal.role == "admin" else ("member",),
        sites=sites,
        every_site=principal.site_id is None,
        can_have_tokens=principal.user_id is not None,
        **values,
    )


def _change(
    request: Request,
    principal: Principal,
    lang: str | None,
    change: Callable[[Session], None],
    failed: Callable[[str, int], Response] | None = None,
) -> Response:
    """Make a change in one transaction, then back to the page; or the page (or `failed`'s)
    again, saying why not in the reader's language (and nothing changed)."""
    try:
        with get_ctx(request).writes() as session, session.begin():
            change(session)
    except DomainError as exc:
        if failed is not None:
            return failed(_error_key(exc), exc.status)
        return _page(request, principal, lang, status=exc.status, error=_error_key(exc))
    return RedirectResponse(url(PAGE, page_lang(request, lang)), status_code=303)


@router.get("")
def accounts_page(request: Request, principal: CallerDep, lang: LangQuery = None) -> Response:
    """Users, my API tokens and pending sign-in mail."""
    return _page(request, principal, lang)


@router.post("")
async def create_user(request: Request, principal: CallerDep, lang: LangQuery = None) -> Response:
    """Add a user from the form (staff: member users only)."""
    form = await read_form(request)
    ctx = get_ctx(request)
    role = form.get("role", "")
    member = form.get("member_id", "").strip()
    # a new member's category, for a member user not linked to an existing member
    category = (form.get("category") or None) if role == "member" and not member else None
    try:
        email, name = (
            EMAIL.validate_python(form.get("email", "")),
            NAME.validate_python(form.get("name", "")),
        )
    except ValidationError:
        return _page(request, principal, lang, status=422, error="accounts.error.invalid")

    def create(session: Session) -> None:
        user = accounts.create_user(
            session,
            email=email,
            name=name,
            role=role,
            password=form.get("password") or None,
            member_id=whole_number(member),
            category=category,
            site=ctx.site,
            site_id=_site_field(form, role, ctx.site.id, principal.manager),
            now=ctx.clock(),
            by=principal.manager,
        )
        detail = {"role": user.role, "site_id": user.site_id}
        audited(request, session, "user.create", user.id, detail)

    return _change(request, principal, lang, create)


@router.post("/{user_id}/{toggle}")
def disable_or_enable_user(
    user_id: Id,
    toggle: Literal["disable", "enable"],
    request: Request,
    principal: CallerDep,
    lang: LangQuery = None,
) -> Response:
    """Disable a user (their sessions and tokens end at once, for good; audited as the
    API's DELETE), or let a disabled one sign in again."""
    now = get_ctx(request).clock()
    disabled = toggle == "disable"

    def change(session: Session) -> None:
        user = accounts.update_user(
            session, user_id=user_id, changes={"disabled": disabled}, now=now, by=principal.manager
        )
        if disabled:
            audited(request, session, "user.delete", user_id)
        else:
            detail = accounts.change_detail(user, ["disabled"])
            audited(request, session, "user.update", user_id, detail)

    return _change(request, principal, lang, change)


@router.post("/tokens")
async def create_token(request: Request, principal: CallerDep, lang: LangQuery = None) -> Response:
    """Make an API token for the signed-in user; shown on this page once."""
    form = await read_form(request)
    name = form.get("name", "").strip()[:100]
    ctx = get_ctx(request)
    if principal.user_id is None or not name:
        return _page(request, principal, lang, status=422, error="accounts.error.invalid")
    with ctx.writes() as session, session.begin():
        secret, row = tokens.create(
            session, user_id=principal.user_id, name=name, expires=None, now=ctx.clock()
        )
        audited(request, session, "token.create", row.id, {"name": row.name})
    return _page(request, principal, lang, status=201, new_token=secret)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: Id, request: Request, principal: CallerDep, lang: LangQuery = None
) -> Response:
    """Revoke one of the signed-in user's tokens."""
    now = get_ctx(request).clock()

    def revoke(session: Session) -> None:
        if principal.user_id is None:
            raise Forbidden("the administrator token has no tokens")
        tokens.revoke(session, user_id=principal.user_id, token_id=token_id, now=now)
        audited(request, session, "token.revoke", token_id)

    return _change(request, principal, lang, revoke)


# -- one user -------------------------------------------------------------------------
# (after /tokens, which these paths would take for a user id)


def _user_page(
    request: Request,
    principal: Principal,
    lang: str | None,
    user_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    chosen = page_lang(request, lang)
    with get_ctx(request).reads() as session:
        user = accounts.get_user(session, user_id=user_id)
        accounts.may_manage(principal.manager, user)
        session.expunge(user)
        sites = accounts.sites(session, principal.manager) if principal.role == "admin" else []
    shown = {"name": user.name, "email": user.email, "role": user.role}
    shown["member_id"] = str(user.member_id or "")
    shown["site_id"] = user.site_id or EVERY_SITE
    return render(
        request,
        "reception/account.html",
        chosen,
        status=status,
        page_id="accounts",
        u=user,
        values=shown | (values or {}),
        roles=accounts.ROLES if principal.role == "admin" else ("member",),
        sites=sites,
        every_site=principal.site_id is None,
        error=texts.text(chosen, error) if error else None,
    )


@router.get("/{user_id}")
def user_page(
    user_id: Id, request: Request, principal: CallerDep, lang: LangQuery = None
) -> Response:
    """A user's details to change, and disabling or enabling them."""
    return _user_page(request, principal, lang, user_id)


@router.post("/{user_id}")
async def edit_user(
    user_id: Id, request: Request, principal: CallerDep, lang: LangQuery = None
) -> Response:
    """Change name, e-mail, role, member number, site (administrators) or password (left
    empty: unchanged)."""
    form = await read_form(request)
    member = form.get("member_id", "").strip()

    def failed(error: str, status: int) -> Response:
        return _user_page(
            request, principal, lang, user_id, status=status, error=error, values=form
        )

    try:
        asked: dict[str, Any] = {
            "name": NAME.validate_python(form.get("name", "")),
            "email": accounts.normal_email(EMAIL.validate_python(form.get("email", ""))),
            "role": form.get("role", ""),
        }
        if member:
            asked["member_id"] = MEMBER_ID.validate_python(member)
        if "site_id" in form:  # administrators' form only
            here = get_ctx(request).site.id
            asked["site_id"] = _site_field(form, asked["role"], here, principal.manager)
    except ValidationError:
        return failed("accounts.error.invalid", 422)
    password = form.get("password", "")
    ctx = get_ctx(request)
    by = principal.manager

    def change(session: Session) -> None:
        user = accounts.get_user(session, user_id=user_id)
        changes = {k: v for k, v in asked.items() if getattr(user, k) != v}
        if password:
            changes["password"] = password
        if changes:
            accounts.update_user(
                session, user_id=user_id, changes=changes, now=ctx.clock(), here=ctx.site.id, by=by
            )
            audited(request, session, "user.update", user_id, accounts.change_detail(user, changes))

    return _change(request, principal, lang, change, failed)

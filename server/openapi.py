"""The OpenAPI document's shared parts: the bearer (or session cookie) security scheme, the
`Error` schema and, for every route, the error statuses it can answer; and `/docs`, Swagger
UI served from the `swagger-ui-bundle` package so that it works without the internet."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel
from starlette.staticfiles import StaticFiles

from server.deps import CSRF_HEADER, caller
from server.people.sessions import COOKIE

DOCS_STATIC = "/docs/static"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
INVALID_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLES = ("admin", "staff", "member", "gateway")


class Error(BaseModel):
    """Every error but 422: why the request was refused."""

    detail: str


def unavailable(why: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer 503."""
    return {503: {"model": Error, "description": why}}


def _needs_auth(dependant: Dependant) -> bool:
    """Whether the route knows its caller: `caller`, or a dependency that says its roles."""
    return any(
        d.call is caller or hasattr(d.call, "roles") or _needs_auth(d)
        for d in dependant.dependencies
    )


def _roles(dependant: Dependant) -> list[str]:
    """The roles every one of a route's `allow` dependencies (server.deps) lets through."""
    found = set(ROLES)
    for d in _all(dependant):
        found &= getattr(d.call, "roles", found)
    return [r for r in ROLES if r in found]


def _all(dependant: Dependant) -> list[Dependant]:
    return [d for sub in dependant.dependencies for d in (sub, *_all(sub))]


def _takes_input(dependant: Dependant) -> bool:
    if dependant.path_params or dependant.query_params or dependant.body_params:
        return True
    if dependant.header_params or dependant.cookie_params:
        return True
    return any(_takes_input(d) for d in dependant.dependencies)


def _errors(route: RouteContext, method: str) -> dict[int, str]:
    """The error statuses a route can answer, and why."""
    dependant = route.dependant
    errors: dict[int, str] = {}
    if _needs_auth(dependant):
        errors[401] = "no token or session, or an invalid one"
        errors[403] = "a role that may not do this (or a browser without its X-CSRF-Token)"
    if dependant.path_params:
        errors[404] = "unknown id"
    if method in CHANGES:
        errors[409] = "it conflicts with what is stored"
        errors[413] = "a body over 64 KiB"
    if _takes_input(dependant) or method in CHANGES:
        errors[422] = "invalid input"
    return errors


def install(app: FastAPI) -> None:
    """Serve `/docs` offline and make `app.openapi()` document security and errors."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_STATIC, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png",
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = Error.model_json_schema()
    if "HTTPValidationError" not in schemas:
        # FastAPI adds these only when some route validates input; every route here does
        from fastapi.openapi.utils import (
            validation_error_definition,
            validation_error_response_definition,
        )

        schemas["ValidationError"] = validation_error_definition
        schemas["HTTPValidationError"] = validation_error_response_definition
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "an API token"},
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE,
            "description": "a signed-in browser's session (`POST /api/auth/login`); a request "
            "that changes something sends the session's CSRF token as well",
        },
        "csrf": {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "the session's CSRF token (`csrf_token` of the sign-in, or the "
            'page\'s `<meta name="csrf-token">`): required with the cookie on POST, PUT, '
            "PATCH and DELETE",
        },
    }
    # FastAPI includes routers lazily: their routes, with the router's dependencies, are
    # found through `iter_route_contexts`
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        path = schema["paths"].get(route.path_format)
        if path is None:
            continue
        for method in route.methods or ():
            operation = path.get(method.lower())
            if operation is None:
                continue
            if _needs_auth(route.dependant):
                cookie: dict[str, list[str]] = (
                    {"session": [], "csrf": []} if method in CHANGES else {"session": []}
                )
                operation["security"] = [{"bearer": []}, cookie]
                roles = _roles(route.dependant)
                if roles:
                    operation["x-roles"] = roles
                    operation["description"] = (
                        operation.get("description", "") + f"\n\nRoles: {', '.join(roles)}."
                    ).strip()
            responses = operation.setdefault("responses", {})
            for status, why in _errors(route, method).items():
                ref = INVALID_REF if status == 422 else ERROR_REF
                responses.setdefault(
                    str(status),
                    {"description": why, "content": {"application/json": {"schema": ref}}},
                )
    return schema

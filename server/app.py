"""`create_app(settings)`: the FastAPI application with the MQTT door path in its lifespan."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.context import ServerContext
from server.errors import DomainError
from server.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class BodyLimit:
    """413 for a request body over 64 KiB, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(scope, receive, send)
            return
        # A streamed body is read (up to the limit) before the app sees it: an exception
        # raised from inside `receive` would reach FastAPI's body parser, which turns any
        # failure into a 400.
        buffered: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the app hears it from the replay
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await _too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": "request body is over 64 KiB"}, status_code=413)
    await response(scope, receive, send)


def invalid(request: Request, message: str) -> JSONResponse:
    """The domain's 422, in the shape of FastAPI's: a list of `{loc, msg, type}`, located in
    the body of a request that may have one, else in the query."""
    where = "query" if request.method in {"GET", "HEAD", "DELETE"} else "body"
    detail = [{"loc": [where], "msg": message, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


def create_app(
    settings: Settings | None = None, *, ctx: ServerContext | None = None, mqtt: bool = True
) -> FastAPI:
    """The server application: HTTP API, and unless `mqtt=False` (API tests) the MQTT door
    path and the booking scheduler. It serves `ctx`, or else the context found in
    `app.state.ctx` at startup (the caller's to close), or else one of its own."""
    # routes import FastAPI pieces only when serving
    from server.api import router
    from server.dashboard import install as install_dashboard
    from server.openapi import install as install_openapi
    from server.portal import router as portal
    from server.portal.links import router as mail_links

    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        given = ctx or getattr(app.state, "ctx", None)
        context = given or ServerContext.create(settings)
        app.state.ctx = context
        app.state.ingest = None
        services: list = []  # type: ignore[type-arg]
        if mqtt:
            from server.adapters.door_ingest import DoorIngest
            from server.adapters.policy_notices import PolicyNotices
            from server.adapters.scheduler import Scheduler
            from server.adapters.sensor_ingest import SensorIngest

            ingest = DoorIngest(context)
            app.state.ingest = ingest
            # one account of whether the database takes writes, from both consumers
            app.state.sensors = SensorIngest(context, health=ingest.health)
            scheduler = Scheduler(
                context,
                start_after=ingest.backlog_applied,
                on_report=lambda report: context.events.publish_all(report.booking_events()),
            )
            notices = PolicyNotices(context, ingest.client)
            services = [ingest, notices, app.state.sensors, scheduler]
            if not context.lead.alone:  # replicas (PostgreSQL): dashboards hear all
                from server.adapters.live_relay import LiveRelay

                services.insert(0, LiveRelay(context))
            ha = context.site.home_assistant
            if ha.published_by(context.settings.instance):
                from server.adapters.home_assistant import HomeAssistant

                # on the sensors' connection: nothing it sends can delay a door
                services.append(HomeAssistant(context, app.state.sensors.client))
            elif ha.discovery:  # a replica of another name would never say why nothing comes
                log.info(
                    "Home Assistant's discovery is published by the replica %r, not this one "
                    "(%r): [home_assistant] instance in the site file",
                    ha.instance,
                    context.settings.instance,
                )
            if context.settings.smtp_url:  # unset: mail stays queued, visible to staff
                from server.adapters.mail_sender import MailSender

                services.append(MailSender(context))
        for service in services:
            service.start()
        try:
            yield
        finally:
            for service in reversed(services):
                service.stop()
            if given is None:
                context.close()
                del app.state.ctx

    # /docs is Swagger UI from a package (server.openapi), not from a CDN
    app = FastAPI(
        title="spacehub", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.add_middleware(BodyLimit)
    app.include_router(router)
    install_dashboard(app)
    app.include_router(portal)
    app.include_router(mail_links)
    install_openapi(app)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        if exc.status == 422:
            return invalid(request, str(exc))
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(ValueError)
    async def _value_error(request: Request, exc: ValueError) -> JSONResponse:
        return invalid(request, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # A JSON body that is not UTF-8 is invalid input like any other bad JSON (FastAPI
        # says 400 for it, and 422 for a JSON syntax error)
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            detail = [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]
            return JSONResponse({"detail": detail}, status_code=422)
        # A reception page opened without a session (never signed in, or its session
        # ended): the sign-in page, not a JSON body.
        if (
            exc.status_code == 401
            and request.method == "GET"
            and request.url.path.startswith("/reception/")
        ):
            return RedirectResponse("/", status_code=303)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's default echoes every bad input back: that may be a card UID, or text
        # that cannot be encoded as UTF-8 at all (a lone surrogate), which made it fail.
        # Say where and why, and escape what is left to ASCII.
        errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
        body = json.dumps({"detail": jsonable_encoder(errors)}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    return app

"""The OpenAPI document and `/docs`: Swagger UI without the internet, a bearer security
scheme, every error status documented, and a bounded schemathesis run that finds no 5xx and
no undocumented status or body."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from server.app import create_app


def test_docs_are_served_from_this_server(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?['"]([^'"]+)['"]""", page.text)
    urls = [a or b for a, b in urls]
    assert urls, page.text
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    kinds = set()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        kinds.add(response.headers["content-type"].split(";")[0])
    assert {"text/javascript", "text/css", "application/json"} <= kinds
    assert "://" not in page.text  # no other host, no CDN


PUBLIC = {"/api/auth/login", "/api/auth/magic-link"}  # signing in needs no token


def test_the_document_names_the_security_scheme_and_every_error() -> None:
    document = create_app(mqtt=False).openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an API token",
    }
    assert document["components"]["schemas"]["Error"]["required"] == ["detail"]
    ops = {
        (method.upper(), path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert "security" not in ops["GET", "/healthz"]
    for (method, path), op in ops.items():
        public = path.endswith("calendar.ics") or path in {
            "/api/auth/login",
            "/api/auth/magic-link",
        }
        if path.startswith("/api/") and not public:
            assert {"bearer": []} in op["security"], (method, path)
            assert {"401", "403"} <= set(op["responses"]), (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)
        if method != "GET":
            assert {"409", "413", "422"} <= set(op["responses"]), (method, path)
    created = ops["POST", "/api/bookings"]["responses"]
    assert created["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert created["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPValidationError"
    }


def test_the_domain_422_has_the_validation_shape(client, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/memberships",
        json={
            "member_id": 424242,
            "plan": "coworking",
            "valid_from": "2026-03-01T00:00:00Z",
            "valid_until": "2026-04-01T00:00:00Z",
        },
        headers=admin,
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"] and error["type"] == "value_error" and error["msg"]


def _request(case: Any, admin: dict[str, str]) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=admin)
    request: dict[str, Any] = {
        key: kwargs[key]
        for key in ("method", "url", "params", "headers", "json")
        if kwargs.get(key) is not None
    }
    if kwargs.get("cookies"):  # httpx deprecates per-request cookies: send the header
        cookie = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
        request["headers"] = {**request.get("headers", {}), "Cookie": cookie}
    if kwargs.get("data") is not None:
        data = kwargs["data"]
        request["content" if isinstance(data, bytes | str) else "data"] = data
    if kwargs.get("files"):
        request["files"] = kwargs["files"]
    return request


def _fuzz(client: Any, admin: dict[str, str], operation: Any, mode: Any) -> str | None:
    """The first failure of a few requests made for `operation`, or None."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [status_code_conformance, response_schema_conformance]
    if "503" not in operation.definition.raw.get("responses", {}):
        checks.append(not_a_server_error)  # else a documented 503: no broker in this test
    failures: list[str] = []

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=15,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = client.request(**_request(case, admin))
        try:
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as failure:  # all of them, reported below
            failures.append(f"{response.status_code} {response.text[:300]}\n{failure}"[:1500])

    try:
        check()
    except Unsatisfiable:
        assert mode.value == "negative"  # nothing there to make invalid
    return failures[0] if failures else None


@pytest.mark.slow  # a few thousand requests: about 25 s
def test_the_api_conforms_to_its_openapi(client, admin) -> None:  # type: ignore[no-untyped-def]
    """Valid and invalid requests to every operation: no 5xx, and only documented statuses
    and bodies."""
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.app.openapi())
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    failures: dict[str, str] = {}
    for mode, result in itertools.product(modes, schema.get_all_operations()):
        operation = result.ok()
        if operation.path == "/api/stream":
            continue  # an endless event stream; test_stream.py covers it
        failure = _fuzz(client, admin, operation, mode)
        if failure is not None:
            failures[f"{mode.value} {operation.method.upper()} {operation.path}"] = failure
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())

"""One error shape for the whole API: RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    Conflict, DomainError, InvalidTransition, NotFound, NotPermitted, RuleViolation, StaleOrder,
)
from workflows.errors import SignInFailed, UpstreamRateLimited, UpstreamRefused, UpstreamUnavailable
from workflows.photos import ImageTooLarge, UnsupportedImage
from workflows.throttle import TooManyAttempts

log = logging.getLogger("wudan.api")

PROBLEM_JSON = "application/problem+json"

STATUS_OF: dict[type[DomainError], int] = {
    InvalidTransition: 409,
    StaleOrder: 409,
    Conflict: 409,
    NotFound: 404,
    NotPermitted: 403,
    RuleViolation: 422,
    UnsupportedImage: 415,
    ImageTooLarge: 413,
    SignInFailed: 401,
    UpstreamUnavailable: 503,
    UpstreamRateLimited: 429,
    TooManyAttempts: 429,
    UpstreamRefused: 502,
}


def problem(
    status: int, detail: str | None = None, *, title: str | None = None, code: str | None = None,
    headers: dict[str, str] | None = None, **extensions,
) -> JSONResponse:
    body = {
        "type": f"urn:wudan:problem:{code}" if code else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    status = _status_for(exc)
    headers = None
    if status in (429, 503):
        headers = {"Retry-After": str(getattr(exc, "retry_after", 30))}
    elif status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="wudan"'}
    return problem(
        status, exc.detail, title=exc.title, code=exc.code, headers=headers,
        instance=request.url.path, **exc.extensions(),
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem(exc.status_code, detail, headers=getattr(exc, "headers", None), instance=request.url.path)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem(
        422, "the request is not valid; see errors", title="Invalid request",
        code="validation-error", instance=request.url.path, errors=errors,
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Lost connections, refused connections, an exhausted pool, a locked SQLite file: 503."""
    if not (isinstance(exc, OperationalError | SATimeout) or getattr(exc, "connection_invalidated", False)):
        return await _unexpected(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem(503, "the database is not reachable right now; try again shortly",
                   title="Service unavailable", code="database-unavailable", headers={"Retry-After": "5"},
                   instance=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "an unexpected error occurred; it has been logged", instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(SATimeout, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)


PROBLEM_RESPONSE = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def problem_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI entries for the problems an endpoint can answer with."""
    return {status: {"description": HTTPStatus(status).phrase, **PROBLEM_RESPONSE} for status in statuses}

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

from api.bodies import MalformedBody, UnsupportedMediaType
from domain.errors import (
    Conflict, DomainError, InvalidTransition, NotFound, NotPermitted, RuleViolation, StaleOrder,
)
from storage.errors import conflict_kind, timeout_kind
from workflows.errors import (
    SignInFailed, TransactionConflict, UpstreamRateLimited, UpstreamRefused, UpstreamUnavailable,
)
from workflows.photos import ImageTooLarge, UnsupportedImage
from workflows.throttle import TooManyAttempts
from infra.logs import request_id
from infra.metrics import DB_CONFLICTS, DB_TIMEOUTS

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
    TransactionConflict: 503,
    MalformedBody: 400,
    UnsupportedMediaType: 415,
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


def _malformed_body(request: Request, detail: str) -> JSONResponse:
    """A body that cannot be parsed at all; one that parses but does not fit is a 422."""
    return problem(400, detail, title="Malformed body", code="malformed-body", instance=request.url.path)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # The framework's only 400s are bodies it could not read: FastAPI's, caused by bytes that are
    # not UTF-8 or JSON nested too deep, and Starlette's for a broken form, whose detail says why.
    if exc.status_code == 400:
        if isinstance(exc.__cause__, UnicodeDecodeError):
            return _malformed_body(request, "the body is not valid UTF-8")
        if isinstance(exc.__cause__, RecursionError):
            return _malformed_body(request, "the body is nested too deeply to be parsed")
        if exc.__cause__ is not None:
            return _malformed_body(request, "the body cannot be parsed")
        return _malformed_body(request, f"the form cannot be parsed: {exc.detail}")
    detail = exc.detail if isinstance(exc.detail, str) else None
    code = "payload-too-large" if exc.status_code == 413 else None
    return problem(exc.status_code, detail, code=code, headers=getattr(exc, "headers", None),
                   instance=request.url.path)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    for e in exc.errors():
        if e.get("type") == "json_invalid":  # FastAPI's JSON syntax error, at ("body", position)
            why = e.get("ctx", {}).get("error", "syntax error")
            return _malformed_body(request, f"the body is not valid JSON: {why} at position {e['loc'][-1]}")
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem(
        422, "the request is not valid; see errors", title="Invalid request",
        code="validation-error", instance=request.url.path, errors=errors,
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error that reached the API: a conflict, a timeout, or the database out of reach."""
    if kind := conflict_kind(exc):
        # Use cases retry these themselves; this is one met outside a use case's retries.
        DB_CONFLICTS.labels(kind).inc()
        log.warning("database conflict (%s) on %s %s", kind, request.method, request.url.path)
        return problem(503, "other changes to the same records got in the way; try again",
                       title="Concurrent changes conflicted", code="database-conflict",
                       headers={"Retry-After": "1"}, instance=request.url.path)
    if kind := timeout_kind(exc):
        DB_TIMEOUTS.labels(kind).inc()
        log.warning("database %s on %s %s", kind, request.method, request.url.path)
        return problem(503, "the database took too long: a record is held by other work, or the query is too"
                       " big; try again shortly", title="Database timeout", code="database-timeout",
                       headers={"Retry-After": "2"}, instance=request.url.path, timeout=kind)
    return await _database_unavailable(request, exc)


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
    # The id the log line above carries (api/observability.py), for the caller to quote.
    rid = request_id.get()
    return problem(500, "an unexpected error occurred; it has been logged", instance=request.url.path,
                   **({"request_id": rid} if rid else {}))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(SATimeout, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)


PROBLEM_RESPONSE = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


# What reading a request body can end in, before the endpoint runs: a body that cannot be
# parsed (400), one over MAX_REQUEST_BYTES (413, api/limits.py), one of another media type
# than the operation's (415, api/bodies.py), one that does not fit (422).
BODY_PROBLEMS = {
    400: "Malformed body: not UTF-8, not JSON, or a broken form",
    413: "Content too large",
    415: "Unsupported media type: a body not of the type documented here",
    422: HTTPStatus(422).phrase,
}


def problem_responses(*statuses: int, body: bool = False) -> dict[int | str, dict]:
    """OpenAPI entries for the problems an endpoint can answer with; `body` for one that reads a body."""
    descriptions = {status: HTTPStatus(status).phrase for status in statuses}
    if body:
        descriptions.update(BODY_PROBLEMS)
    return {status: {"description": descriptions[status], **PROBLEM_RESPONSE} for status in sorted(descriptions)}

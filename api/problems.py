"""One error shape for the whole API: RFC 9457 problem details (application/problem+json).

Every problem has a `code`, the short name its `type` URN ends with (for a plain HTTP
error, whose type is about:blank, a name for its status), and is written in the reader's
language: `title` and `detail` in Chinese when Accept-Language prefers it, else English.
A refusal's own extensions come last, so a `code` of theirs wins: a 401 says there why
its token failed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.bodies import MalformedBody, UnsupportedMediaType
from api.languages import CONTENT_LANGUAGE, preferred_language
from domain.errors import (
    Conflict, DomainError, InvalidTransition, NotFound, NotPermitted, RuleViolation, StaleOrder,
)
from domain.messages import ENGLISH, Message, title
from storage.errors import conflict_kind, timeout_kind
from workflows.errors import (
    SignInFailed, TransactionConflict, UpstreamRateLimited, UpstreamRefused, UpstreamUnavailable,
    WeChatNotConfigured,
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
    WeChatNotConfigured: 503,
    MalformedBody: 400,
    UnsupportedMediaType: 415,
}


# Codes of plain HTTP errors (type about:blank), which no refusal of ours names.
HTTP_CODES = {
    400: "bad-request", 401: "sign-in-failed", 403: "not-permitted", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type",
    422: "validation-error", 429: "too-many-requests", 500: "internal-error", 503: "service-unavailable",
}


def http_code(status: int) -> str:
    return HTTP_CODES.get(status, f"http-{status}")


def problem(
    status: int, detail: Message | str | None = None, *, code: str | None = None, language: str = ENGLISH,
    fallback_title: str | None = None, headers: dict[str, str] | None = None,
    members: Mapping[str, object] | None = None, **extensions,
) -> JSONResponse:
    """A problem answer; `code` makes its type `urn:wudan:problem:<code>`, without one it is about:blank.

    A `detail` given as a plain string is English; Chinese readers then get the general
    text of the code. `members` (a refusal's own) are written last, over any other.
    """
    name = code or http_code(status)
    if isinstance(detail, str):
        detail = Message(name, detail)
    body = {
        "type": f"urn:wudan:problem:{code}" if code else "about:blank",
        "code": name,
        "title": title(name, language) or fallback_title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail.text(language)
    body.update(extensions)
    body.update(members or {})
    headers = {**(headers or {}), "Content-Language": CONTENT_LANGUAGE[language], "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def language_of(request: Request) -> str:
    return preferred_language(request.headers.get("accept-language"))


def _status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    status = _status_for(exc)
    headers = None
    if status in (429, 503):
        retry_after = getattr(exc, "retry_after", 30)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    elif status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="wudan"'}
    return problem(
        status, exc.message, code=exc.code, language=language_of(request), fallback_title=exc.title,
        headers=headers, instance=request.url.path, members=exc.extensions(),
    )


def _malformed_body(request: Request, detail: Message) -> JSONResponse:
    """A body that cannot be parsed at all; one that parses but does not fit is a 422."""
    return problem(400, detail, code="malformed-body", language=language_of(request), instance=request.url.path)


# Plain HTTP errors the framework raises with its own English words.
_HTTP_MESSAGES = {404: Message("route.not-found"), 405: Message("method-not-allowed")}


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # The framework's only 400s are bodies it could not read: FastAPI's, caused by bytes that are
    # not UTF-8 or JSON nested too deep, and Starlette's for a broken form, whose detail says why.
    if exc.status_code == 400:
        if isinstance(exc.__cause__, UnicodeDecodeError):
            return _malformed_body(request, Message("body.not-utf8"))
        if isinstance(exc.__cause__, RecursionError):
            return _malformed_body(request, Message("body.too-deep"))
        if exc.__cause__ is not None:
            return _malformed_body(request, Message("malformed-body"))
        return _malformed_body(request, Message("body.bad-form", why=exc.detail))
    detail = getattr(exc, "message", None) or _HTTP_MESSAGES.get(exc.status_code)
    if detail is None and isinstance(exc.detail, str):
        detail = exc.detail
    code = "payload-too-large" if exc.status_code == 413 else None
    return problem(exc.status_code, detail, code=code, language=language_of(request),
                   headers=getattr(exc, "headers", None), instance=request.url.path)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    language = language_of(request)
    for e in exc.errors():
        if e.get("type") == "json_invalid":  # FastAPI's JSON syntax error, at ("body", position)
            why = e.get("ctx", {}).get("error", "syntax error")
            return _malformed_body(request, Message("body.bad-json", why=why, position=e["loc"][-1]))
    errors = [
        {"loc": list(e.get("loc", ())), "msg": _field_message(e, language), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem(
        422, Message("validation-error"), code="validation-error", language=language,
        instance=request.url.path, errors=errors,
    )


def _field_message(error: dict, language: str) -> str:
    """pydantic's words for one field in English; the catalogue's `validation.<type>` in Chinese."""
    context = {name: _expected(value) for name, value in (error.get("ctx") or {}).items()}
    return Message(f"validation.{error.get('type', '')}", error.get("msg", ""), **context).text(language)


def _expected(value: object) -> object:
    # pydantic lists an enum's or a literal's values as "'a', 'b' or 'c'"; in Chinese, a、b、c.
    if isinstance(value, str) and "'" in value:
        return [part.strip(" '") for part in value.replace(" or ", ", ").split(",") if part.strip(" '")]
    return value


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error that reached the API: a conflict, a timeout, or the database out of reach."""
    if kind := conflict_kind(exc):
        # Use cases retry these themselves; this is one met outside a use case's retries.
        DB_CONFLICTS.labels(kind).inc()
        log.warning("database conflict (%s) on %s %s", kind, request.method, request.url.path)
        return problem(503, Message("database-conflict"), code="database-conflict", language=language_of(request),
                       headers={"Retry-After": "1"}, instance=request.url.path)
    if kind := timeout_kind(exc):
        DB_TIMEOUTS.labels(kind).inc()
        log.warning("database %s on %s %s", kind, request.method, request.url.path)
        return problem(503, Message("database-timeout"), code="database-timeout", language=language_of(request),
                       headers={"Retry-After": "2"}, instance=request.url.path, timeout=kind)
    return await _database_unavailable(request, exc)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Lost connections, refused connections, an exhausted pool, a locked SQLite file: 503."""
    if not (isinstance(exc, OperationalError | SATimeout) or getattr(exc, "connection_invalidated", False)):
        return await _unexpected(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem(503, Message("database-unavailable"), code="database-unavailable",
                   language=language_of(request), headers={"Retry-After": "5"}, instance=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    # The id the log line above carries (api/observability.py), for the caller to quote.
    rid = request_id.get()
    return problem(500, Message("internal-error"), language=language_of(request), instance=request.url.path,
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


# What a client does next depends on why it was refused, so every 401 says so in `code`.
UNAUTHORIZED = (
    "Unauthorized. `code` says why: `token_missing` (send a bearer token), `token_expired` (refresh the"
    " access token; a refresh token: sign in), `token_invalid` (not a token of this service: sign in),"
    " `signed_out` (signed out, session ended, new password, disabled account, revoked dashboard token:"
    " sign in again, refreshing will not help), `credentials_invalid` (wrong password or WeChat code)"
)


def problem_responses(*statuses: int, body: bool = False) -> dict[int | str, dict]:
    """OpenAPI entries for the problems an endpoint can answer with; `body` for one that reads a body."""
    descriptions = {status: UNAUTHORIZED if status == 401 else HTTPStatus(status).phrase for status in statuses}
    if body:
        descriptions.update(BODY_PROBLEMS)
    return {status: {"description": descriptions[status], **PROBLEM_RESPONSE} for status in sorted(descriptions)}

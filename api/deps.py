"""Dependencies shared by the routes: the session, the time, the caller, paging, strict parameters."""

from __future__ import annotations

import re
from dataclasses import replace
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sqlmodel import Session

from domain.roles import Role
from workflows.errors import SignInFailed, SignInReason
from workflows import dashboards
from workflows.identity import SIGNED_OUT_DETAIL, role_refused
from workflows.inputs import MAX_ID, PhotoId
from workflows.paging import MAX_PAGE_SIZE, PageRequest
from workflows.principal import Bearer, Principal
from infra.settings import Settings
from infra.tokens import TokenError, TokenExpired, read_token

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# The dependencies below do no blocking I/O, so they are `async def` and run on the
# event loop: each plain `def` would cost a hand-off to the thread pool and back.
# Opening a session does not connect; closing one that the endpoint already closed
# (api/routing.py) does nothing.
async def get_db(request: Request) -> AsyncIterator[Session]:
    # A GET only reads: outside a transaction, so there is nothing to roll back after it.
    database = request.app.state.db
    session = database.reader() if request.method in _READ_METHODS else database.session(write=True)
    try:
        yield session
    finally:
        session.close()


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_now(request: Request) -> datetime:
    return request.app.state.clock()


async def get_read_db(request: Request) -> AsyncIterator[Session]:
    session = request.app.state.db.session()
    try:
        yield session
    finally:
        session.close()


Db = Annotated[Session, Depends(get_db)]
# For POSTs that only read (a sign-in): no write lock on SQLite while argon2 runs.
ReadDb = Annotated[Session, Depends(get_read_db)]
Now = Annotated[datetime, Depends(get_now)]
AppSettings = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="A token from /auth/*")


async def get_principal(
    request: Request,
    settings: AppSettings,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | Bearer:
    """The caller: a dashboard at once (one primary-key read: a revoked token is refused on every
    replica), a resident or staff member as a `Bearer`, read in the endpoint's thread (api/routing.py)."""
    if credentials is None:
        raise SignInFailed("sign in first: send Authorization: Bearer <token>", SignInReason.TOKEN_MISSING)
    try:
        claims = read_token(settings.secret_key, credentials.credentials, now)
    except TokenExpired as exc:
        raise SignInFailed("the token has expired; refresh it or sign in again", SignInReason.TOKEN_EXPIRED) from exc
    except TokenError as exc:
        raise SignInFailed("the token is not valid; sign in again", SignInReason.TOKEN_INVALID) from exc
    if claims.kind != "dashboard":
        return Bearer(claims, request.app.state.db)
    principal = await run_in_threadpool(dashboards.principal_for_token, request.app.state.db, claims, now)
    if principal is None:
        raise SignInFailed(SIGNED_OUT_DETAIL, SignInReason.SIGNED_OUT)
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):
    async def check(user: CurrentUser) -> Principal | Bearer:
        # On the token's word first (cheap); a Bearer is checked again once its account is read.
        if user.role not in roles:
            raise role_refused(roles)
        return replace(user, roles=roles) if isinstance(user, Bearer) else user

    return Depends(check)


Resident = Annotated[Principal, require(Role.RESIDENT)]
Staff = Annotated[Principal, require(Role.GRID_WORKER, Role.SECRETARY, Role.MEMBER, Role.TOWN_ADMIN)]
Admin = Annotated[Principal, require(Role.TOWN_ADMIN)]
Person = Annotated[Principal, require(*(set(Role) - {Role.DASHBOARD, Role.SYSTEM}))]


# Numbers and booleans in paths and queries are taken only in their one canonical spelling:
# pydantic's lax parsing would also read "1.0", "+1", " 1", "1_000" or "01" as 1, and "yes",
# "on" or "1" as true, so one request could be written many ways past ETags, logs and any
# filter in front of the service. The checks run before pydantic's own, on the raw string,
# so the schema still says integer or boolean.
def _digits(pattern: str, should_be: str) -> BeforeValidator:
    canonical = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and not canonical.fullmatch(value):
            raise PydanticCustomError("int_parsing", "Input should be {should_be}, in decimal digits alone",
                                      {"should_be": should_be})
        return value

    return BeforeValidator(check)


def _true_or_false(value: object) -> object:
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        raise PydanticCustomError("bool_parsing", "Input should be true or false")
    return value


_POSITIVE = _digits(r"[1-9][0-9]*", "a positive whole number")
_NON_NEGATIVE = _digits(r"0|[1-9][0-9]*", "a whole number")

# Bounds go before the check: placed after it, pydantic would write them into the schema as `ge`/`le`,
# which are not JSON Schema, rather than as minimum and maximum.
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE), _NON_NEGATIVE]
_Offset = Annotated[int, Field(ge=0, le=1_000_000), _NON_NEGATIVE]
QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]


def page_params(
    limit: Annotated[PageSize, Query(description="Page size")] = 20,
    offset: Annotated[_Offset, Query(description="Rows to skip")] = 0,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


Paging = Annotated[PageRequest, Depends(page_params)]


# Ids in paths and queries: plain digits, a number PostgreSQL's integer can hold, else 422.
_Id = Annotated[int, Field(gt=0, le=MAX_ID), _POSITIVE]
PathId = Annotated[_Id, Path()]
QueryId = Annotated[_Id | None, Query()]


# Photo ids are random URL-safe tokens (workflows/photos.py). Anything else, such as a NUL byte,
# which PostgreSQL refuses in text, is bad input and a 422, before any query is made.
PathPhotoId = Annotated[PhotoId, Path(description="A photo's id, as its upload answered: URL-safe base64")]

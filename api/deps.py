"""Dependencies shared by the routes: the session, the time, the caller, paging."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from domain.roles import Role
from domain.errors import NotPermitted
from workflows.errors import SignInFailed
from workflows.identity import principal_for
from workflows.inputs import MAX_ID
from workflows.paging import MAX_PAGE_SIZE, PageRequest
from workflows.principal import Principal
from wudan.settings import Settings
from wudan.tokens import TokenError, read_token

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Iterator[Session]:
    write = request.method not in _READ_METHODS
    with request.app.state.db.session(write=write) as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_now(request: Request) -> datetime:
    return request.app.state.clock()


def get_read_db(request: Request) -> Iterator[Session]:
    with request.app.state.db.session() as session:
        yield session


Db = Annotated[Session, Depends(get_db)]
# For POSTs that only read (a sign-in): no write lock on SQLite while argon2 runs.
ReadDb = Annotated[Session, Depends(get_read_db)]
Now = Annotated[datetime, Depends(get_now)]
AppSettings = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="A token from /auth/*")


def get_principal(
    request: Request,
    settings: AppSettings,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise SignInFailed("sign in first: send Authorization: Bearer <token>")
    try:
        claims = read_token(settings.secret_key, credentials.credentials, now)
    except TokenError as exc:
        raise SignInFailed("the token is invalid or expired; sign in again") from exc
    # Its own read session: on SQLite the request's write lock is not taken just to know who asks.
    with request.app.state.db.session() as db:
        principal = principal_for(db, claims)
    if principal is None:
        raise SignInFailed("the account of this token no longer exists or is disabled")
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):
    def check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise NotPermitted(f"this is for: {', '.join(r.value for r in roles)}")
        return user

    return Depends(check)


Resident = Annotated[Principal, require(Role.RESIDENT)]
Staff = Annotated[Principal, require(Role.GRID_WORKER, Role.SECRETARY, Role.MEMBER, Role.TOWN_ADMIN)]
Admin = Annotated[Principal, require(Role.TOWN_ADMIN)]
Person = Annotated[Principal, require(*(set(Role) - {Role.DASHBOARD, Role.SYSTEM}))]


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip")] = 0,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


Paging = Annotated[PageRequest, Depends(page_params)]


# Ids in paths and queries: a number PostgreSQL's integer can hold, else 422.
PathId = Annotated[int, Path(gt=0, le=MAX_ID)]
QueryId = Annotated[int | None, Query(gt=0, le=MAX_ID)]

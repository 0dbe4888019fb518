"""The router every route module uses: bodies checked before they are parsed, HEAD answered as GET,
and a request's session back in the pool as the endpoint returns.

A body must be of the media type its operation documents, and JSON must be UTF-8
(api/bodies.py): checked here, once for every route, before FastAPI reads the body.

A HEAD on a GET route is answered by the GET, without its body: the same status and
headers, Content-Length and ETag included. HEAD is not a separate operation in the
OpenAPI document.

Sessions: FastAPI leaves a `yield` dependency only after the response has been validated (in the
thread pool, for a plain `def` endpoint) and sent. A session held that long keeps its
pooled connection, and on SQLite its lock, while the request waits for a free thread;
with more requests in flight than threads, the threads then wait for connections held
by requests waiting for threads, and nothing moves until the pool times out. Closing
the sessions in the endpoint's own thread, once its answer is built, breaks that cycle.
Answers are plain models by then, so nothing is loaded after the close.

The caller: a token's account is read in the endpoint's own thread, just before the
endpoint runs (`_resolved`), rather than in a thread hand-off of its own.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from api.bodies import check_body
from storage.engine import READER_SESSION
from workflows.identity import resolve_bearer
from workflows.principal import Bearer


def _resolved(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's arguments with every `Bearer` read into its `Principal`.

    A GET's session reads outside a transaction, so the read uses it: one connection for
    the request. A write's session is left alone, not to begin its transaction (and, on
    SQLite, take the writer's turn) before the use case means to.
    """
    bearers = [name for name, value in kwargs.items() if isinstance(value, Bearer)]
    if not bearers:
        return kwargs
    reader = next((v for v in kwargs.values() if isinstance(v, Session) and v.info.get(READER_SESSION)), None)
    resolved = dict(kwargs)
    for name in bearers:
        bearer = kwargs[name]
        if reader is not None:
            resolved[name] = resolve_bearer(reader, bearer)
        else:
            with bearer.database.reader() as db:
                resolved[name] = resolve_bearer(db, bearer)
    return resolved


def _closing_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        # On the event loop, which does no blocking database work: a Bearer is read in
        # the thread pool first.
        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            if any(isinstance(value, Bearer) for value in kwargs.values()):
                kwargs = await run_in_threadpool(_resolved, kwargs)
            return await endpoint(*args, **kwargs)

        return run_async

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **_resolved(kwargs))
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()

    return run


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] in ("http.response.body", "http.response.pathsend"):
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return send_head


class ServiceRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _closing_sessions(endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        accepted = self.body_field.field_info.media_type  # application/json, or multipart/form-data for uploads

        async def checked(request: Request) -> Any:
            await check_body(request, accepted)
            return await handler(request)

        return checked

    def _answers_head(self, scope: Scope) -> bool:
        return scope.get("method") == "HEAD" and "GET" in self.methods

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.PARTIAL and self._answers_head(scope):
            return Match.FULL, child_scope
        return match, child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._answers_head(scope):
            # A copy: the access log and the metrics, outside, still see the HEAD.
            await super().handle({**scope, "method": "GET"}, receive, _without_body(send))
        else:
            await super().handle(scope, receive, send)


def api_router(**kwargs: Any) -> APIRouter:
    """An `APIRouter` whose routes check bodies, answer HEAD and release their sessions when the endpoint returns."""
    return APIRouter(route_class=ServiceRoute, **kwargs)

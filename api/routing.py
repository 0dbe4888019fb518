"""The router every route module uses: bodies checked before they are parsed, and a request's
session back in the pool as the endpoint returns.

A body must be of the media type its operation documents, and JSON must be UTF-8
(api/bodies.py): checked here, once for every route, before FastAPI reads the body.

Sessions: FastAPI leaves a `yield` dependency only after the response has been validated (in the
thread pool, for a plain `def` endpoint) and sent. A session held that long keeps its
pooled connection, and on SQLite its lock, while the request waits for a free thread;
with more requests in flight than threads, the threads then wait for connections held
by requests waiting for threads, and nothing moves until the pool times out. Closing
the sessions in the endpoint's own thread, once its answer is built, breaks that cycle.
Answers are plain models by then, so nothing is loaded after the close.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from api.bodies import check_body


def _closing_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        return endpoint  # runs on the event loop; it does no blocking database work

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()

    return run


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


def api_router(**kwargs: Any) -> APIRouter:
    """An `APIRouter` whose routes check bodies and release their sessions when the endpoint returns."""
    return APIRouter(route_class=ServiceRoute, **kwargs)

"""Per request: an id (given or made) in the logs and the response, an access log line, metrics.

An unexpected error is answered here too, as the app's 500 problem, while the request id is
still set. Left to Starlette's ServerErrorMiddleware, outside every other layer, the answer
would miss the id, and the exception it raises again after answering makes uvicorn drop the
connection, which a client holding it open for its next request then finds broken.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.logs import request_id
from infra.metrics import REQUEST_SECONDS, REQUESTS

log = logging.getLogger("wudan.access")
errors = logging.getLogger("wudan.api")
HEADER = b"x-request-id"
# A caller's id is kept only if it is short and plain, so it cannot forge log lines.
_SAFE_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    def __init__(self, app: ASGIApp, on_error: Callable[[Request, Exception], Awaitable[Response]]) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER, b"")
        rid = given.decode() if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        head_sent = body_sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, head_sent, body_sent
            if message["type"] == "http.response.start":
                status, head_sent = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                body_sent = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if not head_sent:
                response = await self.on_error(Request(scope), exc)
                await response(scope, receive, send_with_id)
            elif body_sent:
                # The whole answer is out (a background task or a dependency's cleanup failed
                # after it): the client has what it asked for and may keep the connection.
                errors.exception("error after answering %s %s", scope["method"], scope["path"])
            else:
                # Part of the answer is out, and only a dropped connection tells the client it is
                # cut short: the server drops it when the app returns with the answer unfinished.
                # Raised again instead, the error would be logged a second time, without the id.
                errors.exception("error while answering %s %s; the answer is cut short", scope["method"],
                                 scope["path"])
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            REQUEST_SECONDS.labels(route).observe(seconds)
            log.info("%s %s %s", scope["method"], scope["path"], status, extra={"fields": {
                "method": scope["method"], "path": scope["path"], "route": route, "status": status,
                "ms": round(seconds * 1000, 1),
            }})
            request_id.reset(token)

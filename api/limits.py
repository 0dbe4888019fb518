"""A bound on request bodies, enforced before anything parses them."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as ASGIMessage

from api.languages import preferred_language
from api.problems import problem
from domain.messages import ENGLISH, Message


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        self.message = Message("body.too-large", max_bytes=limit)
        super().__init__(413, self.message.text(ENGLISH))


class BodyLimit:
    """Refuse bodies over `max_bytes`: at once by Content-Length, or as they stream in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            language = preferred_language(headers.get(b"accept-language", b"").decode("latin-1"))
            response = problem(413, Message("body.too-large", max_bytes=self.max_bytes),
                               code="payload-too-large", language=language, instance=scope["path"])
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> ASGIMessage:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)

"""What a request body must be before anything parses it: the media type its operation takes, and UTF-8 JSON.

JSON between systems is UTF-8 (RFC 8259 §8.1). Python's `json.loads` also reads UTF-16 and
UTF-32, guessing the encoding from a byte order mark or from where the NUL bytes are, so one
request could arrive in several encodings, past anything in front of the service that reads
bodies as UTF-8. A JSON body must be UTF-8 without a byte order mark, which RFC 8259 forbids
senders to add; a raw NUL byte, which no JSON text holds, is refused too, since it is what
makes `json.loads` take UTF-8 bytes for UTF-16. A body of another media type than the one
the operation documents (text/plain, a form, none at all) is a 415 naming what is accepted,
not a 422 about fields the service never looked for.
"""

from __future__ import annotations

import codecs

from fastapi import Request
from starlette.exceptions import HTTPException

from domain.errors import DomainError

JSON = "application/json"


class UnsupportedMediaType(DomainError):
    code = "unsupported-media-type"

    def __init__(self, detail: str, accepted: list[str]) -> None:
        super().__init__(detail)
        self.accepted = accepted

    def extensions(self) -> dict:
        return {"accepted": self.accepted}


class MalformedBody(DomainError):
    """A body that cannot be read at all, as opposed to one that reads but does not fit (422)."""

    code = "malformed-body"


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    kind, *params = header.split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), parsed


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length.strip() != "0") or "transfer-encoding" in request.headers


async def check_body(request: Request, accepted: str) -> None:
    """Refuse a body of another media type than `accepted` (415) or, for JSON, one not in UTF-8 (400)."""
    if not _has_body(request):
        return  # nothing to misread; a required body is then a 422 of its own
    header = request.headers.get("content-type")
    if header is None:
        raise UnsupportedMediaType(f"a request body needs Content-Type: {accepted}", [accepted])
    kind, params = _media_type(header)
    if kind != accepted:
        raise UnsupportedMediaType(f"Content-Type {kind or header!r} is not accepted here; send {accepted}",
                                   [accepted])
    if accepted != JSON:
        return
    charset = params.get("charset")
    if charset is not None and charset.lower() != "utf-8":
        raise UnsupportedMediaType(f"JSON is sent in UTF-8 (RFC 8259); charset={charset} is not accepted",
                                   [accepted])
    try:
        body = await request.body()
    except HTTPException:
        raise  # too large: 413 (api/limits.py)
    except Exception as exc:  # noqa: BLE001  (as FastAPI itself answers a body it could not read)
        raise MalformedBody(key="malformed-body") from exc
    _check_utf8_json(body)


def _check_utf8_json(body: bytes) -> None:
    if body.startswith(codecs.BOM_UTF8):
        raise MalformedBody(key="body.bom")
    if b"\x00" in body:
        raise MalformedBody(key="body.nul")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody(key="body.not-utf8") from None

"""Stand-ins for the remote ends of notification delivery, on real loopback sockets.

- ``WeComRobotStandIn``: the WeCom group robot API (see /work/shared/NOTES.md):
  ``POST /cgi-bin/webhook/send?key=KEY`` with ``{"msgtype": "markdown", "markdown":
  {"content": …}}`` (≤ 4096 bytes) or text (≤ 2048 bytes). Errors come as HTTP 200 with an
  errcode: 93000 for a key it does not know (``keys``), 40058 for content too long,
  45009 when scripted (rate limited).
- ``WebhookReceiver``: any ``POST``; answers 200 ``{"ok": true}`` unless scripted.

Both are threaded stdlib HTTP servers on 127.0.0.1, port 0. Every request is recorded
on arrival (method, path, query, lower-cased headers, raw body, parsed JSON body); the
status and JSON it was answered with are added once answered. Failures are scripted:

- ``fail_next(n, how)``: the next ``n`` requests answer ``how``, then normal service;
- ``always = how``: every request (after the ``fail_next`` queue) answers ``how``;
- ``delay_seconds``: sleep this long before every answer (to make requests overlap).

``how`` is an int — an errcode for the WeCom stand-in (answered as HTTP 200 JSON), an HTTP
status for the webhook receiver — or a fault: ``"slow"`` (sleep ``slow_seconds``, past any
client timeout), ``"http500"``, ``"not_json"``, or ``"hold"`` (wait until ``release()``,
then answer HTTP 500).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

FAULTS = ("slow", "http500", "not_json", "hold")


@dataclass
class Received:
    """One request, recorded when it arrives; `status` and `answer` are filled in when answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: Any
    status: int | None = None  # None while in flight; 0 if the client had gone before the answer
    answer: Any = None  # the JSON it answered, if any


class _StandIn:
    name = "standin"

    def __init__(self, *, slow_seconds: float = 2.0) -> None:
        self.slow_seconds = slow_seconds
        self.delay_seconds = 0.0
        self.always: int | str | None = None
        self.requests: list[Received] = []
        self._script: list[int | str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._released = threading.Event()
        self._arrived = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=self.name, daemon=True
        )

    # -- life -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- script and inspect -------------------------------------------------------------

    def fail_next(self, n: int, how: int | str) -> None:
        with self._lock:
            self._script.extend([how] * n)

    def release(self) -> None:
        """Let "hold" answers go."""
        self._released.set()

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least `n` requests have arrived (recorded on arrival)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= n, timeout)

    def calls(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    # -- answers ----------------------------------------------------------------------------

    def _next_script(self) -> int | str | None:
        with self._lock:
            return self._script.pop(0) if self._script else self.always

    def _answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any):
        """(status, dict payload) for normal service; subclasses override."""
        raise NotImplementedError

    def _scripted(self, how: int | str) -> tuple[int, Any]:
        raise NotImplementedError

    def _handler_class(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                received = Received(method, parts.path, query, headers, raw, body)
                with standin._arrived:
                    standin.requests.append(received)
                    standin._arrived.notify_all()
                if standin.delay_seconds:
                    standin._stopping.wait(standin.delay_seconds)
                how = standin._next_script()
                if how == "slow":
                    standin._stopping.wait(standin.slow_seconds)
                    status, payload = standin._answer(method, parts.path, query, headers, body)
                elif how == "hold":
                    standin._released.wait(10)
                    status, payload = 500, b"held, then failed"
                elif how == "http500":
                    status, payload = 500, b"<html><body>500 Internal Server Error</body></html>"
                elif how == "not_json":
                    status, payload = 200, "<html><body>系统繁忙</body></html>".encode()
                elif how is not None:
                    status, payload = standin._scripted(how)
                else:
                    status, payload = standin._answer(method, parts.path, query, headers, body)
                if isinstance(payload, dict):
                    data = json.dumps(payload, ensure_ascii=False).encode()
                    content_type = "application/json; charset=utf-8"
                else:
                    data = payload
                    content_type = "text/html; charset=utf-8"
                # Recorded before it is sent: the client may act on the answer (and a test look
                # at `messages`) before this thread runs again.
                with standin._lock:
                    received.answer = payload if isinstance(payload, dict) else None
                    received.status = status
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    with standin._lock:
                        received.status = 0  # the client gave up (a timeout): nobody heard the answer

        return Handler


class WeComRobotStandIn(_StandIn):
    """The WeCom group robot webhook. Only keys in `keys` exist; others get 93000."""

    name = "wecom-standin"
    PATH = "/cgi-bin/webhook/send"
    ERRMSG: ClassVar[dict[int, str]] = {
        45009: "api freq out of limit", 93000: "invalid webhook url", 40058: "content exceed max length",
        -1: "system busy", 40008: "invalid message type",
    }

    def __init__(self, keys: set[str] | None = None, **kw) -> None:
        super().__init__(**kw)
        self.keys: set[str] = set(keys or ())

    def messages(self, key: str | None = None) -> list[dict]:
        """The bodies it accepted (answered errcode 0), optionally for one robot key."""
        return [r.body for r in self.calls(self.PATH)
                if r.status == 200 and isinstance(r.answer, dict) and r.answer.get("errcode") == 0
                and (key is None or r.query.get("key") == key)]

    def _error(self, errcode: int, errmsg: str | None = None) -> tuple[int, dict]:
        return 200, {"errcode": errcode, "errmsg": errmsg or self.ERRMSG.get(errcode, "error")}

    def _scripted(self, how):
        return self._error(int(how))

    def _answer(self, method, path, query, headers, body):
        if method != "POST" or path != self.PATH:
            return 404, {"errcode": 404, "errmsg": "not found"}
        if query.get("key") not in self.keys:
            return self._error(93000)
        if not isinstance(body, dict):
            return self._error(40008)
        kind = body.get("msgtype")
        if kind not in ("markdown", "text") or not isinstance(body.get(kind), dict):
            return self._error(40008)
        content = body[kind].get("content")
        if not isinstance(content, str) or not content:
            return self._error(40008)
        if len(content.encode()) > (4096 if kind == "markdown" else 2048):
            return self._error(40058)
        return 200, {"errcode": 0, "errmsg": "ok"}


class WebhookReceiver(_StandIn):
    """A receiver of the generic webhook. Scripted ints are HTTP statuses."""

    name = "webhook-receiver"

    def _scripted(self, how):
        return int(how), {"error": f"scripted {how}"}

    def _answer(self, method, path, query, headers, body):
        if method != "POST":
            return 405, {"error": "POST only"}
        return 200, {"ok": True}

    def delivered(self) -> Counter:
        """How many 2xx-answered requests each X-Wudan-Delivery id got."""
        return Counter(r.headers.get("x-wudan-delivery") for r in self.calls() if 200 <= (r.status or 0) < 300)

"""A stand-in for the WeChat server API on a real loopback socket.

It imitates the four calls wudan makes (see /work/shared/NOTES.md):

- ``GET /sns/jscode2session`` (appid, secret, js_code, grant_type=authorization_code)
  answers ``{openid, session_key, unionid}`` with no ``errcode`` key on success;
- ``POST /cgi-bin/stable_token`` (JSON grant_type=client_credential, appid, secret,
  force_refresh) answers ``{access_token, expires_in}``;
- ``POST /wxa/business/getuserphonenumber?access_token=…`` (JSON ``{code}``) answers
  ``{errcode: 0, errmsg: "ok", phone_info: {...}}``, or 40001 when the token is unknown
  or expired;
- ``POST /cgi-bin/message/subscribe/send?access_token=…`` (JSON touser, template_id,
  page, data ``{"thing1": {"value": …}}``, miniprogram_state, lang) answers
  ``{errcode: 0, errmsg: "ok", msgid}``; 40001 for an unknown or expired token, 47003
  when a value breaks WeChat's length limits (thing ≤ 20, phrase ≤ 5, name ≤ 10, …).
  Delivered messages are kept in ``subscribe_messages``. Failures are scripted either per
  openid (``subscribe_openids[openid] = 43101``, every call) or for the next calls
  whatever their openid (``fail_next_subscribes(n, how)``), where ``how`` is an errcode
  or a fault.

Every request is recorded (method, path, query, JSON body, lower-cased headers). Answers
are scripted per code: a login code maps to an openid (``login_codes``), a phone code to a
phone number (``phone_codes``); either may instead map to an errcode (an ``int``) or to a fault:
``"slow"`` (sleep longer than any client timeout), ``"http500"``, ``"not_json"``.
A login code that is not scripted gets a fresh openid derived from the code;
an unscripted phone code gets 40029.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    45011: "api minute-quota reach limit mustslower retry next minute",
    43101: "user refuse to accept the msg",
    47003: "argument invalid! data.thing1.value invalid",
    40037: "invalid template_id",
}

# WeChat's limits on subscribe message values, by the key's type prefix (thing1 → thing).
SUBSCRIBE_VALUE_LIMITS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32,
                          "letter": 32, "symbol": 5, "amount": 10, "phone_number": 17, "car_number": 8}

FAULTS = ("slow", "http500", "not_json")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: dict | None
    headers: dict[str, str] = field(default_factory=dict, compare=False)


class WeChatStandIn:
    def __init__(self, appid: str, secret: str, *, slow_seconds: float = 3.0) -> None:
        self.appid = appid
        self.secret = secret
        self.slow_seconds = slow_seconds
        self.login_codes: dict[str, str | int] = {}
        self.phone_codes: dict[str, str | int] = {}
        self.gates: dict[str, threading.Barrier] = {}
        self.requests: list[Recorded] = []
        self.token_lifetime = 7200
        self.subscribe_openids: dict[str, str | int] = {}
        self.subscribe_script: list[str | int] = []
        self.subscribe_messages: list[dict] = []
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self._valid_tokens: set[str] = set()
        self._current_token: str | None = None
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="wechat-standin", daemon=True
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
        self._stopping.set()  # wakes up "slow" answers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- script and inspect -------------------------------------------------------------

    def expire_token(self) -> None:
        """The current access token stops working: the next call with it gets 40001."""
        with self._lock:
            if self._current_token:
                self._valid_tokens.discard(self._current_token)

    def gate_for(self, codes: list[str]) -> threading.Barrier:
        """Hold the jscode2session answers to these codes until all of them have arrived,
        then answer them together (to make concurrent first sign-ins overlap)."""
        barrier = threading.Barrier(len(codes), timeout=5)
        for code in codes:
            self.gates[code] = barrier
        return barrier

    def fail_next_subscribes(self, n: int, how: str | int) -> None:
        """The next `n` subscribe sends (any openid) answer `how`: an errcode or a fault."""
        with self._lock:
            self.subscribe_script.extend([how] * n)

    @property
    def current_token(self) -> str | None:
        return self._current_token

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- answers --------------------------------------------------------------------------

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def _answer(self, method: str, path: str, query: dict[str, str], body: dict | None):
        """(status, payload) where payload is a dict, bytes, or a fault name."""
        if method == "GET" and path == "/sns/jscode2session":
            return self._jscode2session(query)
        if method == "POST" and path == "/cgi-bin/stable_token":
            return self._stable_token(body or {})
        if method == "POST" and path == "/wxa/business/getuserphonenumber":
            return self._phone_number(query, body or {})
        if method == "POST" and path == "/cgi-bin/message/subscribe/send":
            return self._subscribe_send(query, body or {})
        return 404, {"errcode": 404, "errmsg": "no such api in the stand-in"}

    def _jscode2session(self, q: dict[str, str]):
        if q.get("grant_type") != "authorization_code":
            return 200, self._error(40002)
        if q.get("appid") != self.appid:
            return 200, self._error(40013)
        if q.get("secret") != self.secret:
            return 200, self._error(40125)
        code = q.get("js_code", "")
        if not code:
            return 200, self._error(41008)
        script = self.login_codes.get(code, f"openid-of-{code}")
        gate = self.gates.get(code)
        if gate is not None:
            try:
                gate.wait()
            except threading.BrokenBarrierError:
                pass
        if isinstance(script, int):
            return 200, self._error(script)
        if script in FAULTS:
            return 200, script
        return 200, {"openid": script, "session_key": f"sk-{next(self._serial)}", "unionid": f"union-{script}"}

    def _stable_token(self, body: dict):
        if body.get("grant_type") != "client_credential":
            return 200, self._error(40002)
        if body.get("appid") != self.appid or body.get("secret") != self.secret:
            return 200, self._error(40125)
        with self._lock:
            if body.get("force_refresh") is True or self._current_token not in self._valid_tokens:
                self._current_token = f"token-{next(self._serial)}"
                self._valid_tokens.add(self._current_token)
            return 200, {"access_token": self._current_token, "expires_in": self.token_lifetime}

    def _phone_number(self, q: dict[str, str], body: dict):
        with self._lock:
            valid = q.get("access_token") in self._valid_tokens
        if not valid:
            return 200, self._error(40001)
        script = self.phone_codes.get(body.get("code", ""), 40029)
        if isinstance(script, int):
            return 200, self._error(script)
        if script in FAULTS:
            return 200, script
        return 200, {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": f"+86{script}",
                "purePhoneNumber": script,
                "countryCode": "86",
                "watermark": {"timestamp": 1700000000, "appid": self.appid},
            },
        }

    def _subscribe_send(self, q: dict[str, str], body: dict):
        with self._lock:
            if q.get("access_token") not in self._valid_tokens:
                return 200, self._error(40001)
            script = self.subscribe_script.pop(0) if self.subscribe_script else None
            if script is None:
                script = self.subscribe_openids.get(body.get("touser", ""))
        if isinstance(script, int):
            return 200, self._error(script)
        if script in FAULTS:
            return 200, script
        if not body.get("touser"):
            return 200, self._error(40003)
        if not body.get("template_id"):
            return 200, self._error(40037)
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return 200, self._error(47003)
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            limit = SUBSCRIBE_VALUE_LIMITS.get(key.rstrip("0123456789"))
            if not isinstance(value, str) or (limit is not None and len(value) > limit):
                return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"}
        with self._lock:
            self.subscribe_messages.append(body)
            msgid = next(self._serial)
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    @staticmethod
    def _error(errcode: int) -> dict:
        return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}

    # -- HTTP -----------------------------------------------------------------------------

    def _handler_class(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                standin._record(Recorded(method, parts.path, query, body, headers))
                status, payload = standin._answer(method, parts.path, query, body)
                if payload == "slow":
                    standin._stopping.wait(standin.slow_seconds)
                    payload = {"openid": "too-late", "session_key": "sk", "unionid": None}
                elif payload == "http500":
                    status, payload = 500, b"<html><body>500 Internal Server Error</body></html>"
                elif payload == "not_json":
                    payload = b"<html><body>\xe7\xb3\xbb\xe7\xbb\x9f\xe7\xb9\x81\xe5\xbf\x99</body></html>"
                if isinstance(payload, dict):
                    data = json.dumps(payload).encode()
                    content_type = "application/json; charset=utf-8"
                else:
                    data = payload
                    content_type = "text/html; charset=utf-8"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout): nothing to answer to

        return Handler

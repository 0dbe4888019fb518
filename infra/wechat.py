"""The WeChat server API, through httpx, against a configurable base URL."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

# errcodes that mean "try again later" rather than "your request is wrong".
BUSY = -1
RATE_LIMITED = 45011
TOKEN_EXPIRED = {40001, 42001}
# openids and unionids are about 28 characters; the residents table keeps up to 64.
MAX_ID_LENGTH = 64


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnreachable(Exception):
    """No usable answer: a timeout, a connection error, a 5xx or a body that is not JSON."""


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    session_key: str
    unionid: str | None


class WeChatClient:
    def __init__(
        self,
        base_url: str,
        appid: str,
        secret: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.appid = appid
        self._secret = secret
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def code_to_session(self, code: str) -> WeChatSession:
        """`sns/jscode2session`: the mini-program's login code for the user's openid."""
        body = self._call(
            "GET",
            "/sns/jscode2session",
            params={
                "appid": self.appid,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        openid, unionid = body.get("openid"), body.get("unionid")
        if not _short_text(openid):
            raise WeChatUnreachable("jscode2session answered without a usable openid")
        if unionid is not None and not _short_text(unionid):
            raise WeChatUnreachable("jscode2session answered with an unusable unionid")
        return WeChatSession(openid, body.get("session_key", ""), unionid)

    def phone_number(self, code: str) -> str:
        """`wxa/business/getuserphonenumber`: a one-time phone code for the bound number."""
        body = self._with_token("POST", "/wxa/business/getuserphonenumber", json={"code": code})
        info = body.get("phone_info") or {}
        phone = info.get("purePhoneNumber") or info.get("phoneNumber")
        if not phone:
            raise WeChatUnreachable("getuserphonenumber answered without a phone number")
        return phone

    def send_subscribe_message(
        self, touser: str, template_id: str, data: dict[str, str], *, page: str | None = None,
        state: str = "formal", lang: str = "zh_CN",
    ) -> None:
        """`cgi-bin/message/subscribe/send`: one subscribe message to a mini-program user."""
        body = {
            "touser": touser,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
            "miniprogram_state": state,
            "lang": lang,
        }
        if page:
            body["page"] = page
        self._with_token("POST", "/cgi-bin/message/subscribe/send", json=body)

    def access_token(self, *, force_refresh: bool = False) -> str:
        """`cgi-bin/stable_token`, cached until five minutes before it expires."""
        with self._token_lock:
            if not force_refresh and self._token and time.monotonic() < self._token_expires:
                return self._token
            body = self._call(
                "POST",
                "/cgi-bin/stable_token",
                json={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self._secret,
                    "force_refresh": force_refresh,
                },
            )
            try:
                self._token = str(body["access_token"])
                lifetime = int(body.get("expires_in", 7200))
            except (KeyError, TypeError, ValueError) as exc:
                raise WeChatUnreachable("stable_token answered without a usable token") from exc
            self._token_expires = time.monotonic() + max(lifetime - 300, 60)
            return self._token

    def _with_token(self, method: str, path: str, **kwargs) -> dict:
        try:
            return self._call(method, path, params={"access_token": self.access_token()}, **kwargs)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_EXPIRED:
                raise
            token = self.access_token(force_refresh=True)
            return self._call(method, path, params={"access_token": token}, **kwargs)

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise WeChatUnreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise WeChatUnreachable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise WeChatUnreachable("answer is not JSON") from exc
        if not isinstance(body, dict):
            raise WeChatUnreachable("answer is not a JSON object")
        try:
            errcode = int(body.get("errcode") or 0)
        except (TypeError, ValueError) as exc:
            raise WeChatUnreachable(f"errcode is not a number: {body.get('errcode')!r}") from exc
        if errcode != 0:
            raise WeChatError(errcode, str(body.get("errmsg", "")))
        return body


def _short_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH

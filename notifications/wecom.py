"""WeCom (企业微信) group robots: the grid workers' group of a grid, the members' group of a branch."""

from __future__ import annotations

import httpx

from notifications import recipients, texts
from notifications.base import Notice, Outcome
from storage.engine import Database
from domain.notices import Audience

MARKDOWN_MAX_BYTES = 4096
RATE_LIMITED = 45009
INVALID_WEBHOOK = 93000


def fit_bytes(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "…"


class WeComRobotChannel:
    name = "wecom"
    AUDIENCES = frozenset({Audience.GRID_WORKERS, Audience.BRANCH_SECRETARIES, Audience.ASSIGNEE})

    def __init__(self, database: Database, base_url: str, *, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.database = database
        self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def accepts(self, kind: str, audience: str) -> bool:
        return audience in self.AUDIENCES

    def deliver(self, notice: Notice) -> Outcome:
        with self.database.session() as db:
            key = recipients.wecom_key(db, notice.audience, notice.audience_id, notice.payload)
        if not key:
            return Outcome.skipped("no WeCom robot for this grid or branch")
        content = fit_bytes(f"**{texts.title(notice)}**\n> {texts.body(notice, markdown=True)}", MARKDOWN_MAX_BYTES)
        try:
            response = self.http.post("/cgi-bin/webhook/send", params={"key": key},
                                      json={"msgtype": "markdown", "markdown": {"content": content}})
        except httpx.HTTPError as exc:
            return Outcome.retry(f"{type(exc).__name__}: {exc}")
        if response.status_code >= 500:
            return Outcome.retry(f"HTTP {response.status_code}")
        try:
            errcode = int(response.json().get("errcode", 0))
            errmsg = response.json().get("errmsg", "")
        except (ValueError, AttributeError):
            return Outcome.retry(f"HTTP {response.status_code}, answer is not JSON")
        if errcode == 0:
            return Outcome.sent()
        if errcode == RATE_LIMITED:
            return Outcome.retry(f"45009 rate limited: {errmsg}")
        return Outcome.dead(f"errcode {errcode}: {errmsg}")

"""WeChat subscribe messages (订阅消息) to residents in the mini-program."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.notices import Audience
from notifications import recipients, texts
from notifications.base import Notice, Outcome
from storage.engine import Database
from infra.wechat import WeChatClient, WeChatError, WeChatUnreachable

# Length limits of template values, by the key's type prefix (thing1 → thing).
VALUE_LIMITS = {
    "thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32, "letter": 32,
    "symbol": 5, "amount": 10, "phone_number": 17, "car_number": 8,
}
NOT_SUBSCRIBED = 43101  # the user refused, or used up a one-time subscription
PERMANENT = {40003, 40037, 47003, 41030}  # bad openid, template, data or page: a setting to fix
RETRYABLE = {-1, 45009, 45011, 40001, 42001}


def cut(key: str, value: str) -> str:
    limit = VALUE_LIMITS.get(re.sub(r"\d+$", "", key))
    return value[:limit] if limit else value


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


class WeChatSubscribeChannel:
    name = "wechat"

    def __init__(
        self, database: Database, client: WeChatClient, templates: dict[str, dict], *,
        state: str = "formal", clock: Callable[[], datetime], timezone: str = "Asia/Shanghai",
    ) -> None:
        self.database = database
        self.client = client
        self.templates = templates
        self.state = state
        self.clock = clock
        self.zone = ZoneInfo(timezone)

    def accepts(self, kind: str, audience: str) -> bool:
        return audience == Audience.RESIDENT and kind in self.templates

    def deliver(self, notice: Notice) -> Outcome:
        with self.database.session() as db:
            openid = recipients.resident_openid(db, notice.audience_id)
        if openid is None:
            return Outcome.skipped("the resident has no WeChat openid")
        template = self.templates[notice.kind]
        # {time} is when it happened, not when a retry finally got through.
        happened = datetime.fromisoformat(notice.created_at) if notice.created_at else self.clock()
        context = _Blank({
            **{k: str(v) for k, v in notice.payload.items() if v is not None},
            "title": texts.title(notice),
            "time": happened.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"),
        })
        data = {key: cut(key, str(fmt).format_map(context)) for key, fmt in template.get("data", {}).items()}
        page = template.get("page", "").format_map(context) or None
        try:
            self.client.send_subscribe_message(openid, template["template_id"], data, page=page, state=self.state)
        except WeChatUnreachable as exc:
            return Outcome.retry(f"WeChat unreachable: {exc}")
        except WeChatError as exc:
            if exc.errcode == NOT_SUBSCRIBED:
                return Outcome.refused(f"43101 not subscribed: {exc.errmsg}")
            if exc.errcode in RETRYABLE:
                return Outcome.retry(str(exc))
            return Outcome.dead(str(exc))
        return Outcome.sent()

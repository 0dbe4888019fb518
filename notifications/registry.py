"""The channels the settings turn on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from notifications.base import Channel
from notifications.inapp import InAppChannel
from notifications.webhook import WebhookChannel
from notifications.wechat_subscribe import WeChatSubscribeChannel
from notifications.wecom import WeComRobotChannel
from storage.engine import Database
from infra.settings import Settings
from infra.wechat import WeChatClient


def build_channels(settings: Settings, database: Database, clock: Callable[[], datetime],
                   wechat: WeChatClient) -> list[Channel]:
    channels: list[Channel] = []
    if settings.inapp_enabled:
        channels.append(InAppChannel(database, clock))
    if settings.wechat_subscribe_enabled:
        channels.append(WeChatSubscribeChannel(database, wechat, settings.wechat_templates,
                                               state=settings.wechat_miniprogram_state, clock=clock))
    if settings.wecom_enabled:
        channels.append(WeComRobotChannel(database, settings.wecom_api_base, timeout=settings.http_timeout_seconds))
    if settings.webhook_url:
        channels.append(WebhookChannel(settings.webhook_url, settings.webhook_secret,
                                       timeout=settings.http_timeout_seconds))
    return channels

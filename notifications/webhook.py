"""A generic webhook for other systems: JSON, signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from notifications.base import Notice, Outcome

SIGNATURE_HEADER = "X-Wudan-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, secret: str, *, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.secret = secret
        self.http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def accepts(self, kind: str, audience: str) -> bool:
        return True

    def deliver(self, notice: Notice) -> Outcome:
        body = json.dumps({
            "id": notice.outbox_id, "kind": notice.kind, "audience": notice.audience,
            "audience_id": notice.audience_id, "order_id": notice.order_id, "payload": notice.payload,
            "created_at": notice.created_at,
        }, ensure_ascii=False, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            # Receivers drop repeats by this id: a retry after a lost answer carries the same one.
            "X-Wudan-Delivery": str(notice.delivery_id),
        }
        try:
            response = self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome.retry(f"{type(exc).__name__}: {exc}")
        if response.is_success:
            return Outcome.sent()
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            return Outcome.retry(f"HTTP {response.status_code}")
        return Outcome.dead(f"HTTP {response.status_code}")

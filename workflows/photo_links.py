"""Signed photo URLs: what a mini-program's `<image src>`, which sends no bearer header, loads.

A signed URL names one photo and the moment it stops working, with an HMAC-SHA256 of
both; whoever holds it may load that photo until then and nothing else. Answers build
them only for photos of orders they already show their reader (and for an uploader's
own upload), so a URL goes only to someone who may see the photo anyway; its short life
bounds how long it works once passed on or once the reader's access ends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import NotPermitted

# The signature's own key, derived from SECRET_KEY: nothing signed with one key verifies with the other.
_KEY_PURPOSE = b"wudan signed photo urls v1"


class PhotoLinkInvalid(NotPermitted):
    code = "photo-link-invalid"


class PhotoLinkExpired(NotPermitted):
    code = "photo-link-expired"


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class PhotoLinks:
    key: bytes
    lifetime_seconds: int

    @classmethod
    def from_secret(cls, secret_key: str, lifetime_seconds: int) -> PhotoLinks:
        return cls(hmac.new(secret_key.encode(), _KEY_PURPOSE, hashlib.sha256).digest(), lifetime_seconds)

    def url(self, photo_id: str, now: datetime) -> SignedUrl:
        expires = self._expiry(now)
        url = f"/photos/{photo_id}/signed?expires={expires}&signature={self._signature(photo_id, expires)}"
        return SignedUrl(url, datetime.fromtimestamp(expires, UTC))

    def check(self, photo_id: str, expires: str, signature: str, now: datetime) -> int:
        """The seconds the URL still works; PhotoLinkInvalid or PhotoLinkExpired if it does not."""
        # Only the spelling signed: "0…" or "+…" would name the same time by another URL.
        if not (expires.isascii() and expires.isdigit() and len(expires) <= 12 and signature.isascii()):
            raise PhotoLinkInvalid()
        if expires != str(int(expires)):
            raise PhotoLinkInvalid()
        expected = self._signature(photo_id, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise PhotoLinkInvalid()
        left = int(expires) - int(now.timestamp())
        if left <= 0:
            raise PhotoLinkExpired()
        return min(left, self.lifetime_seconds)

    def _expiry(self, now: datetime) -> int:
        # Expiries fall on steps of half the lifetime, so an answer read again within a step
        # names the same URL and the mini-program's image cache still holds it; every URL
        # handed out has more than half its lifetime left.
        step = max(1, self.lifetime_seconds // 2)
        return (int(now.timestamp()) // step + 2) * step

    def _signature(self, photo_id: str, expires: int) -> str:
        digest = hmac.new(self.key, f"{photo_id}:{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

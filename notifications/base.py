"""What a channel is given and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"  # failed for now; tried again after a backoff
    DEAD = "dead"  # gave up: permanent error or too many attempts; an admin may retry it
    REFUSED = "refused"  # the recipient said no (e.g. not subscribed): recorded, never retried
    SKIPPED = "skipped"  # nobody to send to on this channel (no openid, no robot key)


@dataclass(frozen=True)
class Notice:
    """An outbox row as the channels see it."""

    outbox_id: int
    delivery_id: int
    kind: str
    audience: str
    audience_id: int
    order_id: int | None
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""


@dataclass(frozen=True)
class Outcome:
    status: Status
    error: str | None = None

    @classmethod
    def sent(cls) -> Outcome:
        return cls(Status.SENT)

    @classmethod
    def retry(cls, error: str) -> Outcome:
        return cls(Status.RETRY, error)

    @classmethod
    def dead(cls, error: str) -> Outcome:
        return cls(Status.DEAD, error)

    @classmethod
    def refused(cls, error: str) -> Outcome:
        return cls(Status.REFUSED, error)

    @classmethod
    def skipped(cls, error: str) -> Outcome:
        return cls(Status.SKIPPED, error)


class Channel(Protocol):
    name: str

    def accepts(self, kind: str, audience: str) -> bool:
        """Whether notices of this kind for this audience go through this channel at all."""

    def deliver(self, notice: Notice) -> Outcome:
        """Send once. Never raises for the recipient's or the remote's failures: answers them."""

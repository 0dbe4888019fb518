"""The in-app inbox: one row per person of the audience, written once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from notifications import recipients, texts
from notifications.base import Notice, Outcome
from storage.engine import Database
from storage.models import InboxItem
from storage.upsert import insert_once


class InAppChannel:
    name = "inapp"

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock

    def accepts(self, kind: str, audience: str) -> bool:
        return True

    def deliver(self, notice: Notice) -> Outcome:
        with self.database.session(write=True) as db:
            people = recipients.people(db, notice.audience, notice.audience_id)
            if not people:
                return Outcome.skipped("nobody in the audience can sign in")
            for user_kind, user_id in people:
                # Redelivery after a crash finds the rows there and adds nothing.
                insert_once(db, InboxItem, {
                    "outbox_id": notice.outbox_id, "user_kind": user_kind, "user_id": user_id,
                    "kind": notice.kind, "title": texts.title(notice), "body": texts.body(notice),
                    "order_id": notice.order_id, "created_at": self.clock(),
                }, unique=("outbox_id", "user_kind", "user_id"))
            db.commit()
        return Outcome.sent()

"""The scheduler in the app's process drives the sweep and delivery; the inbox API reads it."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from storage.models import Delivery, OutboxMessage
from tests.helpers import act, place


def wait_for(check, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def running(settings, clock, database):
    """The app with its scheduler on, ticking fast."""
    live = settings.model_copy(update={
        "scheduler_enabled": True, "sweep_interval_seconds": 0.1, "delivery_interval_seconds": 0.1,
    })
    with TestClient(create_app(live, clock=clock, database=database)) as client:
        yield client


def inbox(client, world, who, **params):
    r = client.get("/me/inbox", params=params, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def unread(client, world, who) -> int:
    return client.get("/me/inbox/unread-count", headers=world.auth(who)).json()["unread"]


def test_scheduler_sweeps_and_delivers_to_the_inbox(running, world, clock):
    client = running
    oid = place(client, world)["id"]
    first = wait_for(lambda: inbox(client, world, "workerA1")["items"])
    assert first[0]["title"] == "新的群众点单" and first[0]["order_id"] == oid
    clock.advance(hours=2, minutes=1)
    reminder = wait_for(lambda: [i for i in inbox(client, world, "workerA1")["items"] if i["kind"] == "alert.reminder"])
    assert reminder[0]["title"] == "催办:工单已超时" and "第 1 次催办" in reminder[0]["body"]
    act(client, world, "workerA1", oid, "claim")
    claimed = wait_for(lambda: inbox(client, world, "res1")["items"])
    assert claimed[0]["title"] == "您的诉求已被网格领单"
    assert wait_for(lambda: inbox(client, world, "secA")["items"])[0]["kind"] == "order.claim"


def test_inbox_read_and_unread(client, world, database, clock):
    from notifications.dispatcher import Dispatcher, RetryPolicy
    from notifications.inapp import InAppChannel

    dispatcher = Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock)
    for _ in range(3):
        place(client, world)
    dispatcher.run_once()
    assert unread(client, world, "workerA1") == 3
    items = inbox(client, world, "workerA1")["items"]
    assert [i["read"] for i in items] == [False] * 3 and items[0]["id"] > items[-1]["id"]
    assert client.post(f"/me/inbox/{items[0]['id']}/read", headers=world.auth("workerA1")).status_code == 204
    assert unread(client, world, "workerA1") == 2
    assert inbox(client, world, "workerA1", unread_only="true")["total"] == 2
    # Someone else's item is not found, and stays unread.
    assert client.post(f"/me/inbox/{items[1]['id']}/read", headers=world.auth("workerA2")).status_code == 404
    assert client.post("/me/inbox/read-all", headers=world.auth("workerA1")).json() == {"unread": 0}
    assert unread(client, world, "workerA1") == 0
    assert client.get("/me/inbox", headers=world.auth("dashboard")).status_code == 403


def _dead_delivery(database, clock, order_id) -> int:
    with database.session(write=True) as db:
        message = db.exec(select(OutboxMessage).where(OutboxMessage.order_id == order_id)).first()
        delivery = Delivery(outbox_id=message.id, channel="webhook", status="dead", attempts=8,
                            next_attempt_at=clock(), last_error="HTTP 500", created_at=clock())
        db.add(delivery)
        db.commit()
        return delivery.id


def test_admins_see_and_retry_dead_letters(client, world, database, clock):
    oid = place(client, world)["id"]
    dead = _dead_delivery(database, clock, oid)
    admin = world.auth("admin")
    listed = client.get("/admin/notifications", params={"status": "dead"}, headers=admin).json()
    assert [(d["id"], d["last_error"], d["order_id"]) for d in listed["items"]] == [(dead, "HTTP 500", oid)]
    summary = client.get("/admin/notifications/summary", headers=admin).json()
    assert summary["by_channel_and_status"] == {"webhook": {"dead": 1}}
    assert summary["outbox_waiting"] == 1  # the submit notice has not been fanned out
    assert client.post(f"/admin/notifications/{dead}/retry", headers=world.auth("admin2")).status_code == 404
    assert client.post(f"/admin/notifications/{dead}/retry", headers=world.auth("secA")).status_code == 403
    assert client.post(f"/admin/notifications/{dead}/retry", headers=admin).status_code == 204
    with database.session() as db:
        retried = db.get(Delivery, dead)
        assert (retried.status, retried.attempts, retried.last_error) == ("pending", 0, None)
    again = client.post(f"/admin/notifications/{dead}/retry", headers=admin)
    assert again.status_code == 409

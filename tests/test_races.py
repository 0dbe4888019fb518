"""Concurrency over a real socket: one claim wins, one key places one order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlmodel import func, select

from storage.models import GridWorkerGrid, Order, OrderEvent, Staff
from tests.live_server import LiveServer
from tests.world import _password_hash, _token

CLAIMERS = 32


@pytest.fixture
def live_url(app):
    with LiveServer(app) as url:
        yield url


def _grid_workers(database, world, settings, now, n: int) -> list[dict[str, str]]:
    headers = []
    with database.session(write=True) as db:
        for i in range(n):
            staff = Staff(town_id=world["town"], role="grid_worker", name=f"网格员{i}", phone=f"1360000{i:04d}",
                          password_hash=_password_hash(), created_at=now)
            db.add(staff)
            db.flush()
            db.add(GridWorkerGrid(staff_id=staff.id, grid_id=world["gridA1"]))
            headers.append({"Authorization": f"Bearer {_token(settings, 'staff', staff.id, 'grid_worker', world['town'], now)}"})
        db.commit()
    return headers


def _all_at_once(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_many_grid_workers_claim_one_order_and_one_wins(live_url, world, database, settings, clock):
    claimers = _grid_workers(database, world, settings, clock(), CLAIMERS)
    with httpx.Client(base_url=live_url, timeout=60) as http:
        order = http.post("/orders", json={"category_id": world["cat"], "description": "井盖松动"},
                          headers=world.auth("res1")).json()
        url = f"/orders/{order['id']}/claim"
        responses = _all_at_once([lambda h=h: http.post(url, headers=h) for h in claimers])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (CLAIMERS - 1)
    for r in responses:
        if r.status_code == 409:
            assert r.json()["current_state"] == "claimed"
            assert r.json()["allowed_actions"] == ["cancel", "dispatch"]
    with database.session() as db:
        claims = db.exec(select(OrderEvent).where(OrderEvent.order_id == order["id"], OrderEvent.action == "claim")).all()
        stored = db.get(Order, order["id"])
    assert len(claims) == 1
    winner = next(r for r in responses if r.status_code == 200).json()
    assert stored.claimed_by_id == claims[0].actor_id and winner["state"] == "claimed"
    assert stored.version == 2


def test_same_idempotency_key_at_once_places_one_order(live_url, world, database):
    body = {"category_id": world["cat"], "description": "楼道灯坏了"}
    headers = {**world.auth("res1"), "Idempotency-Key": "7c1e-retry-key"}
    with httpx.Client(base_url=live_url, timeout=60) as http:
        responses = _all_at_once([lambda: http.post("/orders", json=body, headers=headers)] * 16)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 15
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(Order)).one() == 1
        assert db.exec(select(func.count()).select_from(OrderEvent)).one() == 1


def test_idempotency_key_is_per_person_and_per_request(client, world, database):
    body = {"category_id": world["cat"], "description": "楼道灯坏了"}
    first = client.post("/orders", json=body, headers={**world.auth("res1"), "Idempotency-Key": "k1"})
    again = client.post("/orders", json=body, headers={**world.auth("res1"), "Idempotency-Key": "k1"})
    other = client.post("/orders", json=body, headers={**world.auth("res2"), "Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == other.status_code == 201
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    changed = client.post("/orders", json={**body, "description": "别的事"},
                          headers={**world.auth("res1"), "Idempotency-Key": "k1"})
    assert changed.status_code == 422
    assert changed.json()["type"] == "urn:wudan:problem:idempotency-key-reused"
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(Order)).one() == 2

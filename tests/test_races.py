"""Concurrency over a real socket: one claim wins, one key places one order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlmodel import func, select

from storage.models import GridWorkerGrid, Order, OrderEvent, Photo, Staff
from tests.live_server import LiveServer
from tests.world import _password_hash, _token
from infra.images import solid_png

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
            assert r.json()["allowed_actions"] == []  # nothing is left for a grid worker to do
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


TRIALS = 8


def test_two_completions_at_once_one_stands_the_other_is_told_the_state(live_url, world, database):
    """A double tap on 完成: the second is a 409 naming `completed`, and takes none of its photos."""
    with httpx.Client(base_url=live_url, timeout=60) as http:
        for trial in range(TRIALS):
            oid = http.post("/orders", json={"category_id": world["cat"], "description": "屋顶漏雨"},
                            headers=world.auth("res1")).json()["id"]
            for who, action, body in (("workerA1", "claim", None), ("secA", "dispatch", {"member_id": world["memberA1"]}),
                                      ("memberA1", "accept", None)):
                assert http.post(f"/orders/{oid}/{action}", json=body, headers=world.auth(who)).status_code == 200
            uploads = [[upload(http, world) for _ in range(2)] for _ in range(2)]
            if trial % 2:  # the same photos twice (a retried request) or two sets
                uploads[1] = uploads[0]
            responses = _all_at_once([
                lambda ids=ids: http.post(f"/orders/{oid}/complete", json={"note": "修好了", "photo_ids": ids},
                                          headers=world.auth("memberA1"))
                for ids in uploads])
            assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
            loser = next(r for r in responses if r.status_code == 409).json()
            assert loser["current_state"] == "completed" and loser["allowed_actions"] == []
            winner = uploads[[r.status_code for r in responses].index(200)]
            with database.session() as db:
                attached = set(db.exec(select(Photo.id).where(Photo.order_id == oid)).all())
            assert attached == set(winner)


def test_a_cancel_that_meets_a_claim_is_decided_on_the_state_the_claim_left(live_url, world, database):
    """Cancel and claim at once: the cancel stands either way (a claimed order may be cancelled),
    or, had it come first, the claim is a 409 naming `cancelled`. Never a 409 naming a state the
    refused action is allowed in."""
    outcomes = set()
    with httpx.Client(base_url=live_url, timeout=60) as http:
        for _ in range(TRIALS):
            oid = http.post("/orders", json={"category_id": world["cat"], "description": "路灯不亮"},
                            headers=world.auth("res1")).json()["id"]
            claim, cancel = _all_at_once([
                lambda: http.post(f"/orders/{oid}/claim", headers=world.auth("workerA1")),
                lambda: http.post(f"/orders/{oid}/cancel", json={}, headers=world.auth("res1")),
            ])
            assert cancel.status_code == 200, cancel.text
            assert cancel.json()["state"] == "cancelled"
            if claim.status_code == 409:
                assert claim.json()["current_state"] == "cancelled" and claim.json()["allowed_actions"] == []
            else:
                assert claim.status_code == 200, claim.text
            with database.session() as db:
                actions = db.exec(select(OrderEvent.action).where(OrderEvent.order_id == oid)
                                  .order_by(OrderEvent.id)).all()
            assert actions == (["submit", "claim", "cancel"] if claim.status_code == 200 else ["submit", "cancel"])
            outcomes.add(claim.status_code)


def upload(http, world, who: str = "memberA1") -> str:
    r = http.post("/photos", files={"file": ("p.png", solid_png(), "image/png")}, headers=world.auth(who))
    assert r.status_code == 201, r.text
    return r.json()["id"]

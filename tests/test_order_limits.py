"""Orders an hour are limited per resident, per staff member placing on behalf, and per client address:
429 too-many-orders with Retry-After, counted in the database across replicas and under concurrency."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlmodel import func, select

from api.app import create_app
from storage.models import Order
from tests.helpers import place
from tests.live_server import LiveServer

PER_RESIDENT, PER_STAFF, PER_ADDRESS = 4, 6, 12
TOO_MANY = "urn:wudan:problem:too-many-orders"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={
        "orders_per_hour_per_resident": PER_RESIDENT, "orders_per_hour_per_staff": PER_STAFF,
        "orders_per_hour_per_address": PER_ADDRESS})


def _refused(r: httpx.Response) -> int:
    """The Retry-After of a 429 too-many-orders problem."""
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["type"] == TOO_MANY
    return int(r.headers["retry-after"])


def _on_behalf(client, world, who="workerA1", expect=201, **body):
    return place(client, world, who, expect, grid_id=world["gridA1"], contact_name="孙奶奶",
                 contact_phone="13912345678", **body)


def _orders(database) -> int:
    with database.session() as db:
        return db.exec(select(func.count()).select_from(Order)).one()


def _body(world) -> dict:
    return {"category_id": world["cat"], "description": "村口路灯不亮"}  # as tests.helpers.place sends


def test_a_resident_past_the_limit_waits_for_the_next_hour(client, world, clock, database):
    clock.advance(minutes=10)  # 01:10: the hour's window ends at 02:00
    for _ in range(PER_RESIDENT):
        place(client, world, "res1")
    r = client.post("/orders", json=_body(world), headers=world.auth("res1"))
    assert _refused(r) == 50 * 60
    assert r.json()["detail"].startswith(f"at most {PER_RESIDENT} orders an hour from one person")
    assert _orders(database) == PER_RESIDENT, "the refused placement left nothing"
    place(client, world, "res2")  # another resident is not held up
    clock.advance(minutes=50)
    place(client, world, "res1")


def test_staff_on_behalf_have_a_limit_of_their_own(client, world):
    for _ in range(PER_STAFF):
        _on_behalf(client, world)
    _refused(client.post("/orders", json={**_body(world), "grid_id": world["gridA1"], "contact_name": "孙奶奶",
                                          "contact_phone": "13912345678"}, headers=world.auth("workerA1")))
    place(client, world, "res1")  # the resident whose grid it is still places their own
    _on_behalf(client, world, "memberA1")


def test_one_address_is_limited_across_people(client, world):
    """The test client is one address for everyone."""
    for who in ("res1", "res2", "workerA1"):
        for _ in range(PER_RESIDENT):
            if who == "workerA1":
                _on_behalf(client, world)
            else:
                place(client, world, who)
    assert 3 * PER_RESIDENT == PER_ADDRESS
    # res3 lives in the other town: a placement fine in every other way, refused for its address.
    r = client.post("/orders", json={**_body(world), "category_id": world["cat2"]}, headers=world.auth("res3"))
    _refused(r)
    assert "address" in r.json()["detail"]


def test_a_replayed_idempotency_key_is_not_a_new_order(client, world, database):
    keys = [f"key-{i}" for i in range(PER_RESIDENT)]
    first = [place(client, world, headers={"Idempotency-Key": key})["id"] for key in keys]
    for _ in range(3):  # retries of the last one, answered with its order
        r = client.post("/orders", json=_body(world), headers={**world.auth("res1"), "Idempotency-Key": keys[-1]})
        assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true" and r.json()["id"] == first[-1]
    _refused(client.post("/orders", json=_body(world), headers={**world.auth("res1"), "Idempotency-Key": "new"}))
    r = client.post("/orders", json=_body(world), headers={**world.auth("res1"), "Idempotency-Key": keys[0]})
    assert r.status_code == 201 and r.json()["id"] == first[0], "a replay still answers past the limit"
    assert _orders(database) == PER_RESIDENT


def test_refused_placements_count_for_nothing(client, world):
    for _ in range(2 * PER_RESIDENT):
        place(client, world, expect=422, grid_id=world["gridC1"])  # a grid of another town
        place(client, world, expect=422, photo_ids=["A" * 32])     # not an upload of theirs
    for _ in range(PER_RESIDENT):
        place(client, world)


def test_documented(app):
    responses = app.openapi()["paths"]["/orders"]["post"]["responses"]
    assert "application/problem+json" in responses["429"]["content"]


def _at_once(calls) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | Exception] = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            answers[i] = call()
        except Exception as exc:  # noqa: BLE001  (reported below, not lost in a thread)
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(a, httpx.Response) for a in answers), answers
    return answers


def _simultaneous_placements(bases: list[str], world, n: int) -> list[httpx.Response]:
    """`n` placements by res1 at the same moment, each on a connection of its own, spread over `bases`."""
    clients = [httpx.Client(base_url=bases[i % len(bases)], timeout=30) for i in range(n)]
    try:
        return _at_once([lambda http=http: http.post("/orders", json=_body(world), headers=world.auth("res1"))
                         for http in clients])
    finally:
        for http in clients:
            http.close()


def test_simultaneous_placements_over_a_socket_let_exactly_the_limit_through(app, world, database):
    with LiveServer(app) as base:
        answers = _simultaneous_placements([base], world, PER_RESIDENT + 8)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * PER_RESIDENT + [429] * 8, [r.text for r in answers if r.status_code not in (201, 429)]
    assert all(_refused(r) >= 1 for r in answers if r.status_code == 429)
    assert _orders(database) == PER_RESIDENT


def test_two_app_instances_on_one_database_share_the_counts(world, database, settings, clock):
    """Each instance with its own engine and pool, as two replicas would be."""
    first, second = (create_app(settings, clock=clock) for _ in range(2))
    with LiveServer(first) as one, LiveServer(second) as two:
        answers = _simultaneous_placements([one, two], world, PER_RESIDENT + 6)
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [201] * PER_RESIDENT + [429] * 6, [r.text for r in answers if r.status_code >= 500]
        for base in (one, two):  # and one after another, on either
            r = httpx.post(f"{base}/orders", json=_body(world), headers=world.auth("res1"), timeout=10)
            _refused(r)
    assert _orders(database) == PER_RESIDENT

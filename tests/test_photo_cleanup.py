"""Uploads no order took within PHOTO_ORPHAN_HOURS are deleted, row and file, by the worker;
an attach racing the deletion either keeps its photo and file or is refused."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlmodel import func, select

from api.app import create_app
from storage.models import Order, Photo
from tests.helpers import place, upload
from tests.live_server import LiveServer
from workflows.photos import photo_path, remove_orphan_photos
from infra.metrics import REGISTRY
from jobs.worker import Worker


def cleanup(database, settings, clock, **kw):
    return remove_orphan_photos(database, photo_dir=settings.photo_dir, now=clock(),
                                orphan_age=settings.photo_orphan_age, **kw)


def kept(database, settings, photo_id: str) -> Photo | None:
    """The photo's row; its file exists exactly when the row does."""
    with database.session() as db:
        photo = db.get(Photo, photo_id)
    assert photo_path(settings.photo_dir, photo_id).is_file() == (photo is not None), photo_id
    return photo


def removed_so_far() -> float:
    return REGISTRY.get_sample_value("wudan_photos_removed_total") or 0.0


def test_unattached_photos_past_the_limit_are_removed_with_their_files(client, world, database, settings, clock):
    old = upload(client, world, "res1")
    used = upload(client, world, "res1")
    order = place(client, world, photo_ids=[used])
    other_person = upload(client, world, "memberA1")
    clock.advance(hours=settings.photo_orphan_hours - 1)
    young = upload(client, world, "res1")
    clock.advance(hours=1)
    at_the_limit = cleanup(database, settings, clock)
    assert at_the_limit.removed == 0, "exactly PHOTO_ORPHAN_HOURS old is not yet past it"
    clock.advance(seconds=1)
    before = removed_so_far()

    report = cleanup(database, settings, clock)

    assert report.removed == 2 and report.failed_files == 0
    assert removed_so_far() - before == 2
    assert kept(database, settings, old) is None and kept(database, settings, other_person) is None
    assert kept(database, settings, young).order_id is None
    assert kept(database, settings, used).order_id == order["id"]
    assert client.get(f"/photos/{old}", headers=world.auth("res1")).status_code == 404
    assert client.get(f"/photos/{used}", headers=world.auth("res1")).status_code == 200
    assert cleanup(database, settings, clock).removed == 0, "a second pass finds nothing"


def test_cleanup_works_in_bounded_batches(client, world, database, settings, clock):
    photos = [upload(client, world, "res1") for _ in range(5)]
    clock.advance(hours=settings.photo_orphan_hours, seconds=1)
    batches = []

    report = cleanup(database, settings, clock, batch=2, before_delete=batches.append)

    assert report.removed == 5
    assert [len(b) for b in batches] == [2, 2, 1]
    assert sorted(sum(batches, [])) == sorted(photos)
    assert all(kept(database, settings, p) is None for p in photos)


def test_a_photo_attached_after_it_was_picked_keeps_its_file(client, world, database, settings, clock):
    taken, left = upload(client, world, "res1"), upload(client, world, "res1")
    clock.advance(hours=settings.photo_orphan_hours, seconds=1)
    placed = []

    def attach_first(picked):  # the resident completes an order between the pick and the DELETE
        assert taken in picked
        if not placed:
            placed.append(place(client, world, photo_ids=[taken]))

    report = cleanup(database, settings, clock, before_delete=attach_first)

    assert report.removed == 1
    assert kept(database, settings, taken).order_id == placed[0]["id"]
    assert kept(database, settings, left) is None
    served = client.get(f"/photos/{taken}", headers=world.auth("res1"))
    assert served.status_code == 200 and served.content


def test_attaching_a_removed_photo_is_refused_and_changes_nothing(client, world, database, settings, clock):
    gone = upload(client, world, "res1")
    clock.advance(hours=settings.photo_orphan_hours, seconds=1)
    fresh = upload(client, world, "res1")
    assert cleanup(database, settings, clock).removed == 1

    r = client.post("/orders", json={"category_id": world["cat"], "description": "路灯坏了", "photo_ids": [fresh, gone]},
                    headers=world.auth("res1"))

    assert r.status_code == 422, r.text
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(Order)).one() == 0
    assert kept(database, settings, fresh).order_id is None, "the other photo is still free to use"


def test_attaching_while_the_cleanup_runs_never_leaves_a_photo_without_its_file(
    app, world, database, settings, clock,
):
    with LiveServer(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        def send(photo_id):
            return photo_id, http.post("/orders", json={"category_id": world["cat"], "description": "门口积水",
                                                        "photo_ids": [photo_id]}, headers=world.auth("res1"))

        photos = [upload(http, world, "res1") for _ in range(24)]
        clock.advance(hours=settings.photo_orphan_hours, seconds=1)
        barrier = threading.Barrier(5)

        def place_all(share):
            barrier.wait()
            return [send(p) for p in share]

        def clean():
            barrier.wait()
            return cleanup(database, settings, clock, batch=1)

        with ThreadPoolExecutor(max_workers=5) as pool:
            report = pool.submit(clean)
            placements = [pool.submit(place_all, photos[i::4]) for i in range(4)]
            outcomes = dict(sum((f.result() for f in placements), []))
            report = report.result()

        for photo_id, r in outcomes.items():
            assert r.status_code in (201, 422), r.text
            photo = kept(database, settings, photo_id)
            if r.status_code == 201:
                assert photo is not None and photo.order_id == r.json()["id"]
                assert http.get(f"/photos/{photo_id}", headers=world.auth("res1")).status_code == 200
            else:
                assert photo is None
    assert report.removed == sum(r.status_code == 422 for r in outcomes.values())
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(Order)).one() == 24 - report.removed


def test_the_worker_schedules_the_cleanup(client, app, database, settings, clock, world, caplog):
    worker = Worker(app.state.settings, app.state.db, app.state.clock, app.state.wechat)
    try:
        job = worker.scheduler().get_job("photo_cleanup")
        assert job.trigger.interval == timedelta(seconds=settings.photo_cleanup_interval_seconds)
        photo = upload(client, world, "res1")
        clock.advance(hours=settings.photo_orphan_hours, seconds=1)
        with caplog.at_level(logging.INFO, logger="wudan.worker"):
            job.func()
    finally:
        worker.close()
    assert kept(database, settings, photo) is None
    assert "photo cleanup: 1 unattached photos removed" in caplog.text


def test_the_running_scheduler_removes_orphans(settings, clock, database, world):
    live = settings.model_copy(update={"scheduler_enabled": True, "photo_cleanup_interval_seconds": 0.1})
    with TestClient(create_app(live, clock=clock, database=database)) as client:
        old = upload(client, world, "res1")
        clock.advance(hours=settings.photo_orphan_hours, seconds=1)
        young = upload(client, world, "res1")
        deadline = time.monotonic() + 15
        while photo_path(settings.photo_dir, old).exists():
            assert time.monotonic() < deadline, "the scheduled cleanup did not run"
            time.sleep(0.05)
        assert client.get(f"/photos/{old}", headers=world.auth("res1")).status_code == 404
    assert kept(database, settings, old) is None
    assert kept(database, settings, young) is not None

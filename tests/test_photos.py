"""Uploads: content sniffed, size bounded, stored on disk, served only to those who may see, and
limited per person."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from api.app import create_app
from storage.models import Photo
from tests.helpers import act, place, to_state, upload
from tests.live_server import LiveServer
from infra.images import solid_png

WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


@pytest.mark.parametrize("content,content_type", [(solid_png(), "image/png"), (WEBP, "image/webp"), (JPEG, "image/jpeg")])
def test_accepted_types_are_sniffed(client, world, settings, content, content_type):
    # The client claims text/plain and a .txt name: the bytes decide.
    r = client.post("/photos", files={"file": ("x.txt", content, "text/plain")}, headers=world.auth("res1"))
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["content_type"] == content_type and photo["size"] == len(content)
    stored = settings.photo_dir / photo["id"][:2] / photo["id"]
    assert stored.read_bytes() == content
    served = client.get(photo["url"], headers=world.auth("res1"))
    assert served.status_code == 200 and served.content == content
    assert served.headers["content-type"] == content_type
    assert served.headers["x-content-type-options"] == "nosniff"


def test_other_content_is_refused_with_415(client, world):
    for content in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + b"\x00" * 20, b""):
        r = client.post("/photos", files={"file": ("a.png", content, "image/png")}, headers=world.auth("res1"))
        assert r.status_code == 415, r.text
        assert r.headers["content-type"] == "application/problem+json"


def test_too_large_is_refused_with_413(client, world, settings):
    big = solid_png() + b"\x00" * settings.photo_max_bytes
    r = client.post("/photos", files={"file": ("a.png", big, "image/png")}, headers=world.auth("res1"))
    assert r.status_code == 413 and r.json()["status"] == 413
    assert not [p for p in settings.photo_dir.rglob("*") if p.is_file()], "nothing is stored"


def test_upload_needs_a_person(client, world):
    r = client.post("/photos", files={"file": ("a.png", solid_png(), "image/png")})
    assert r.status_code == 401
    r = client.post("/photos", files={"file": ("a.png", solid_png(), "image/png")}, headers=world.auth("dashboard"))
    assert r.status_code == 403


def test_complete_needs_evidence_photos_of_ones_own(client, world):
    oid = place(client, world)["id"]
    to_state(client, world, oid, "in_progress")
    act(client, world, "memberA1", oid, "complete", {"note": "好了", "photo_ids": []}, expect=422)
    foreign = upload(client, world, "memberA2")
    act(client, world, "memberA1", oid, "complete", {"note": "好了", "photo_ids": [foreign]}, expect=422)
    own = upload(client, world, "memberA1")
    done = act(client, world, "memberA1", oid, "complete", {"note": "好了", "photo_ids": [own]})
    assert done["state"] == "completed"
    # Used once, a photo cannot be attached again.
    other = place(client, world)["id"]
    to_state(client, world, other, "in_progress")
    act(client, world, "memberA1", other, "complete", {"note": "好了", "photo_ids": [own]}, expect=422)


def test_refused_order_leaves_photos_unattached(client, world):
    photo = upload(client, world, "res1")
    place(client, world, expect=422, category_id=world["cat2"], photo_ids=[photo])  # another town's category
    order = place(client, world, photo_ids=[photo])
    assert [p["id"] for p in order["photos"]] == [photo]


def test_too_many_photos_per_order(client, world, settings):
    photos = [upload(client, world, "res1") for _ in range(settings.photos_per_order + 1)]
    r = client.post("/orders", json={"category_id": world["cat"], "description": "x", "photo_ids": photos},
                    headers=world.auth("res1"))
    assert r.status_code == 422


@pytest.fixture
def app_with(settings, clock, database):
    """A client of the app with some settings changed (small quotas)."""
    with ExitStack() as stack:
        def make(**changes) -> TestClient:
            app = create_app(settings.model_copy(update=changes), clock=clock, database=database)
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))
        yield make


def stored_files(settings) -> int:
    return sum(1 for p in settings.photo_dir.rglob("*") if p.is_file())


def refused_upload(client, world, who: str) -> tuple[dict, int]:
    r = client.post("/photos", files={"file": ("p.png", solid_png(), "image/png")}, headers=world.auth(who))
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:wudan:problem:too-many-uploads" and body["status"] == 429
    assert body["instance"] == "/photos"
    return body, int(r.headers["retry-after"])


def test_unattached_uploads_are_capped_until_some_are_used(app_with, world, settings):
    client = app_with(photos_per_order=2, photo_unattached_max=3)
    held = [upload(client, world, "res1") for _ in range(3)]
    body, retry_after = refused_upload(client, world, "res1")
    assert "at most 3 uploads may wait unused" in body["detail"]
    assert retry_after == settings.photo_orphan_hours * 3600  # when the oldest stops counting
    assert stored_files(settings) == 3, "a refused upload stores nothing"
    upload(client, world, "res2")  # the quota is per person
    place(client, world, photo_ids=held[:2])
    upload(client, world, "res1")
    upload(client, world, "res1")
    refused_upload(client, world, "res1")


def test_unattached_uploads_stop_counting_when_they_are_due_for_removal(app_with, world, clock, settings):
    client = app_with(photos_per_order=2, photo_unattached_max=3)
    upload(client, world, "res1")
    clock.advance(hours=10)
    upload(client, world, "res1")
    upload(client, world, "res1")
    _, retry_after = refused_upload(client, world, "res1")
    assert retry_after == (settings.photo_orphan_hours - 10) * 3600
    clock.advance(seconds=retry_after - 1)
    _, retry_after = refused_upload(client, world, "res1")
    assert retry_after == 1
    clock.advance(seconds=1)
    upload(client, world, "res1")


def test_uploads_per_hour_are_capped_in_clock_hours(app_with, world, clock):
    client = app_with(photos_per_order=2, photo_uploads_per_hour=2)
    first = upload(client, world, "res1")
    clock.advance(minutes=20)
    place(client, world, photo_ids=[first, upload(client, world, "res1")])  # used, but still counted
    body, retry_after = refused_upload(client, world, "res1")
    assert "at most 2 uploads an hour" in body["detail"] and retry_after == 40 * 60
    clock.advance(minutes=30)
    _, retry_after = refused_upload(client, world, "res1")  # refused attempts do not count
    assert retry_after == 10 * 60
    upload(client, world, "memberA1")
    clock.advance(minutes=10)
    upload(client, world, "res1")


def test_concurrent_uploads_of_one_person_stay_within_the_quota(settings, clock, database, world):
    limited = settings.model_copy(update={"photos_per_order": 2, "photo_unattached_max": 3})
    with LiveServer(create_app(limited, clock=clock, database=database)) as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        barrier = threading.Barrier(12)

        def post(_):
            barrier.wait()
            return http.post("/photos", files={"file": ("p.png", solid_png(), "image/png")},
                             headers=world.auth("res1")).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = sorted(pool.map(post, range(12)))
    assert statuses == [201] * 3 + [429] * 9
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(Photo)).one() == 3
    assert stored_files(settings) == 3


def test_upload_documents_its_quota_answer(client):
    responses = client.get("/openapi.json").json()["paths"]["/photos"]["post"]["responses"]
    assert "429" in responses

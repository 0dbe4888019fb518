"""Uploads: content sniffed, size bounded, stored on disk, served only to those who may see."""

from __future__ import annotations

import pytest

from tests.helpers import act, place, to_state, upload
from wudan.images import solid_png

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

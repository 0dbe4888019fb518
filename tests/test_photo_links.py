"""Signed photo URLs: an `<image src>` loads a photo without a bearer header, briefly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.helpers import act, place, to_state, upload
from workflows.photo_links import PhotoLinkExpired, PhotoLinkInvalid, PhotoLinks
from infra.images import solid_png

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
LINKS = PhotoLinks.from_secret("a-secret-key-of-at-least-32-characters", 3600)
PHOTO = "AbCdEfGhIjKlMnOpQrSt"


def parts(url: str) -> tuple[str, str, str]:
    """The photo id, expires and signature of a signed URL."""
    split = urlsplit(url)
    photo_id = re.fullmatch(r"/photos/([A-Za-z0-9_-]+)/signed", split.path).group(1)
    query = parse_qs(split.query)
    return photo_id, query["expires"][0], query["signature"][0]


def with_query(url: str, **changes) -> str:
    photo_id, expires, signature = parts(url)
    query = {"expires": expires, "signature": signature, **changes}
    return f"/photos/{photo_id}/signed?{urlencode(query)}"


def test_a_signed_url_checks_out_until_it_expires():
    signed = LINKS.url(PHOTO, NOW)
    photo_id, expires, signature = parts(signed.url)
    assert photo_id == PHOTO and int(expires) == int(signed.expires_at.timestamp())
    left = LINKS.check(PHOTO, expires, signature, NOW)
    assert 1800 < left <= 3600 and left == int(expires) - int(NOW.timestamp())
    assert LINKS.check(PHOTO, expires, signature, signed.expires_at - timedelta(seconds=1)) == 1
    with pytest.raises(PhotoLinkExpired):
        LINKS.check(PHOTO, expires, signature, signed.expires_at)


def test_every_url_handed_out_has_more_than_half_its_lifetime_left_and_repeats_within_a_step():
    for minute in range(0, 180, 7):
        now = NOW + timedelta(minutes=minute, seconds=13)
        left = (LINKS.url(PHOTO, now).expires_at - now).total_seconds()
        assert 1800 < left <= 3600, minute
    assert LINKS.url(PHOTO, NOW).url == LINKS.url(PHOTO, NOW + timedelta(minutes=29)).url
    assert LINKS.url(PHOTO, NOW).url != LINKS.url(PHOTO, NOW + timedelta(minutes=31)).url


@pytest.mark.parametrize("tamper", [
    lambda p, e, s: ("ZZZZEfGhIjKlMnOpQrSt", e, s),  # another photo
    lambda p, e, s: (p, str(int(e) + 3600), s),  # a later expiry
    lambda p, e, s: (p, e, s[:-1] + ("A" if s[-1] != "A" else "B")),  # one character off
    lambda p, e, s: (p, e, ""),
    lambda p, e, s: (p, e, s + "A"),
    lambda p, e, s: (p, "0" + e, s),  # another spelling of the same time
    lambda p, e, s: (p, e + ".0", s),
    lambda p, e, s: (p, "-1", s),
    lambda p, e, s: (p, "１２３", s),  # digits, but not ASCII ones
    lambda p, e, s: (p, e, "é" * 43),
])
def test_a_tampered_url_is_invalid(tamper):
    photo_id, expires, signature = tamper(*parts(LINKS.url(PHOTO, NOW).url))
    with pytest.raises(PhotoLinkInvalid):
        LINKS.check(photo_id, expires, signature, NOW)


def test_a_url_signed_with_another_secret_is_invalid():
    other = PhotoLinks.from_secret("another-secret-key-of-32-characters!!", 3600)
    with pytest.raises(PhotoLinkInvalid):
        LINKS.check(*parts(other.url(PHOTO, NOW).url)[0:3], NOW)


# Over the API, on both databases.

def _order_with_photo(client, world) -> tuple[dict, bytes]:
    content = solid_png(rgb=(10, 200, 30))
    order = place(client, world, photo_ids=[upload(client, world, "res1", content)])
    return order, content


def test_the_url_in_an_order_answer_loads_without_a_header(client, world, clock, settings):
    order, content = _order_with_photo(client, world)
    (photo,) = order["photos"]
    assert photo["url"].startswith(f"/photos/{photo['id']}/signed?")
    r = client.get(photo["url"])  # no Authorization
    assert r.status_code == 200 and r.content == content and r.headers["content-type"] == "image/png"
    expires_at = datetime.fromisoformat(photo["url_expires_at"].replace("Z", "+00:00"))
    left = int((expires_at - clock()).total_seconds())
    assert 0 < left <= settings.photo_url_seconds
    assert r.headers["cache-control"] == f"private, max-age={left}"
    assert r.headers["x-content-type-options"] == "nosniff"
    again = client.get(f"/orders/{order['id']}", headers=world.auth("res1")).json()
    assert again["photos"][0]["url"] == photo["url"], "the same URL while the step lasts: the image cache holds"


def test_the_bearer_header_route_still_serves_the_photo(client, world):
    order, content = _order_with_photo(client, world)
    photo_id = order["photos"][0]["id"]
    r = client.get(f"/photos/{photo_id}", headers=world.auth("res1"))
    assert r.status_code == 200 and r.content == content
    assert client.get(f"/photos/{photo_id}").status_code == 401


def test_the_upload_answer_gives_a_url_that_loads_without_a_header(client, world):
    content = solid_png(rgb=(1, 2, 3))
    r = client.post("/photos", files={"file": ("p.png", content, "image/png")}, headers=world.auth("res1"))
    assert r.status_code == 201, r.text
    assert client.get(r.json()["url"]).content == content


def test_every_photo_of_an_order_detail_loads_for_those_who_see_it(client, world):
    order, _ = _order_with_photo(client, world)
    to_state(client, world, order["id"], "completed")
    for who in ("res1", "workerA1", "secA", "memberA1", "admin"):
        seen = client.get(f"/orders/{order['id']}", headers=world.auth(who)).json()
        assert {p["purpose"] for p in seen["photos"]} == {"request", "evidence"}, who
        for photo in seen["photos"]:
            assert client.get(photo["url"]).status_code == 200, (who, photo["purpose"])
    assert client.get(f"/orders/{order['id']}", headers=world.auth("res2")).status_code == 404, "no order, no URL"


def test_a_tampered_url_is_refused(client, world):
    order, _ = _order_with_photo(client, world)
    url = order["photos"][0]["url"]
    photo_id, expires, signature = parts(url)
    for bad in (with_query(url, signature=signature[::-1]), with_query(url, expires=str(int(expires) + 60)),
                with_query(url, expires="soon"), url.replace(photo_id, upload(client, world, "res1"))):
        r = client.get(bad)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", bad
        body = r.json()
        assert (body["code"], body["type"]) == ("photo-link-invalid", "urn:wudan:problem:photo-link-invalid")
        assert "cache-control" not in r.headers or "max-age" not in r.headers["cache-control"]
    r = client.get(f"/photos/{photo_id}/signed", params={"expires": expires})
    assert r.status_code == 422 and r.json()["code"] == "validation-error"


def test_an_expired_url_is_refused_and_a_fresh_read_gives_a_new_one(client, world, clock):
    order, content = _order_with_photo(client, world)
    photo = order["photos"][0]
    clock.now = datetime.fromisoformat(photo["url_expires_at"].replace("Z", "+00:00"))
    r = client.get(photo["url"], headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 403 and r.headers["content-language"] == "zh-CN"
    body = r.json()
    assert (body["code"], body["title"]) == ("photo-link-expired", "图片链接已过期")
    fresh = client.get(f"/orders/{order['id']}", headers=world.auth("res1")).json()["photos"][0]
    assert fresh["url"] != photo["url"] and client.get(fresh["url"]).content == content


def test_a_signed_url_of_a_photo_since_removed_is_not_found(app, client, world, clock, settings):
    from workflows.photos import remove_orphan_photos

    r = client.post("/photos", files={"file": ("p.png", solid_png(), "image/png")}, headers=world.auth("res1"))
    url = r.json()["url"]
    clock.advance(hours=settings.photo_orphan_hours, seconds=1)
    remove_orphan_photos(app.state.db, photo_dir=settings.photo_dir, now=clock(), orphan_age=settings.photo_orphan_age)
    clock.now -= timedelta(hours=settings.photo_orphan_hours)  # the URL itself has not expired
    r = client.get(url)
    assert r.status_code == 404 and r.json()["code"] == "not-found"


def test_the_boards_photo_urls_load_without_a_header(client, world):
    client.patch("/admin/town", json={"public_board_enabled": True}, headers=world.auth("admin"))
    order = place(client, world)
    to_state(client, world, order["id"], "completed")
    act(client, world, "res1", order["id"], "rate", {"stars": 5})
    board = client.get(f"/public/towns/{world['town']}/board").json()
    photos = [p for item in board["items"] for p in item["photos"]]
    assert photos
    for photo in photos:
        r = client.get(photo["url"])
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/")


def test_the_setting_sets_how_long_a_url_works(settings, clock, database, world):
    app = create_app(settings.model_copy(update={"photo_url_seconds": 120}), clock=clock, database=database)
    with TestClient(app, raise_server_exceptions=False) as client:
        order, _ = _order_with_photo(client, world)
        photo = order["photos"][0]
        expires_at = datetime.fromisoformat(photo["url_expires_at"].replace("Z", "+00:00"))
        assert timedelta(seconds=60) < expires_at - clock() <= timedelta(seconds=120)
        clock.advance(seconds=121)
        assert client.get(photo["url"]).status_code == 403

"""Sign-in attempts are limited per phone and per address, with a clear 429 and Retry-After."""

from __future__ import annotations

from tests.world import PASSWORD


def sign_in(client, phone, password="wrong-password"):
    return client.post("/auth/staff", json={"phone": phone, "password": password})


def test_too_many_attempts_for_one_phone(client, world, settings, clock):
    phone = world.phones["workerA1"]
    for _ in range(settings.signin_per_phone):
        assert sign_in(client, phone).status_code == 401
    refused = sign_in(client, phone, PASSWORD)  # even the right password waits now
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:wudan:problem:too-many-attempts"
    assert 1 <= int(refused.headers["retry-after"]) <= settings.signin_window_seconds
    assert sign_in(client, world.phones["workerA2"], PASSWORD).status_code == 200, "other phones are not held up"
    clock.advance(seconds=settings.signin_window_seconds)
    assert sign_in(client, phone, PASSWORD).status_code == 200


def test_too_many_attempts_from_one_address(client, world, settings):
    limit = settings.signin_per_address
    answers = [sign_in(client, f"1391234{i:04d}").status_code for i in range(limit + 1)]
    assert answers[:limit] == [401] * limit and answers[limit] == 429
    assert client.post("/auth/dev/resident", json={"openid": "someone"}).status_code == 429


def test_a_new_password_ends_older_tokens(client, world):
    token = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD}).json()
    old = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/me", headers=old).status_code == 200
    r = client.patch(f"/admin/staff/{world['workerA1']}", json={"password": "a-brand-new-one"}, headers=world.auth("admin"))
    assert r.status_code == 200
    assert client.get("/me", headers=old).status_code == 401
    fresh = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": "a-brand-new-one"})
    assert client.get("/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}).status_code == 200

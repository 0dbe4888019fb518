"""Access tokens expire; refresh tokens rotate on every use, and a reused one ends its family,
unless it is used again within the grace window (two tabs, a retry): then it answers the same pair."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from tests.live_server import LiveServer
from tests.world import PASSWORD


def staff_sign_in(client, world, who="workerA1"):
    r = client.post("/auth/staff", json={"phone": world.phones[who], "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def refresh(client, token, expect=200):
    r = client.post("/auth/refresh", json={"refresh_token": token})
    assert r.status_code == expect, r.text
    return r.json()


def me(client, access) -> int:
    return client.get("/me", headers={"Authorization": f"Bearer {access}"}).status_code


def test_access_tokens_expire_and_refresh_tokens_rotate(client, world, clock, settings):
    first = staff_sign_in(client, world)
    assert first["expires_in"] == settings.access_token_minutes * 60 and first["refresh_token"]
    clock.advance(minutes=settings.access_token_minutes + 1)
    expired = client.get("/me", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert (expired.status_code, expired.json()["code"]) == (401, "token_expired")  # time to refresh
    second = refresh(client, first["refresh_token"])
    assert me(client, second["access_token"]) == 200
    assert second["refresh_token"] != first["refresh_token"] and second["role"] == "grid_worker"
    third = refresh(client, second["refresh_token"])
    assert me(client, third["access_token"]) == 200


def test_a_reused_refresh_token_ends_the_whole_family(client, world, clock, settings):
    first = staff_sign_in(client, world)
    second = refresh(client, first["refresh_token"])
    clock.advance(seconds=settings.refresh_reuse_grace_seconds)
    stolen = refresh(client, first["refresh_token"], expect=401)  # the copy is used again, past the window
    assert (stolen["type"], stolen["code"]) == ("urn:wudan:problem:sign-in-failed", "signed_out")
    assert refresh(client, second["refresh_token"], expect=401)["code"] == "signed_out"  # the owner's too
    other = staff_sign_in(client, world)  # another sign-in is another family
    refresh(client, other["refresh_token"])


def test_refresh_tokens_end_with_the_password_logout_or_time(client, world, clock, settings):
    session = staff_sign_in(client, world)
    client.patch(f"/admin/staff/{world['workerA1']}", json={"password": "a-brand-new-one"}, headers=world.auth("admin"))
    assert refresh(client, session["refresh_token"], expect=401)["code"] == "signed_out"

    session = staff_sign_in(client, world, "workerA2")
    assert client.post("/auth/logout", json={"refresh_token": session["refresh_token"]}).status_code == 204
    assert refresh(client, session["refresh_token"], expect=401)["code"] == "signed_out"

    session = staff_sign_in(client, world, "secA")
    clock.advance(days=settings.refresh_token_days + 1)
    assert refresh(client, session["refresh_token"], expect=401)["code"] == "token_expired"


def test_residents_refresh_too(client, world):
    signed = client.post("/auth/dev/resident", json={"openid": "someone"}).json()
    renewed = refresh(client, signed["refresh_token"])
    assert renewed["kind"] == "resident" and renewed["user_id"] == signed["user_id"]
    assert renewed["profile_complete"] is False and me(client, renewed["access_token"]) == 200


def test_a_disabled_account_cannot_refresh(client, world):
    session = staff_sign_in(client, world, "memberA1")
    client.patch(f"/admin/staff/{world['memberA1']}", json={"active": False}, headers=world.auth("admin"))
    assert refresh(client, session["refresh_token"], expect=401)["code"] == "signed_out"
    assert refresh(client, "x" * 43, expect=401)["code"] == "token_invalid"
    assert client.post("/auth/refresh", json={"refresh_token": "short"}).status_code == 422


def test_a_retry_within_the_grace_window_gets_the_same_next_token(client, world, clock, settings):
    first = staff_sign_in(client, world)
    answered = refresh(client, first["refresh_token"])
    clock.advance(seconds=settings.refresh_reuse_grace_seconds - 1)
    retried = refresh(client, first["refresh_token"])  # the first answer was lost
    assert retried["refresh_token"] == answered["refresh_token"]
    assert me(client, retried["access_token"]) == 200 and me(client, answered["access_token"]) == 200
    following = refresh(client, retried["refresh_token"])  # one line of tokens, still alive
    assert me(client, following["access_token"]) == 200


def test_two_refreshes_at_once_with_one_token_both_get_the_same_pair(app, world):
    """Two tabs refresh together, over a real socket: neither ends the session, both hold the same token."""
    rounds, tabs = 4, 3
    with LiveServer(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(rounds):
            signed = http.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD}).json()
            barrier = threading.Barrier(tabs)

            def tab(token=signed["refresh_token"], barrier=barrier):
                barrier.wait()
                return http.post("/auth/refresh", json={"refresh_token": token})

            with ThreadPoolExecutor(max_workers=tabs) as pool:
                answers = list(pool.map(lambda _: tab(), range(tabs)))
            assert [a.status_code for a in answers] == [200] * tabs, [a.text for a in answers]
            assert len({a.json()["refresh_token"] for a in answers}) == 1
            for a in answers:
                me_answer = http.get("/me", headers={"Authorization": f"Bearer {a.json()['access_token']}"})
                assert me_answer.status_code == 200, me_answer.text
            renewed = http.post("/auth/refresh", json={"refresh_token": answers[0].json()["refresh_token"]})
            assert renewed.status_code == 200, renewed.text


def test_a_reuse_after_the_window_or_after_logout_ends_the_family(client, world, clock, settings):
    first = staff_sign_in(client, world)
    second = refresh(client, first["refresh_token"])
    clock.advance(seconds=settings.refresh_reuse_grace_seconds + 1)
    assert refresh(client, first["refresh_token"], expect=401)["code"] == "signed_out"
    assert refresh(client, second["refresh_token"], expect=401)["code"] == "signed_out"

    # Signed out within the window: the retry does not bring the session back.
    session = staff_sign_in(client, world, "workerA2")
    following = refresh(client, session["refresh_token"])
    assert client.post("/auth/logout", json={"refresh_token": following["refresh_token"]}).status_code == 204
    assert refresh(client, session["refresh_token"], expect=401)["code"] == "signed_out"


def test_no_grace_window_when_it_is_zero(settings, clock, database, world):
    app = create_app(settings.model_copy(update={"refresh_reuse_grace_seconds": 0}), clock=clock, database=database)
    with TestClient(app, raise_server_exceptions=False) as strict:
        first = staff_sign_in(strict, world)
        second = refresh(strict, first["refresh_token"])
        assert refresh(strict, first["refresh_token"], expect=401)["code"] == "signed_out"
        assert refresh(strict, second["refresh_token"], expect=401)["code"] == "signed_out"

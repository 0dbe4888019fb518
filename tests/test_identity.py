"""Identity over HTTP: residents through a stand-in WeChat server on a real socket, staff by
password, tokens, profiles, and the development sign-in.

The WeChat stand-in (tests/wechat_standin.py) listens on 127.0.0.1; the app's settings are
overridden here so that its WeChat client talks to it with a short timeout.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import select

from api.app import create_app
from storage.models import Order, Resident
from tests.wechat_standin import WeChatStandIn
from tests.world import PASSWORD
from infra.settings import DEFAULT_SECRET, Settings
from infra.tokens import TokenClaims, issue_token

PROBLEM_JSON = "application/problem+json"
TIMEOUT = 0.5
APPID, SECRET = "wx-test-app", "wx-test-secret"  # as in tests/conftest.py


@pytest.fixture
def wechat_standin():
    with WeChatStandIn(APPID, SECRET, slow_seconds=4 * TIMEOUT + 1) as standin:
        yield standin


@pytest.fixture
def settings(settings, wechat_standin):
    """The suite's settings (tests/conftest.py), pointed at the stand-in with a short timeout."""
    assert (settings.wechat_appid, settings.wechat_secret) == (APPID, SECRET)
    return settings.model_copy(
        update={"wechat_api_base": wechat_standin.url, "wechat_timeout_seconds": TIMEOUT}
    )


@pytest.fixture
def other_client(settings, clock, database):
    """A client of a second app on the same database, built with changed settings."""
    clients = []

    def make(**changes) -> TestClient:
        app = create_app(settings.model_copy(update=changes), clock=clock, database=database)
        c = TestClient(app, raise_server_exceptions=False)
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


# -- helpers ------------------------------------------------------------------------------


def residents(database) -> list[Resident]:
    with database.session() as db:
        return list(db.exec(select(Resident).order_by(Resident.id)).all())


def resident_row(database, resident_id: int) -> Resident:
    with database.session() as db:
        return db.get(Resident, resident_id)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wechat_sign_in(client, standin: WeChatStandIn, openid: str, code: str | None = None) -> dict:
    code = code or f"code-for-{openid}-{len(standin.requests)}"
    standin.login_codes[code] = openid
    r = client.post("/auth/wechat", json={"code": code})
    assert r.status_code == 200, r.text
    return r.json()


# -- WeChat sign-in -----------------------------------------------------------------------


def test_first_wechat_sign_in_creates_the_resident_and_the_next_finds_it(client, wechat_standin, database):
    wechat_standin.login_codes["wx-code-1"] = "openid-alice"
    r = client.post("/auth/wechat", json={"code": "wx-code-1"})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["token_type"] == "bearer"
    assert first["access_token"].count(".") == 2  # a JWT
    assert first["expires_in"] > 0
    assert (first["kind"], first["role"]) == ("resident", "resident")
    assert first["profile_complete"] is False

    [call] = wechat_standin.calls("/sns/jscode2session")
    assert call.method == "GET"
    assert call.query == {
        "appid": "wx-test-app",
        "secret": "wx-test-secret",
        "js_code": "wx-code-1",
        "grant_type": "authorization_code",
    }

    me = client.get("/me", headers=bearer(first["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["kind"] == "resident"
    assert me.json()["id"] == first["user_id"]
    assert me.json()["profile_complete"] is False

    # Codes are single use; the next sign-in brings a new code for the same openid.
    wechat_standin.login_codes["wx-code-2"] = "openid-alice"
    again = client.post("/auth/wechat", json={"code": "wx-code-2"})
    assert again.status_code == 200, again.text
    assert again.json()["user_id"] == first["user_id"]

    rows = residents(database)
    assert [(row.id, row.openid, row.unionid) for row in rows] == [
        (first["user_id"], "openid-alice", "union-openid-alice")
    ]
    assert len(wechat_standin.calls("/sns/jscode2session")) == 2


def test_different_openids_are_different_residents(client, wechat_standin, database):
    a = wechat_sign_in(client, wechat_standin, "openid-a")
    b = wechat_sign_in(client, wechat_standin, "openid-b")
    assert a["user_id"] != b["user_id"]
    assert sorted(row.openid for row in residents(database)) == ["openid-a", "openid-b"]


@pytest.mark.parametrize(
    ("script", "status", "retry_after"),
    [
        pytest.param(40029, 401, False, id="40029-invalid-code"),
        pytest.param(40163, 401, False, id="40163-code-used"),
        pytest.param(45011, 429, True, id="45011-rate-limited"),
        pytest.param(-1, 503, True, id="busy"),
        pytest.param(40125, 502, False, id="40125-other-refusal"),
        pytest.param("http500", 503, True, id="http-500"),
        pytest.param("not_json", 503, True, id="not-json"),
    ],
)
def test_wechat_failures_become_problems_and_write_nothing(client, wechat_standin, database, script, status, retry_after):
    wechat_standin.login_codes["bad-code"] = script
    r = client.post("/auth/wechat", json={"code": "bad-code"})
    body = assert_problem(r, status)
    assert body["instance"] == "/auth/wechat"
    if retry_after:
        assert int(r.headers["Retry-After"]) > 0
    else:
        assert "Retry-After" not in r.headers
    assert "access_token" not in body
    assert len(wechat_standin.calls("/sns/jscode2session")) == 1
    assert residents(database) == []


def test_a_slow_wechat_gives_503_within_the_timeout(client, wechat_standin, database):
    wechat_standin.login_codes["slow-code"] = "slow"
    started = time.monotonic()
    r = client.post("/auth/wechat", json={"code": "slow-code"})
    elapsed = time.monotonic() - started
    body = assert_problem(r, 503)
    assert "ReadTimeout" in body["detail"]
    assert int(r.headers["Retry-After"]) > 0
    # The stand-in holds the answer for 3 s; the client gives up after its 0.5 s timeout.
    assert elapsed < TIMEOUT + 1.5, elapsed
    assert wechat_standin.calls("/sns/jscode2session")
    assert residents(database) == []


def test_an_unreachable_wechat_gives_503(other_client, database):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    client = other_client(wechat_api_base="http://127.0.0.1:9")
    r = client.post("/auth/wechat", json={"code": "any"})
    assert_problem(r, 503)
    assert residents(database) == []


def test_a_misconfigured_appid_is_not_blamed_on_the_resident(other_client, wechat_standin, database):
    client = other_client(wechat_appid="wx-wrong-app")
    r = client.post("/auth/wechat", json={"code": "good"})
    assert wechat_standin.calls("/sns/jscode2session")[0].query["appid"] == "wx-wrong-app"
    assert residents(database) == []
    assert_problem(r, 502)


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 123}, {"code": "x", "openid": "forged"}])
def test_a_malformed_wechat_sign_in_is_refused_before_calling_wechat(client, wechat_standin, body):
    r = client.post("/auth/wechat", json=body)
    assert_problem(r, 422)
    assert wechat_standin.requests == []


def test_concurrent_first_sign_ins_of_one_openid_make_one_resident(client, wechat_standin, database):
    """Two taps of the login button at once: both must get the same, single resident."""
    rounds, parties = 4, 3
    outcomes: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def sign_in(code: str) -> None:
        r = client.post("/auth/wechat", json={"code": code})
        with lock:
            outcomes.append((r.status_code, r.json()))

    for n in range(rounds):
        codes = [f"race-{n}-{i}" for i in range(parties)]
        gate = wechat_standin.gate_for(codes)
        for code in codes:
            wechat_standin.login_codes[code] = f"openid-race-{n}"
        threads = [threading.Thread(target=sign_in, args=(code,)) for code in codes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        assert not gate.broken

    assert [status for status, _ in outcomes] == [200] * (rounds * parties), outcomes
    rows = residents(database)
    assert len(rows) == rounds
    by_openid = {row.openid: row.id for row in rows}
    assert {body["user_id"] for _, body in outcomes} == set(by_openid.values())


# -- the profile --------------------------------------------------------------------------


def test_profile_with_typed_phone_completes_it(client, wechat_standin, world, database):
    signed = wechat_sign_in(client, wechat_standin, "openid-profile")
    token = signed["access_token"]
    r = client.put(
        "/me/profile",
        json={"name": "王阿姨", "phone": "13811112222", "grid_id": world["gridA1"]},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["profile_complete"] is True
    assert r.json()["grid_id"] == world["gridA1"]
    assert r.json()["town_id"] == world["town"]

    me = client.get("/me", headers=bearer(token)).json()
    assert (me["name"], me["phone"], me["grid_id"], me["town_id"]) == (
        "王阿姨", "13811112222", world["gridA1"], world["town"]
    )
    assert me["profile_complete"] is True
    # Typing the phone needs nothing from WeChat.
    assert wechat_standin.calls("/cgi-bin/stable_token") == []
    assert wechat_standin.calls("/wxa/business/getuserphonenumber") == []

    row = resident_row(database, signed["user_id"])
    assert (row.name, row.phone, row.grid_id, row.town_id) == ("王阿姨", "13811112222", world["gridA1"], world["town"])

    # Signing in again now says the profile is complete.
    assert wechat_sign_in(client, wechat_standin, "openid-profile")["profile_complete"] is True


def test_a_partial_profile_is_not_complete(client, wechat_standin, world):
    token = wechat_sign_in(client, wechat_standin, "openid-partial")["access_token"]
    r = client.put("/me/profile", json={"name": "只填了名字"}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "只填了名字"
    assert r.json()["profile_complete"] is False


def test_phone_code_uses_a_cached_access_token_and_refreshes_it_when_expired(client, wechat_standin, world, database):
    wechat_standin.phone_codes.update({"pc-1": "13800138001", "pc-2": "13800138002", "pc-3": "13800138003"})
    signed = wechat_sign_in(client, wechat_standin, "openid-phone")
    headers = bearer(signed["access_token"])

    # 1. The first phone code: a stable token is fetched, then the phone number.
    r = client.put("/me/profile", json={"phone_code": "pc-1", "name": "李叔", "grid_id": world["gridA2"]}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "13800138001"
    assert r.json()["profile_complete"] is True
    [token_call] = wechat_standin.calls("/cgi-bin/stable_token")
    assert token_call.method == "POST"
    assert token_call.body == {
        "grant_type": "client_credential", "appid": "wx-test-app", "secret": "wx-test-secret", "force_refresh": False,
    }
    first_token = wechat_standin.current_token
    [phone_call] = wechat_standin.calls("/wxa/business/getuserphonenumber")
    assert phone_call.method == "POST"
    assert phone_call.query == {"access_token": first_token}
    assert phone_call.body == {"code": "pc-1"}
    assert resident_row(database, signed["user_id"]).phone == "13800138001"

    # 2. The second: the cached token is used again, no second stable_token call.
    r = client.put("/me/profile", json={"phone_code": "pc-2"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "13800138002"
    assert len(wechat_standin.calls("/cgi-bin/stable_token")) == 1
    phone_calls = wechat_standin.calls("/wxa/business/getuserphonenumber")
    assert [(c.query["access_token"], c.body["code"]) for c in phone_calls] == [
        (first_token, "pc-1"), (first_token, "pc-2")
    ]

    # 3. WeChat expires the token: 40001, then a forced refresh and one retry that works.
    wechat_standin.expire_token()
    r = client.put("/me/profile", json={"phone_code": "pc-3"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "13800138003"
    token_calls = wechat_standin.calls("/cgi-bin/stable_token")
    assert [c.body["force_refresh"] for c in token_calls] == [False, True]
    second_token = wechat_standin.current_token
    assert second_token != first_token
    phone_calls = wechat_standin.calls("/wxa/business/getuserphonenumber")
    assert [(c.query["access_token"], c.body["code"]) for c in phone_calls[2:]] == [
        (first_token, "pc-3"), (second_token, "pc-3")
    ]
    assert resident_row(database, signed["user_id"]).phone == "13800138003"


@pytest.mark.parametrize(("script", "status"), [("slow", 503), (-1, 503), (45011, 429), ("not_json", 503)])
def test_a_failed_phone_code_changes_nothing(client, wechat_standin, database, script, status):
    wechat_standin.phone_codes["pc-fail"] = script
    signed = wechat_sign_in(client, wechat_standin, "openid-phone-fail")
    started = time.monotonic()
    r = client.put("/me/profile", json={"name": "不该保存", "phone_code": "pc-fail"}, headers=bearer(signed["access_token"]))
    assert time.monotonic() - started < TIMEOUT + 1.5
    assert_problem(r, status)
    assert "Retry-After" in r.headers
    row = resident_row(database, signed["user_id"])
    assert (row.name, row.phone) == (None, None)  # the name in the same request was rolled back too


def test_a_bad_phone_code_is_a_422_not_a_401(client, wechat_standin, database):
    signed = wechat_sign_in(client, wechat_standin, "openid-bad-phone-code")
    headers = bearer(signed["access_token"])
    r = client.put("/me/profile", json={"phone_code": "never-issued"}, headers=headers)
    assert len(wechat_standin.calls("/wxa/business/getuserphonenumber")) == 1
    assert resident_row(database, signed["user_id"]).phone is None
    assert client.get("/me", headers=headers).status_code == 200  # the session itself is fine
    assert_problem(r, 422)


def test_phone_code_without_wechat_configured_is_refused(other_client, wechat_standin, database):
    client = other_client(wechat_appid="")
    signed = client.post("/auth/dev/resident", json={"openid": "no-wechat"}).json()
    r = client.put("/me/profile", json={"phone_code": "pc-x"}, headers=bearer(signed["access_token"]))
    assert_problem(r, 422)
    assert wechat_standin.requests == []
    assert resident_row(database, signed["user_id"]).phone is None


def test_an_unknown_grid_is_refused(client, wechat_standin, database):
    signed = wechat_sign_in(client, wechat_standin, "openid-bad-grid")
    r = client.put("/me/profile", json={"name": "赵", "grid_id": 987654}, headers=bearer(signed["access_token"]))
    body = assert_problem(r, 422)
    assert "987654" in body["detail"]
    row = resident_row(database, signed["user_id"])
    assert (row.name, row.grid_id) == (None, None)


def test_phone_and_phone_code_together_are_refused(client, wechat_standin, database):
    signed = wechat_sign_in(client, wechat_standin, "openid-both")
    r = client.put(
        "/me/profile", json={"phone": "13800000000", "phone_code": "pc-1"}, headers=bearer(signed["access_token"])
    )
    body = assert_problem(r, 422)
    assert body["errors"]
    assert wechat_standin.calls("/wxa/business/getuserphonenumber") == []
    assert resident_row(database, signed["user_id"]).phone is None


@pytest.mark.parametrize(
    "body",
    [{"phone": "not-a-phone"}, {"grid_id": 0}, {"grid_id": "1"}, {"name": ""}, {"nickname": "x"}],
)
def test_invalid_profile_fields_are_refused(client, wechat_standin, body):
    signed = wechat_sign_in(client, wechat_standin, "openid-invalid")
    r = client.put("/me/profile", json=body, headers=bearer(signed["access_token"]))
    assert_problem(r, 422)


def test_staff_have_no_resident_profile(client, world):
    r = client.put("/me/profile", json={"name": "x"}, headers=world.auth("workerA1"))
    assert_problem(r, 403)


# -- orders taken on a resident's behalf ----------------------------------------------------


ON_BEHALF_PHONE = "13911112222"


def place_on_behalf(client, world) -> int:
    r = client.post(
        "/orders",
        json={
            "category_id": world["cat"], "description": "孙爷爷家的水管漏水", "grid_id": world["gridA1"],
            "contact_name": "孙爷爷", "contact_phone": ON_BEHALF_PHONE, "channel": "visit",
        },
        headers=world.auth("workerA1"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["placed_on_behalf"] is True
    return r.json()["id"]


@pytest.mark.parametrize("how", ["typed", "phone_code"])
def test_an_order_taken_on_a_visit_is_seen_by_the_resident_who_signs_in_with_that_phone(
    client, wechat_standin, world, database, how
):
    order_id = place_on_behalf(client, world)
    with database.session() as db:
        assert db.get(Order, order_id).resident_id is None  # nobody has that phone yet

    signed = wechat_sign_in(client, wechat_standin, "openid-grandpa-sun")
    headers = bearer(signed["access_token"])
    before = client.get("/orders", headers=headers)
    assert before.status_code == 200, before.text
    assert before.json()["items"] == []

    if how == "typed":
        profile = {"name": "孙爷爷", "phone": ON_BEHALF_PHONE, "grid_id": world["gridA1"]}
    else:
        wechat_standin.phone_codes["pc-sun"] = ON_BEHALF_PHONE
        profile = {"name": "孙爷爷", "phone_code": "pc-sun", "grid_id": world["gridA1"]}
    r = client.put("/me/profile", json=profile, headers=headers)
    assert r.status_code == 200, r.text

    after = client.get("/orders", headers=headers).json()
    if how == "typed":
        # A typed phone is anyone's claim: it does not open someone else's order.
        assert after["items"] == []
        with database.session() as db:
            assert db.get(Order, order_id).resident_id is None
        return
    assert [item["id"] for item in after["items"]] == [order_id]
    assert after["total"] == 1
    assert after["items"][0]["contact_phone"] == ON_BEHALF_PHONE
    assert client.get(f"/orders/{order_id}", headers=headers).status_code == 200
    with database.session() as db:
        assert db.get(Order, order_id).resident_id == signed["user_id"]
    # Another resident still does not see it.
    assert client.get(f"/orders/{order_id}", headers=world.auth("res1")).status_code == 404


# -- staff sign-in --------------------------------------------------------------------------


def test_staff_sign_in(client, world):
    r = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["kind"], body["role"], body["user_id"]) == ("staff", "grid_worker", world["workerA1"])
    assert body["token_type"] == "bearer"
    me = client.get("/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["kind"], me.json()["role"], me.json()["id"]) == ("staff", "grid_worker", world["workerA1"])
    assert me.json()["grid_ids"] == [world["gridA1"]]


def test_staff_sign_in_refusals_look_alike(client, world):
    wrong = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": "wrong password"})
    unknown = client.post("/auth/staff", json={"phone": "13799999999", "password": PASSWORD})
    a, b = assert_problem(wrong, 401), assert_problem(unknown, 401)
    # The same answer, so that the API does not tell which phones have accounts.
    assert (a["type"], a["title"], a["detail"]) == (b["type"], b["title"], b["detail"])
    assert "access_token" not in a


def test_a_disabled_staff_member_is_refused_at_once(client, world):
    signed = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD}).json()
    old = bearer(signed["access_token"])
    assert client.get("/me", headers=old).status_code == 200

    r = client.patch(f"/admin/staff/{world['workerA1']}", json={"active": False}, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False

    assert_problem(client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD}), 401)
    assert_problem(client.get("/me", headers=old), 401)
    assert_problem(client.get("/orders", headers=world.auth("workerA1")), 401)

    # Enabled again, the account signs in afresh; tokens from before the disabling stay dead
    # (an account is disabled when a phone is lost, and its old tokens with it).
    r = client.patch(f"/admin/staff/{world['workerA1']}", json={"active": True}, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert_problem(client.get("/me", headers=old), 401)
    again = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD})
    assert client.get("/me", headers=bearer(again.json()["access_token"])).status_code == 200


# -- tokens ---------------------------------------------------------------------------------


def test_no_token_is_401(client, world):
    body = assert_problem(client.get("/me"), 401)
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer garbage", "Bearer a.b.c", "Bearer ", "Basic dXNlcjpwYXNz", "garbage"],
)
def test_a_bad_authorization_header_is_401(client, world, authorization):
    assert_problem(client.get("/me", headers={"Authorization": authorization}), 401)


def test_a_token_signed_with_another_secret_is_401(client, world, clock):
    claims = TokenClaims("staff", world["admin"], "town_admin", world["town"])
    forged = issue_token("another-secret-that-is-long-enough-0123456789", claims, clock(), timedelta(hours=1))
    assert_problem(client.get("/me", headers=bearer(forged)), 401)
    genuine = issue_token(client.app.state.settings.secret_key, claims, clock(), timedelta(hours=1))
    assert client.get("/me", headers=bearer(genuine)).status_code == 200


def test_an_expired_token_is_401(client, world, settings):
    claims = TokenClaims("staff", world["admin"], "town_admin", world["town"])
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    expired = issue_token(settings.secret_key, claims, long_ago, timedelta(hours=12))
    body = assert_problem(client.get("/me", headers=bearer(expired)), 401)
    assert "expired" in body["detail"]


def test_a_token_of_a_resident_who_does_not_exist_is_401(client, world, settings, clock):
    ghost = issue_token(settings.secret_key, TokenClaims("resident", 987654, "resident", None), clock(), timedelta(hours=1))
    assert_problem(client.get("/me", headers=bearer(ghost)), 401)


def test_a_401_says_how_to_authenticate(client, world):
    r = client.get("/me")
    assert r.status_code == 401
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_a_token_is_judged_by_the_app_clock_not_the_host_clock(client, world, clock, settings):
    clock.now = datetime(2020, 1, 1, tzinfo=UTC)  # long before the host's time
    signed = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    headers = bearer(signed.json()["access_token"])
    assert client.get("/me", headers=headers).status_code == 200
    clock.advance(minutes=settings.access_token_minutes - 1)
    assert client.get("/me", headers=headers).status_code == 200
    clock.advance(minutes=2)
    body = assert_problem(client.get("/me", headers=headers), 401)
    assert "expired" in body["detail"]


def test_a_token_issued_while_the_app_clock_is_ahead_of_the_host_works(client, world, clock):
    clock.now = datetime(2100, 1, 1, tzinfo=UTC)
    signed = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    r = client.get("/me", headers=bearer(signed.json()["access_token"]))
    assert r.status_code == 200, r.text


# -- development sign-in and settings ---------------------------------------------------------


def test_dev_sign_in_in_development(client, database, wechat_standin):
    r = client.post("/auth/dev/resident", json={"openid": "tester"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["kind"], body["role"], body["profile_complete"]) == ("resident", "resident", False)
    again = client.post("/auth/dev/resident", json={"openid": "tester"}).json()
    assert again["user_id"] == body["user_id"]
    assert [row.openid for row in residents(database)] == ["dev:tester"]
    assert client.get("/me", headers=bearer(body["access_token"])).json()["id"] == body["user_id"]
    assert wechat_standin.requests == []  # no WeChat involved


def test_dev_sign_in_cannot_reach_a_wechat_resident(client, wechat_standin, database):
    """`dev:` prefixes the openid, so a dev sign-in never becomes a real WeChat resident."""
    real = wechat_sign_in(client, wechat_standin, "openid-real")
    dev = client.post("/auth/dev/resident", json={"openid": "openid-real"}).json()
    assert dev["user_id"] != real["user_id"]


def test_dev_sign_in_is_404_when_off(other_client, database):
    client = other_client(dev_login=False)
    r = client.post("/auth/dev/resident", json={"openid": "tester"})
    assert_problem(r, 404)
    assert residents(database) == []


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("ENVIRONMENT", "SECRET_KEY", "DEV_LOGIN", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_production_refuses_the_default_secret(clean_env):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", _env_file=None)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET, _env_file=None)


def test_production_with_a_real_secret_has_no_dev_sign_in(clean_env):
    settings = Settings(environment="production", secret_key="s" * 32, _env_file=None)
    assert settings.dev_login is False
    with pytest.raises(ValidationError, match="DEV_LOGIN"):
        Settings(environment="production", secret_key="s" * 32, dev_login=True, _env_file=None)
    with pytest.raises(ValidationError, match="32"):
        Settings(environment="production", secret_key="s" * 31, _env_file=None)


def test_production_settings_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
    monkeypatch.setenv("SECRET_KEY", "e" * 40)
    settings = Settings(_env_file=None)
    assert (settings.environment, settings.dev_login) == ("production", False)

"""Dashboard tokens: listed and revoked by the town admin, rotated by the dashboard, checked on every poll."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from tests.world import _token
from workflows.dashboards import LAST_USED_STEP, ROTATION_OVERLAP

PROBLEM = "application/problem+json"


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def refused(response, status: int = 401) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(client, world, label: str | None = None) -> dict:
    body = {"label": label} if label else None
    return ok(client.post("/admin/dashboard-tokens", json=body, headers=world.auth("admin")), 201)


def listed(client, world, who: str = "admin") -> dict[int, dict]:
    return {t["id"]: t for t in ok(client.get("/admin/dashboard-tokens", headers=world.auth(who)))["items"]}


def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def test_issued_tokens_are_listed_with_their_use(client, world, clock, settings):
    hall = issue(client, world, "大厅左屏")
    assert hall["label"] == "大厅左屏" and hall["kind"] == "dashboard"
    assert at(hall["expires_at"]) == clock() + timedelta(days=settings.dashboard_token_days)
    row = listed(client, world)[hall["id"]]
    assert (row["label"], row["active"], row["last_used_at"], row["revoked_at"]) == ("大厅左屏", True, None, None)
    assert at(row["created_at"]) == clock() and at(row["expires_at"]) == at(hall["expires_at"])

    ok(client.get("/stats/summary", headers=bearer(hall["access_token"])))
    assert at(listed(client, world)[hall["id"]]["last_used_at"]) == clock()
    first_use = clock()
    clock.advance(seconds=LAST_USED_STEP.total_seconds() - 60)
    ok(client.get("/stats/summary", headers=bearer(hall["access_token"])))  # too soon to write it again
    assert at(listed(client, world)[hall["id"]]["last_used_at"]) == first_use
    clock.advance(seconds=60)
    ok(client.get("/stats/summary", headers=bearer(hall["access_token"])))
    assert at(listed(client, world)[hall["id"]]["last_used_at"]) == clock()

    assert [t["id"] for t in ok(client.get("/admin/dashboard-tokens", headers=world.auth("admin")))["items"]][:1] \
        == [hall["id"]]  # newest first
    assert hall["id"] not in listed(client, world, "admin2")  # another town's admin sees their own only
    refused(client.get("/admin/dashboard-tokens", headers=world.auth("secA")), 403)
    refused(client.get("/admin/dashboard-tokens", headers=bearer(hall["access_token"])), 403)


def test_a_revoked_token_is_refused_at_once_on_every_replica(client, world, settings, clock, database):
    hall = issue(client, world, "大厅")
    other = issue(client, world, "会议室")
    replica = TestClient(create_app(settings, clock=clock, database=database), raise_server_exceptions=False)
    with replica:
        ok(replica.get("/stats/summary", headers=bearer(hall["access_token"])))
        revoked = ok(client.post(f"/admin/dashboard-tokens/{hall['id']}/revoke", headers=world.auth("admin")))
        assert (revoked["active"], at(revoked["revoked_at"])) == (False, clock())
        for app_client in (client, replica):
            body = refused(app_client.get("/stats/summary", headers=bearer(hall["access_token"])))
            assert (body["type"], body["code"]) == ("urn:wudan:problem:sign-in-failed", "signed_out")
        ok(replica.get("/stats/summary", headers=bearer(other["access_token"])))  # the others keep working

    clock.advance(minutes=1)
    again = ok(client.post(f"/admin/dashboard-tokens/{hall['id']}/revoke", headers=world.auth("admin")))
    assert at(again["revoked_at"]) == at(revoked["revoked_at"])  # revoked once
    assert listed(client, world)[hall["id"]]["active"] is False
    refused(client.post("/auth/dashboard/rotate", headers=bearer(hall["access_token"])))  # cannot rotate back to life
    log = ok(client.get("/admin/audit", params={"entity": "dashboard_token"}, headers=world.auth("admin")))["items"]
    assert [(e["action"], e["entity_id"]) for e in log] == [
        ("revoke", hall["id"]), ("create", other["id"]), ("create", hall["id"])]


def test_only_the_towns_admin_revokes(client, world):
    hall = issue(client, world)
    refused(client.post(f"/admin/dashboard-tokens/{hall['id']}/revoke", headers=world.auth("admin2")), 404)
    refused(client.post(f"/admin/dashboard-tokens/{hall['id']}/revoke", headers=world.auth("secA")), 403)
    refused(client.post("/admin/dashboard-tokens/999999/revoke", headers=world.auth("admin")), 404)
    ok(client.get("/stats/summary", headers=bearer(hall["access_token"])))


def test_a_dashboard_rotates_its_token_and_the_old_one_ends_after_the_overlap(client, world, clock, settings):
    old = issue(client, world, "大厅")
    clock.advance(days=20)
    new = ok(client.post("/auth/dashboard/rotate", headers=bearer(old["access_token"])))
    assert new["id"] == old["id"] and new["label"] == "大厅" and new["access_token"] != old["access_token"]
    assert at(new["expires_at"]) == clock() + timedelta(days=settings.dashboard_token_days)
    assert new["expires_in"] == settings.dashboard_token_days * 86400
    # A retry within the overlap (the answer was lost, another tab) gets the same generation, not a third.
    retried = ok(client.post("/auth/dashboard/rotate", headers=bearer(old["access_token"])))
    assert (retried["access_token"], retried["expires_at"]) == (new["access_token"], new["expires_at"])

    clock.advance(seconds=ROTATION_OVERLAP.total_seconds() - 1)
    ok(client.get("/stats/summary", headers=bearer(old["access_token"])))  # polls in flight still answered
    clock.advance(seconds=1)
    assert refused(client.get("/stats/summary", headers=bearer(old["access_token"])))["code"] == "signed_out"
    refused(client.post("/auth/dashboard/rotate", headers=bearer(old["access_token"])))
    ok(client.get("/stats/summary", headers=bearer(new["access_token"])))

    row = listed(client, world)[old["id"]]
    assert at(row["rotated_at"]) == clock() - ROTATION_OVERLAP and at(row["expires_at"]) == at(new["expires_at"])
    log = ok(client.get("/admin/audit", params={"entity": "dashboard_token"}, headers=world.auth("admin")))["items"]
    assert [(e["action"], e["actor_role"]) for e in log] == [("rotate", "dashboard"), ("create", "town_admin")]

    # Unrotated, a token ends at its expiry; revoking ends the rotated one too.
    clock.advance(days=settings.dashboard_token_days)
    assert refused(client.get("/stats/summary", headers=bearer(new["access_token"])))["code"] == "token_expired"


def test_revoking_ends_every_generation(client, world, clock):
    old = issue(client, world)
    new = ok(client.post("/auth/dashboard/rotate", headers=bearer(old["access_token"])))
    ok(client.post(f"/admin/dashboard-tokens/{old['id']}/revoke", headers=world.auth("admin")))
    for token in (old, new):
        assert refused(client.get("/stats/summary", headers=bearer(token["access_token"])))["code"] == "signed_out"


def test_only_a_dashboard_rotates(client, world):
    for who in ("admin", "res1", "secA"):
        refused(client.post("/auth/dashboard/rotate", headers=world.auth(who)), 403)
    assert refused(client.post("/auth/dashboard/rotate"))["code"] == "token_missing"


def test_a_dashboard_token_that_names_no_row_is_signed_out(client, world, settings, clock):
    """As are those issued before the tokens were kept: they named a random id."""
    unknown = _token(settings, "dashboard", 987654, "dashboard", world["town"], clock())
    assert refused(client.get("/stats/summary", headers=bearer(unknown)))["code"] == "signed_out"
    elsewhere = _token(settings, "dashboard", world["dashboard"], "dashboard", world["town2"], clock())
    assert refused(client.get("/stats/summary", headers=bearer(elsewhere)))["code"] == "signed_out"
    ok(client.get("/stats/summary", headers=world.auth("dashboard")))


def test_a_label_is_checked(client, world):
    for label in ("", "x" * 51, 5):
        r = client.post("/admin/dashboard-tokens", json={"label": label}, headers=world.auth("admin"))
        assert refused(r, 422)["type"] == "urn:wudan:problem:validation-error"
    r = client.post("/admin/dashboard-tokens", json={"label": "大厅", "town_id": 2}, headers=world.auth("admin"))
    refused(r, 422)

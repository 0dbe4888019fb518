"""The admin API (/admin/...): the town, its branches, grids, staff and categories, dashboard tokens."""

from __future__ import annotations

import pytest

from domain.households import DEFAULT_HOUSEHOLD_FLAGS
from domain.states import OrderState
from tests.helpers import count_moves
from tests.world import PASSWORD

PROBLEM = "application/problem+json"


# Helpers


def problem(response, status: int, *, validation: bool = False) -> dict:
    """Assert `response` is an RFC 9457 problem with `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = response.json()
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == status
    if validation:
        assert body["type"] == "urn:wudan:problem:validation-error"
        assert isinstance(body["errors"], list) and body["errors"]
        for error in body["errors"]:
            assert {"loc", "msg", "type"} <= set(error)
    return body


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def place(client, world, who="res1", category="cat", **extra) -> dict:
    body = {"category_id": world[category], "description": "x", **extra}
    return ok(client.post("/orders", json=body, headers=world.auth(who)), 201)


def new_staff(client, world, **fields) -> dict:
    body = {"name": "新人", "phone": "13811112222", "role": "grid_worker", "password": "a long password", **fields}
    return ok(client.post("/admin/staff", json=body, headers=world.auth("admin")), 201)


# The town


# 吹哨报到: 24 h to report in (2 h urgent), 72 h to reply (24 h urgent).
DEFAULT_WHISTLE_LIMITS = {"whistle_report_minutes": 1440, "whistle_report_urgent_minutes": 120,
                          "whistle_reply_minutes": 4320, "whistle_reply_urgent_minutes": 1440,
                          # And where orders go by their location, and which are offered as "me too".
                          "route_distance_m": 200, "intake_grid_id": None, "nearby_radius_m": 50, "nearby_days": 14}


def test_get_town(client, world):
    town = ok(client.get("/admin/town", headers=world.auth("admin")))
    assert town == {"id": world["town"], "name": "测试镇", "timezone": "Asia/Shanghai",
                    "public_board_enabled": False, "public_points_board_enabled": False,
                    "household_flags": list(DEFAULT_HOUSEHOLD_FLAGS), **DEFAULT_WHISTLE_LIMITS}
    other = ok(client.get("/admin/town", headers=world.auth("admin2")))
    assert other["id"] == world["town2"] and other["name"] == "邻镇"


def test_patch_town(client, world):
    admin = world.auth("admin")
    town = ok(client.patch("/admin/town", json={"name": "新名镇", "timezone": "Asia/Urumqi"}, headers=admin))
    assert town == {"id": world["town"], "name": "新名镇", "timezone": "Asia/Urumqi", "public_board_enabled": False,
                    "public_points_board_enabled": False, "household_flags": list(DEFAULT_HOUSEHOLD_FLAGS), **DEFAULT_WHISTLE_LIMITS}
    assert ok(client.get("/admin/town", headers=admin)) == town
    # Only the admin's own town changes.
    assert ok(client.get("/admin/town", headers=world.auth("admin2")))["name"] == "邻镇"


def test_patch_town_unknown_timezone(client, world):
    admin = world.auth("admin")
    body = problem(client.patch("/admin/town", json={"timezone": "Mars/Olympus"}, headers=admin), 422, validation=True)
    assert any("timezone" in e["loc"] for e in body["errors"])
    assert ok(client.get("/admin/town", headers=admin))["timezone"] == "Asia/Shanghai"


def test_patch_town_name_of_another_town_conflicts(client, world):
    problem(client.patch("/admin/town", json={"name": "邻镇"}, headers=world.auth("admin")), 409)
    assert ok(client.get("/admin/town", headers=world.auth("admin")))["name"] == "测试镇"


# Branches


def test_branches_list_is_paginated_in_id_order(client, world):
    admin = world.auth("admin")
    page = ok(client.get("/admin/branches", headers=admin))
    assert page["total"] == 2 and page["limit"] == 20 and page["offset"] == 0
    assert [b["id"] for b in page["items"]] == [world["branchA"], world["branchB"]]
    assert all(b["town_id"] == world["town"] for b in page["items"])
    ok(client.post("/admin/branches", json={"name": "丙社区党支部", "kind": "community"}, headers=admin), 201)
    first = ok(client.get("/admin/branches", params={"limit": 2, "offset": 0}, headers=admin))
    second = ok(client.get("/admin/branches", params={"limit": 2, "offset": 2}, headers=admin))
    assert first["total"] == second["total"] == 3
    assert (first["limit"], first["offset"], second["limit"], second["offset"]) == (2, 0, 2, 2)
    ids = [b["id"] for b in first["items"] + second["items"]]
    assert len(ids) == 3 and ids == sorted(ids)
    assert [b["name"] for b in second["items"]] == ["丙社区党支部"]
    # Repeating the request gives the same page.
    assert ok(client.get("/admin/branches", params={"limit": 2, "offset": 0}, headers=admin)) == first


def test_branches_list_bad_paging(client, world):
    admin = world.auth("admin")
    problem(client.get("/admin/branches", params={"limit": 0}, headers=admin), 422, validation=True)
    problem(client.get("/admin/branches", params={"limit": 101}, headers=admin), 422, validation=True)
    problem(client.get("/admin/branches", params={"offset": -1}, headers=admin), 422, validation=True)


def test_branch_crud(client, world):
    admin = world.auth("admin")
    created = ok(client.post("/admin/branches", json={"name": "丙社区党支部", "kind": "community"}, headers=admin), 201)
    assert created["name"] == "丙社区党支部" and created["kind"] == "community"
    assert created["town_id"] == world["town"] and created["created_at"]
    branch_id = created["id"]
    assert ok(client.get(f"/admin/branches/{branch_id}", headers=admin)) == created
    patched = ok(client.patch(f"/admin/branches/{branch_id}", json={"name": "丙村党支部", "kind": "village"}, headers=admin))
    assert patched == {**created, "name": "丙村党支部", "kind": "village"}
    assert ok(client.get(f"/admin/branches/{branch_id}", headers=admin))["name"] == "丙村党支部"
    response = client.delete(f"/admin/branches/{branch_id}", headers=admin)
    assert response.status_code == 204 and response.content == b""
    problem(client.get(f"/admin/branches/{branch_id}", headers=admin), 404)
    problem(client.delete(f"/admin/branches/{branch_id}", headers=admin), 404)


def test_branch_default_kind_is_village(client, world):
    created = ok(client.post("/admin/branches", json={"name": "丁村党支部"}, headers=world.auth("admin")), 201)
    assert created["kind"] == "village"
    problem(client.post("/admin/branches", json={"name": "戊", "kind": "city"}, headers=world.auth("admin")),
            422, validation=True)


def test_branch_of_another_town_is_not_found(client, world):
    admin2 = world.auth("admin2")
    branch_a = world["branchA"]
    problem(client.get(f"/admin/branches/{branch_a}", headers=admin2), 404)
    problem(client.patch(f"/admin/branches/{branch_a}", json={"name": "偷改"}, headers=admin2), 404)
    problem(client.delete(f"/admin/branches/{branch_a}", headers=admin2), 404)
    assert [b["id"] for b in ok(client.get("/admin/branches", headers=admin2))["items"]] == [world["branchC"]]
    assert ok(client.get(f"/admin/branches/{branch_a}", headers=world.auth("admin")))["name"] == "甲村党支部"


def test_duplicate_branch_name_conflicts(client, world):
    admin = world.auth("admin")
    problem(client.post("/admin/branches", json={"name": "甲村党支部"}, headers=admin), 409)
    problem(client.patch(f"/admin/branches/{world['branchB']}", json={"name": "甲村党支部"}, headers=admin), 409)
    assert ok(client.get("/admin/branches", headers=admin))["total"] == 2
    # The same name in another town is fine.
    ok(client.post("/admin/branches", json={"name": "甲村党支部"}, headers=world.auth("admin2")), 201)


def test_delete_branch_with_grids_conflicts(client, world):
    admin = world.auth("admin")
    body = problem(client.delete(f"/admin/branches/{world['branchA']}", headers=admin), 409)
    assert "grids" in body["detail"]
    assert ok(client.get(f"/admin/branches/{world['branchA']}", headers=admin))["id"] == world["branchA"]


def test_delete_branch_with_staff_conflicts(client, world):
    admin = world.auth("admin")
    branch = ok(client.post("/admin/branches", json={"name": "新支部"}, headers=admin), 201)
    new_staff(client, world, role="member", branch_id=branch["id"])
    body = problem(client.delete(f"/admin/branches/{branch['id']}", headers=admin), 409)
    assert "staff" in body["detail"]


# Grids


def test_grids_list_is_paginated_and_filtered(client, world):
    admin = world.auth("admin")
    page = ok(client.get("/admin/grids", headers=admin))
    assert page["total"] == 3 and (page["limit"], page["offset"]) == (20, 0)
    assert [g["id"] for g in page["items"]] == [world["gridA1"], world["gridA2"], world["gridB1"]]
    second = ok(client.get("/admin/grids", params={"limit": 1, "offset": 1}, headers=admin))
    assert second["total"] == 3 and [g["id"] for g in second["items"]] == [world["gridA2"]]
    only_b = ok(client.get("/admin/grids", params={"branch_id": world["branchB"]}, headers=admin))
    assert only_b["total"] == 1 and [g["id"] for g in only_b["items"]] == [world["gridB1"]]
    # Another town's branch filters to nothing, it does not leak its grids.
    other = ok(client.get("/admin/grids", params={"branch_id": world["branchC"]}, headers=admin))
    assert other == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_grid_crud(client, world):
    admin = world.auth("admin")
    created = ok(client.post("/admin/grids", json={"branch_id": world["branchA"], "name": "第三网格", "households": 320},
                             headers=admin), 201)
    assert created == {"id": created["id"], "town_id": world["town"], "branch_id": world["branchA"],
                       "name": "第三网格", "households": 320, "wecom_webhook_key": None}
    grid_id = created["id"]
    assert ok(client.get(f"/admin/grids/{grid_id}", headers=admin)) == created
    patched = ok(client.patch(f"/admin/grids/{grid_id}", json={"branch_id": world["branchB"], "households": 10},
                              headers=admin))
    assert patched == {**created, "branch_id": world["branchB"], "households": 10}
    response = client.delete(f"/admin/grids/{grid_id}", headers=admin)
    assert response.status_code == 204 and response.content == b""
    problem(client.get(f"/admin/grids/{grid_id}", headers=admin), 404)


def test_grid_in_branch_of_another_town_is_refused(client, world):
    admin = world.auth("admin")
    problem(client.post("/admin/grids", json={"branch_id": world["branchC"], "name": "越界"}, headers=admin), 422)
    problem(client.patch(f"/admin/grids/{world['gridA1']}", json={"branch_id": world["branchC"]}, headers=admin), 422)
    problem(client.post("/admin/grids", json={"branch_id": 999999, "name": "无"}, headers=admin), 422)
    assert ok(client.get("/admin/grids", headers=admin))["total"] == 3
    assert ok(client.get(f"/admin/grids/{world['gridA1']}", headers=admin))["branch_id"] == world["branchA"]


def test_grid_of_another_town_is_not_found(client, world):
    admin2 = world.auth("admin2")
    problem(client.get(f"/admin/grids/{world['gridA1']}", headers=admin2), 404)
    problem(client.patch(f"/admin/grids/{world['gridA1']}", json={"name": "x"}, headers=admin2), 404)
    problem(client.delete(f"/admin/grids/{world['gridA2']}", headers=admin2), 404)
    assert ok(client.get(f"/admin/grids/{world['gridA2']}", headers=world.auth("admin")))["name"] == "gridA2"


def test_duplicate_grid_name_in_branch_conflicts(client, world):
    admin = world.auth("admin")
    problem(client.post("/admin/grids", json={"branch_id": world["branchA"], "name": "gridA1"}, headers=admin), 409)
    # The same name in another branch is fine.
    ok(client.post("/admin/grids", json={"branch_id": world["branchB"], "name": "gridA1"}, headers=admin), 201)


def test_delete_grid_with_orders_conflicts(client, world):
    admin = world.auth("admin")
    place(client, world, grid_id=world["gridA2"])
    body = problem(client.delete(f"/admin/grids/{world['gridA2']}", headers=admin), 409)
    assert "orders" in body["detail"]
    assert ok(client.get(f"/admin/grids/{world['gridA2']}", headers=admin))["id"] == world["gridA2"]


def test_delete_grid_with_residents_conflicts(client, world):
    body = problem(client.delete(f"/admin/grids/{world['gridA1']}", headers=world.auth("admin")), 409)
    assert "residents" in body["detail"]


def test_delete_grid_served_by_a_worker(client, world):
    admin = world.auth("admin")
    # gridA2 has no orders and no residents; workerA2 serves it.
    response = client.delete(f"/admin/grids/{world['gridA2']}", headers=admin)
    assert response.status_code == 204, response.text
    assert ok(client.get(f"/admin/staff/{world['workerA2']}", headers=admin))["grid_ids"] == []


def test_moving_a_grid_with_open_orders_moves_them_or_is_refused(client, world):
    admin = world.auth("admin")
    order = place(client, world)
    ok(client.post(f"/orders/{order['id']}/claim", headers=world.auth("workerA1")))
    response = client.patch(f"/admin/grids/{world['gridA1']}", json={"branch_id": world["branchB"]}, headers=admin)
    if response.status_code == 409:
        return  # refusing to move a grid with open orders is a fine answer too
    assert response.status_code == 200, response.text
    seen = ok(client.get(f"/orders/{order['id']}", headers=world.auth("secB")))
    assert seen["branch_id"] == world["branchB"]


# Staff


@pytest.mark.parametrize(("role", "label", "placement"), [
    ("grid_worker", "网格员", {"grid_ids": ["gridA2", "gridA1"]}),
    ("grid_worker", "网格员", {}),
    ("secretary", "支部书记", {"branch_id": "branchB"}),
    ("member", "党员", {"branch_id": "branchA"}),
    ("town_admin", "镇党委管理员", {}),
])
def test_create_staff_for_each_role(client, world, role, label, placement):
    admin = world.auth("admin")
    fields = {}
    if "grid_ids" in placement:
        fields["grid_ids"] = [world[g] for g in placement["grid_ids"]]
    if "branch_id" in placement:
        fields["branch_id"] = world[placement["branch_id"]]
    created = new_staff(client, world, role=role, name="张三", **fields)
    assert created["role"] == role and created["role_label"] == label
    assert created["name"] == "张三" and created["phone"] == "13811112222"
    assert created["active"] is True and created["is_local_worthy"] is False
    assert created["branch_id"] == fields.get("branch_id")
    assert created["grid_ids"] == sorted(fields.get("grid_ids", []))
    assert "password" not in created and "password_hash" not in created
    assert ok(client.get(f"/admin/staff/{created['id']}", headers=admin)) == created
    # The new account signs in with its password.
    token = ok(client.post("/auth/staff", json={"phone": "13811112222", "password": "a long password"}))
    assert token["role"] == role and token["user_id"] == created["id"]


def test_create_local_worthy_member(client, world):
    created = new_staff(client, world, role="member", branch_id=world["branchA"], is_local_worthy=True)
    assert created["is_local_worthy"] is True


@pytest.mark.parametrize("role", ["secretary", "member"])
def test_secretary_and_member_need_a_branch(client, world, role):
    admin = world.auth("admin")
    body = {"name": "无支部", "phone": "13811112222", "role": role, "password": "a long password"}
    problem(client.post("/admin/staff", json=body, headers=admin), 422)
    problem(client.post("/admin/staff", json={**body, "branch_id": world["branchC"]}, headers=admin), 422)
    existing = {"secretary": 2, "member": 3}[role]
    assert ok(client.get("/admin/staff", params={"role": role}, headers=admin))["total"] == existing


@pytest.mark.parametrize("role", ["secretary", "member", "town_admin"])
def test_only_grid_workers_serve_grids(client, world, role):
    admin = world.auth("admin")
    body = {"name": "某人", "phone": "13811112222", "role": role, "password": "a long password",
            "grid_ids": [world["gridA1"]]}
    if role != "town_admin":
        body["branch_id"] = world["branchA"]
    problem(client.post("/admin/staff", json=body, headers=admin), 422)
    problem(client.post("/auth/staff", json={"phone": "13811112222", "password": "a long password"}), 401)


def test_grid_worker_with_grid_of_another_town_is_refused(client, world):
    admin = world.auth("admin")
    body = {"name": "越界", "phone": "13811112222", "role": "grid_worker", "password": "a long password",
            "grid_ids": [world["gridA1"], world["gridC1"]]}
    problem(client.post("/admin/staff", json=body, headers=admin), 422)
    problem(client.post("/admin/staff", json={**body, "grid_ids": [999999]}, headers=admin), 422)
    # Nothing was kept of the refused account.
    assert ok(client.get("/admin/staff", params={"role": "grid_worker"}, headers=admin))["total"] == 3
    problem(client.post("/auth/staff", json={"phone": "13811112222", "password": "a long password"}), 401)


def test_staff_with_existing_phone_conflicts(client, world):
    admin = world.auth("admin")
    body = {"name": "重号", "phone": world.phones["workerA1"], "role": "grid_worker", "password": "a long password"}
    problem(client.post("/admin/staff", json=body, headers=admin), 409)
    # Phones are unique across towns too.
    body2 = {**body, "phone": world.phones["workerC1"]}
    problem(client.post("/admin/staff", json=body2, headers=admin), 409)
    assert ok(client.get("/admin/staff", params={"role": "grid_worker"}, headers=admin))["total"] == 3


def test_staff_list_with_filters(client, world):
    admin = world.auth("admin")
    everyone = ok(client.get("/admin/staff", params={"limit": 100}, headers=admin))
    names = {"admin", "workerA1", "workerA2", "workerB1", "secA", "secB", "memberA1", "memberA2", "memberB1"}
    assert everyone["total"] == len(names)
    assert {s["id"] for s in everyone["items"]} == {world[n] for n in names}
    ids = [s["id"] for s in everyone["items"]]
    assert ids == sorted(ids)
    members = ok(client.get("/admin/staff", params={"role": "member"}, headers=admin))
    assert [s["id"] for s in members["items"]] == [world["memberA1"], world["memberA2"], world["memberB1"]]
    assert {s["role_label"] for s in members["items"]} == {"党员"}
    branch_a = ok(client.get("/admin/staff", params={"branch_id": world["branchA"]}, headers=admin))
    assert {s["id"] for s in branch_a["items"]} == {world["secA"], world["memberA1"], world["memberA2"]}
    both = ok(client.get("/admin/staff", params={"branch_id": world["branchA"], "role": "member"}, headers=admin))
    assert [s["id"] for s in both["items"]] == [world["memberA1"], world["memberA2"]]
    workers = ok(client.get("/admin/staff", params={"role": "grid_worker"}, headers=admin))
    assert {s["id"]: s["grid_ids"] for s in workers["items"]} == {
        world["workerA1"]: [world["gridA1"]],
        world["workerA2"]: [world["gridA2"]],
        world["workerB1"]: [world["gridB1"]],
    }
    paged = ok(client.get("/admin/staff", params={"limit": 2, "offset": 2}, headers=admin))
    assert paged["total"] == len(names) and [s["id"] for s in paged["items"]] == ids[2:4]
    problem(client.get("/admin/staff", params={"role": "king"}, headers=admin), 422, validation=True)


def test_staff_of_another_town_is_not_found(client, world):
    admin = world.auth("admin")
    problem(client.get(f"/admin/staff/{world['workerC1']}", headers=admin), 404)
    problem(client.patch(f"/admin/staff/{world['workerC1']}", json={"active": False}, headers=admin), 404)
    # workerC1 is still able to work.
    assert client.get("/orders", headers=world.auth("workerC1")).status_code == 200


def test_patch_staff_replaces_grids(client, world):
    admin = world.auth("admin")
    worker = world["workerA1"]
    patched = ok(client.patch(f"/admin/staff/{worker}", json={"grid_ids": [world["gridB1"], world["gridA2"]]},
                              headers=admin))
    assert patched["grid_ids"] == sorted([world["gridA2"], world["gridB1"]])
    assert ok(client.get(f"/admin/staff/{worker}", headers=admin))["grid_ids"] == patched["grid_ids"]
    # The worker now serves the new grids and no longer gridA1.
    mine = place(client, world)  # res1 in gridA1
    problem(client.post(f"/orders/{mine['id']}/claim", headers=world.auth("workerA1")), 404)
    in_b1 = place(client, world, grid_id=world["gridB1"])
    assert ok(client.post(f"/orders/{in_b1['id']}/claim", headers=world.auth("workerA1")))["state"] == "claimed"
    # Leaving grid_ids out keeps them; an empty list removes them all.
    assert ok(client.patch(f"/admin/staff/{worker}", json={"name": "改名"}, headers=admin))["grid_ids"] == \
        patched["grid_ids"]
    assert ok(client.patch(f"/admin/staff/{worker}", json={"grid_ids": []}, headers=admin))["grid_ids"] == []


def test_patch_staff_refuses_bad_placement(client, world):
    admin = world.auth("admin")
    problem(client.patch(f"/admin/staff/{world['workerA1']}", json={"grid_ids": [world["gridC1"]]}, headers=admin), 422)
    problem(client.patch(f"/admin/staff/{world['secA']}", json={"grid_ids": [world["gridA1"]]}, headers=admin), 422)
    problem(client.patch(f"/admin/staff/{world['memberA1']}", json={"branch_id": world["branchC"]}, headers=admin), 422)
    problem(client.patch(f"/admin/staff/{world['memberA1']}", json={"branch_id": None}, headers=admin), 422)
    assert ok(client.get(f"/admin/staff/{world['workerA1']}", headers=admin))["grid_ids"] == [world["gridA1"]]
    assert ok(client.get(f"/admin/staff/{world['secA']}", headers=admin))["grid_ids"] == []
    assert ok(client.get(f"/admin/staff/{world['memberA1']}", headers=admin))["branch_id"] == world["branchA"]


def test_patch_staff_moves_member_to_another_branch(client, world):
    admin = world.auth("admin")
    patched = ok(client.patch(f"/admin/staff/{world['memberA2']}", json={"branch_id": world["branchB"],
                                                                          "is_local_worthy": True}, headers=admin))
    assert patched["branch_id"] == world["branchB"] and patched["is_local_worthy"] is True
    members_b = ok(client.get("/admin/staff", params={"branch_id": world["branchB"], "role": "member"}, headers=admin))
    assert {s["id"] for s in members_b["items"]} == {world["memberA2"], world["memberB1"]}


def test_patch_staff_password(client, world):
    admin = world.auth("admin")
    phone = world.phones["workerA1"]
    ok(client.post("/auth/staff", json={"phone": phone, "password": PASSWORD}))
    patched = ok(client.patch(f"/admin/staff/{world['workerA1']}", json={"password": "a brand new secret"},
                              headers=admin))
    assert "password" not in patched
    token = ok(client.post("/auth/staff", json={"phone": phone, "password": "a brand new secret"}))
    assert token["user_id"] == world["workerA1"] and token["role"] == "grid_worker"
    problem(client.post("/auth/staff", json={"phone": phone, "password": PASSWORD}), 401)
    problem(client.patch(f"/admin/staff/{world['workerA1']}", json={"password": "short"}, headers=admin),
            422, validation=True)


def test_token_from_staff_sign_in_works(client, world):
    token = ok(client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": PASSWORD}))
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/orders", headers=headers).status_code == 200
    problem(client.get("/admin/branches", headers=headers), 403)
    admin = ok(client.post("/auth/staff", json={"phone": world.phones["admin"], "password": PASSWORD}))
    assert ok(client.get("/admin/branches", headers={"Authorization": f"Bearer {admin['access_token']}"}))["total"] == 2


def test_patch_staff_inactive_disables_at_once(client, world):
    admin = world.auth("admin")
    assert client.get("/orders", headers=world.auth("memberA1")).status_code == 200
    patched = ok(client.patch(f"/admin/staff/{world['memberA1']}", json={"active": False}, headers=admin))
    assert patched["active"] is False
    # The existing token stops working, and signing in is refused.
    problem(client.get("/orders", headers=world.auth("memberA1")), 401)
    problem(client.post("/auth/staff", json={"phone": world.phones["memberA1"], "password": PASSWORD}), 401)
    # Re-enabled, the account signs in again; its tokens from before stay dead.
    assert ok(client.patch(f"/admin/staff/{world['memberA1']}", json={"active": True}, headers=admin))["active"] is True
    problem(client.get("/orders", headers=world.auth("memberA1")), 401)
    token = ok(client.post("/auth/staff", json={"phone": world.phones["memberA1"], "password": PASSWORD}))
    assert client.get("/orders", headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 200


def test_admin_may_not_disable_self(client, world):
    admin = world.auth("admin")
    problem(client.patch(f"/admin/staff/{world['admin']}", json={"active": False}, headers=admin), 422)
    assert ok(client.get("/admin/town", headers=admin))["id"] == world["town"]


# Categories


def test_categories_list(client, world):
    page = ok(client.get("/admin/categories", headers=world.auth("admin")))
    assert page["total"] == 2 and (page["limit"], page["offset"]) == (20, 0)
    assert [c["id"] for c in page["items"]] == [world["cat"], world["cat_urgent"]]
    assert [c["default_urgency"] for c in page["items"]] == ["normal", "urgent"]
    other = ok(client.get("/admin/categories", headers=world.auth("admin2")))
    assert [c["id"] for c in other["items"]] == [world["cat2"]]


def test_category_crud_with_time_limits(client, world):
    admin = world.auth("admin")
    created = ok(client.post("/admin/categories", json={
        "name": "独居老人关爱", "description": "看望与代办", "default_urgency": "urgent",
        "claim_minutes": 30, "dispatch_minutes": 60, "accept_minutes": 5, "complete_minutes": 600,
        "complete_urgent_minutes": 120, "rate_minutes": 1440,
    }, headers=admin), 201)
    assert created == {
        "id": created["id"], "town_id": world["town"], "name": "独居老人关爱", "description": "看望与代办",
        "default_urgency": "urgent", "claim_minutes": 30, "dispatch_minutes": 60, "accept_minutes": 5,
        "complete_minutes": 600, "complete_urgent_minutes": 120, "rate_minutes": 1440, "active": True,
        # No extra questions, no Open311 keywords or group, its orders not public: the defaults.
        "attributes": [], "keywords": "", "group_name": "", "public_requests": False,
    }
    category_id = created["id"]
    assert ok(client.get(f"/admin/categories/{category_id}", headers=admin)) == created
    patched = ok(client.patch(f"/admin/categories/{category_id}",
                              json={"claim_minutes": 45, "default_urgency": "normal"}, headers=admin))
    assert patched == {**created, "claim_minutes": 45, "default_urgency": "normal"}
    response = client.delete(f"/admin/categories/{category_id}", headers=admin)
    assert response.status_code == 204 and response.content == b""
    problem(client.get(f"/admin/categories/{category_id}", headers=admin), 404)


def test_category_defaults(client, world):
    created = ok(client.post("/admin/categories", json={"name": "其他"}, headers=world.auth("admin")), 201)
    limits = ("claim_minutes", "dispatch_minutes", "accept_minutes", "complete_minutes",
              "complete_urgent_minutes", "rate_minutes")
    assert {k: created[k] for k in limits} == dict(zip(limits, (120, 1440, 240, 4320, 1440, 10080), strict=True))
    assert created["default_urgency"] == "normal"
    assert created["description"] == "" and created["active"] is True


@pytest.mark.parametrize("body", [
    {"name": "太快", "claim_minutes": 4},
    {"name": "太快", "rate_minutes": 0},
    {"name": "负数", "complete_urgent_minutes": -1},
    {"name": "太长", "dispatch_minutes": 60 * 24 * 90 + 1},
    {"name": "未知", "default_urgency": "critical"},
    {"name": ""},
    {"name": "   "},
])
def test_category_bad_input(client, world, body):
    admin = world.auth("admin")
    problem(client.post("/admin/categories", json=body, headers=admin), 422, validation=True)
    patch = {k: v for k, v in body.items() if k != "name"} or {"name": body["name"]}
    problem(client.patch(f"/admin/categories/{world['cat']}", json=patch, headers=admin), 422, validation=True)
    assert ok(client.get("/admin/categories", headers=admin))["total"] == 2


def test_duplicate_category_name_conflicts(client, world):
    admin = world.auth("admin")
    problem(client.post("/admin/categories", json={"name": "基础设施维修"}, headers=admin), 409)
    ok(client.post("/admin/categories", json={"name": "基础设施维修"}, headers=world.auth("admin2")), 201)


def test_delete_category_used_by_an_order_conflicts(client, world):
    admin = world.auth("admin")
    place(client, world)
    body = problem(client.delete(f"/admin/categories/{world['cat']}", headers=admin), 409)
    assert body["type"] == "urn:wudan:problem:conflict" and "active" in body["detail"]
    assert ok(client.get(f"/admin/categories/{world['cat']}", headers=admin))["active"] is True


def test_retired_category_cannot_be_ordered(client, world):
    admin = world.auth("admin")
    order = place(client, world)
    retired = ok(client.patch(f"/admin/categories/{world['cat']}", json={"active": False}, headers=admin))
    assert retired["active"] is False
    problem(client.post("/orders", json={"category_id": world["cat"], "description": "x"}, headers=world.auth("res1")),
            422)
    # The order placed before stays as it was, and other categories still work.
    assert ok(client.get(f"/orders/{order['id']}", headers=world.auth("res1")))["category"]["id"] == world["cat"]
    place(client, world, category="cat_urgent")


def test_category_of_another_town_is_not_found(client, world):
    admin = world.auth("admin")
    problem(client.get(f"/admin/categories/{world['cat2']}", headers=admin), 404)
    problem(client.patch(f"/admin/categories/{world['cat2']}", json={"active": False}, headers=admin), 404)
    problem(client.delete(f"/admin/categories/{world['cat2']}", headers=admin), 404)
    assert ok(client.get(f"/admin/categories/{world['cat2']}", headers=world.auth("admin2")))["active"] is True


# Dashboard tokens


def test_dashboard_token(client, world):
    admin = world.auth("admin")
    place(client, world)
    count_moves(client)
    issued = ok(client.post("/admin/dashboard-tokens", headers=admin), 201)
    assert issued["kind"] == "dashboard" and issued["role"] == "dashboard" and issued["token_type"] == "bearer"
    assert issued["expires_in"] == 30 * 24 * 3600 and issued["id"] == issued["user_id"] and issued["label"] is None
    board = {"Authorization": f"Bearer {issued['access_token']}"}
    summary = ok(client.get("/stats/summary", headers=board))
    assert summary["town_id"] == world["town"]
    assert set(summary["by_state"]) == {s.value for s in OrderState}
    assert summary["by_state"]["submitted"] == 1 and summary["total"] == 1
    assert summary["labels"] == {s.value: s.label for s in OrderState}
    assert summary["labels"]["submitted"] == "待领单" and summary["labels"]["closed"] == "已办结"
    # Read-only: no admin writes, no admin reads, no orders.
    problem(client.post("/admin/branches", json={"name": "看板支部"}, headers=board), 403)
    problem(client.get("/admin/branches", headers=board), 403)
    problem(client.post("/admin/dashboard-tokens", headers=board), 403)
    problem(client.post("/orders", json={"category_id": world["cat"], "description": "x"}, headers=board), 403)
    assert ok(client.get("/admin/branches", headers=admin))["total"] == 2
    assert ok(client.get("/stats/summary", headers=admin))["total"] == 1


def test_dashboard_token_counts_only_its_town(client, world):
    place(client, world, who="res3", category="cat2")
    count_moves(client)
    issued = ok(client.post("/admin/dashboard-tokens", headers=world.auth("admin")), 201)
    summary = ok(client.get("/stats/summary", headers={"Authorization": f"Bearer {issued['access_token']}"}))
    assert summary["total"] == 0 and set(summary["by_state"].values()) == {0}
    assert ok(client.get("/stats/summary", headers=world.auth("admin2")))["total"] == 1


# Strict types


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("post", "/admin/branches", {"name": 123}, "name"),
    ("post", "/admin/branches", {"name": "甲", "colour": "red"}, "colour"),
    ("patch", "/admin/branches/{branchA}", {"name": ["甲"]}, "name"),
    ("patch", "/admin/town", {"timezone": 8}, "timezone"),
    ("patch", "/admin/town", {"mayor": "x"}, "mayor"),
    ("post", "/admin/grids", {"branch_id": "{branchA}", "name": "g"}, "branch_id"),
    ("post", "/admin/grids", {"branch_id": 1.5, "name": "g"}, "branch_id"),
    ("post", "/admin/grids", {"branch_id": 0, "name": "g"}, "branch_id"),
    ("patch", "/admin/grids/{gridA1}", {"households": "10"}, "households"),
    ("patch", "/admin/grids/{gridA1}", {"town_id": 1}, "town_id"),
    ("post", "/admin/staff", {"name": "n", "phone": "13811112222", "role": "member", "password": "a long password",
                              "branch_id": "{branchA}"}, "branch_id"),
    ("post", "/admin/staff", {"name": "n", "phone": 13811112222, "role": "grid_worker",
                              "password": "a long password"}, "phone"),
    ("post", "/admin/staff", {"name": "n", "phone": "13811112222", "role": "grid_worker",
                              "password": "a long password", "grid_ids": ["{gridA1}"]}, "grid_ids"),
    ("post", "/admin/staff", {"name": "n", "phone": "13811112222", "role": "king",
                              "password": "a long password"}, "role"),
    ("post", "/admin/staff", {"name": "n", "phone": "13811112222", "role": "grid_worker",
                              "password": "a long password", "town_id": 2}, "town_id"),
    ("patch", "/admin/staff/{workerA1}", {"active": 1}, "active"),
    ("patch", "/admin/staff/{workerA1}", {"active": "false"}, "active"),
    ("patch", "/admin/staff/{workerA1}", {"is_local_worthy": 0}, "is_local_worthy"),
    ("patch", "/admin/staff/{workerA1}", {"role": "town_admin"}, "role"),
    ("patch", "/admin/categories/{cat}", {"active": 0}, "active"),
    ("patch", "/admin/categories/{cat}", {"claim_minutes": "30"}, "claim_minutes"),
    ("post", "/admin/categories", {"name": "c", "claim_minutes": 30.0}, "claim_minutes"),
    ("post", "/admin/categories", {"name": "c", "unknown": True}, "unknown"),
])
def test_strict_types(client, world, method, path, body, field):
    def fill(value):
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            return str(world[value[1:-1]])
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    admin = world.auth("admin")
    url = path.format(**world.ids)
    before = ok(client.get(url, headers=admin)) if method == "patch" else None
    response = getattr(client, method)(url, json={k: fill(v) for k, v in body.items()}, headers=admin)
    errors = problem(response, 422, validation=True)["errors"]
    assert any(field in e["loc"] for e in errors), errors
    if before is not None:
        assert ok(client.get(url, headers=admin)) == before


def test_ids_in_paths_and_queries_are_validated(client, world):
    admin = world.auth("admin")
    problem(client.get("/admin/branches/abc", headers=admin), 422, validation=True)
    problem(client.get("/admin/grids", params={"branch_id": "abc"}, headers=admin), 422, validation=True)
    problem(client.get("/admin/grids", params={"branch_id": 0}, headers=admin), 422, validation=True)
    problem(client.get("/admin/branches/999999", headers=admin), 404)


def test_body_that_is_not_json(client, world):
    response = client.post("/admin/branches", content=b"name=x",
                           headers={**world.auth("admin"), "Content-Type": "application/x-www-form-urlencoded"})
    assert problem(response, 415)["accepted"] == ["application/json"]


@pytest.mark.parametrize(("path", "body"), [
    ("/admin/branches/{branchA}", {"name": None}),
    ("/admin/town", {"timezone": None}),
    ("/admin/categories/{cat}", {"description": None}),
    ("/admin/staff/{workerA1}", {"active": None}),
])
def test_null_for_required_field_is_a_validation_error(client, world, path, body):
    problem(client.patch(path.format(**world.ids), json=body, headers=world.auth("admin")), 422)


# Who may use the admin API


@pytest.mark.parametrize("who", ["secA", "workerA1", "memberA1", "res1", "dashboard"])
def test_non_admins_are_refused(client, world, who):
    headers = world.auth(who)
    body = problem(client.get("/admin/branches", headers=headers), 403)
    assert body["type"] == "urn:wudan:problem:not-permitted"
    problem(client.post("/admin/branches", json={"name": "偷建"}, headers=headers), 403)
    problem(client.get("/admin/town", headers=headers), 403)
    problem(client.patch(f"/admin/staff/{world['workerA1']}", json={"active": False}, headers=headers), 403)
    assert ok(client.get("/admin/branches", headers=world.auth("admin")))["total"] == 2
    assert ok(client.get(f"/admin/staff/{world['workerA1']}", headers=world.auth("admin")))["active"] is True


def test_admin_api_needs_a_token(client, world):
    problem(client.get("/admin/branches"), 401)
    problem(client.get("/admin/branches", headers={"Authorization": "Bearer not-a-token"}), 401)


def test_wecom_robot_keys_of_grids_and_branches(client, world):
    admin = world.auth("admin")
    grid = ok(client.patch(f"/admin/grids/{world['gridA1']}", json={"wecom_webhook_key": "abc-123_X"}, headers=admin))
    assert grid["wecom_webhook_key"] == "abc-123_X"
    branch = ok(client.patch(f"/admin/branches/{world['branchA']}", json={"wecom_webhook_key": "k2"}, headers=admin))
    assert branch["wecom_webhook_key"] == "k2"
    cleared = ok(client.patch(f"/admin/grids/{world['gridA1']}", json={"wecom_webhook_key": None}, headers=admin))
    assert cleared["wecom_webhook_key"] is None
    problem(client.patch(f"/admin/grids/{world['gridA1']}", json={"wecom_webhook_key": "has space"}, headers=admin),
            422, validation=True)


def test_audit_log_of_staff_changes(client, world):
    admin = world.auth("admin")
    branch = ok(client.post("/admin/branches", json={"name": "丙村党支部"}, headers=admin), 201)
    ok(client.patch(f"/admin/staff/{world['workerA1']}", json={"password": "another-secret-1", "name": "新名字"},
                    headers=admin))
    ok(client.delete(f"/admin/branches/{branch['id']}", headers=admin), 204)
    problem(client.delete(f"/admin/branches/{world['branchA']}", headers=admin), 409)  # refused: not logged
    board = ok(client.post("/admin/dashboard-tokens", headers=admin), 201)
    log = ok(client.get("/admin/audit", headers=admin))["items"]
    assert [(e["action"], e["entity"], e["entity_id"]) for e in log] == [
        ("create", "dashboard_token", board["id"]),
        ("delete", "branch", branch["id"]),
        ("update", "staff", world["workerA1"]),
        ("create", "branch", branch["id"]),
    ]
    assert log[2]["changes"] == {"password": "***", "name": "新名字"}
    assert log[2]["actor_id"] == world["admin"] and log[2]["actor_role"] == "town_admin"
    only_staff = ok(client.get("/admin/audit", params={"entity": "staff"}, headers=admin))["items"]
    assert [e["entity"] for e in only_staff] == ["staff"]
    assert ok(client.get("/admin/audit", headers=world.auth("admin2")))["items"] == []
    problem(client.get("/admin/audit", headers=world.auth("secA")), 403)

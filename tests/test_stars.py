"""Star grades: members' 先锋指数 and stars, branches' scores and stars, from the passbook and the rates."""

from __future__ import annotations

import pytest

from domain.stars import BranchIndicators, BranchStarRules, MemberIndicators, MemberStarRules, branch_grade, member_grade
from tests.helpers import act, count_moves, place, to_state, upload
from tests.test_admin import ok, problem


def test_a_members_index_weighs_the_parts_it_can_measure():
    rules = MemberStarRules()
    full = member_grade(MemberIndicators(points=30, judged=2, satisfied=2, late=0, activities=1), rules, days=30)
    assert full.parts == {"points": 1.0, "satisfaction": 1.0, "on_time": 1.0, "participation": 0.5}
    assert (full.index, full.stars) == (95.0, 5)
    # Nothing judged: satisfaction and on-time are left out, the other weights count.
    idle = member_grade(MemberIndicators(points=15, judged=0, satisfied=0, late=0, activities=0), rules, days=30)
    assert idle.parts["satisfaction"] is None and idle.index == round(100 * 0.4 * 0.5 / 0.5, 1) == 40.0
    assert idle.stars == 3
    # Targets are monthly: a 60-day period asks twice as much.
    assert member_grade(MemberIndicators(30, 0, 0, 0, 0), rules, days=60).parts["points"] == 0.5
    assert member_grade(MemberIndicators(0, 0, 0, 0, 0), MemberStarRules(weights={"points": 0}), 30).index is None


def test_a_branchs_score():
    b = BranchIndicators(response=1.0, resolution=0.5, satisfaction=None, members=4, members_taking_part=1, late=10)
    g = branch_grade(b, BranchStarRules(), days=30)
    assert g.parts == {"response": 1.0, "resolution": 0.5, "satisfaction": None, "participation": 0.25, "overdue": 0.0}
    assert g.index == round(100 * (0.2 * 1 + 0.3 * 0.5 + 0.1 * 0.25) / 0.7, 1) and g.stars == 1


@pytest.fixture
def month(client, world, clock):
    """memberA1: a 5-star and a 4-star close and a 主题党日; memberA2: a 2-star attempt, then a late 3-star close."""
    for stars in (5, 4):
        order = place(client, world)["id"]
        to_state(client, world, order, "completed")
        act(client, world, "res1", order, "rate", {"stars": stars})
    ok(client.post("/points/entries", json={"member_id": world["memberA1"], "points": 5, "activity": "theme_day",
                                            "reason": "主题党日"}, headers=world.auth("secA")), 201)
    order = place(client, world)["id"]
    to_state(client, world, order, "completed", member="memberA2")
    act(client, world, "res1", order, "rate", {"stars": 2})
    to_state(client, world, order, "in_progress", member="memberA2")
    clock.advance(days=4)
    act(client, world, "memberA2", order, "complete", {"note": "好了", "photo_ids": [upload(client, world, "memberA2")]})
    act(client, world, "res1", order, "rate", {"stars": 3})
    count_moves(client)


def test_members_and_branches_graded_for_the_period(client, world, month):
    grades = ok(client.get("/stats/stars", headers=world.auth("dashboard")))
    members = {m["member"]["name"]: m for m in grades["members"]}
    a1, a2 = members["memberA1"], members["memberA2"]
    assert (a1["points"], a1["judged"], a1["satisfied"], a1["late"], a1["activities"]) == (30, 2, 2, 0, 1)
    assert (a1["grade"]["index"], a1["grade"]["stars"], a1["grade"]["stars_label"]) == (95.0, 5, "五星")
    assert (a2["points"], a2["judged"], a2["satisfied"], a2["late"], a2["activities"]) == (2, 2, 1, 1, 0)
    assert a2["grade"]["parts"] == {"points": 0.0667, "satisfaction": 0.5, "on_time": 0.5, "participation": 0.0}
    assert (a2["grade"]["index"], a2["grade"]["stars"]) == (27.7, 2)
    assert [m["member"]["name"] for m in grades["members"]][:2] == ["memberA1", "memberA2"]
    assert members["memberB1"]["grade"]["index"] == 0.0  # a member with nothing: points and participation 0
    # Branch A's rates are the overview's; half its members took part; one late completion of 5 tolerated.
    rates = ok(client.get(f"/stats/overview?branch_id={world['branchA']}", headers=world.auth("dashboard")))["rates"]
    a = next(b for b in grades["branches"] if b["branch"]["id"] == world["branchA"])
    assert (a["response"], a["resolution"], a["satisfaction"]) == (rates["response"], rates["resolution"],
                                                                   rates["satisfaction"])
    assert (a["members"], a["members_taking_part"], a["late"]) == (2, 1, 1)
    parts = {"response": rates["response"], "resolution": rates["resolution"], "satisfaction": rates["satisfaction"],
             "participation": 0.5, "overdue": 0.8}
    weights = BranchStarRules().weights
    assert a["grade"]["index"] == round(100 * sum(weights[k] * round(v, 4) for k, v in parts.items()), 1)
    # A secretary reads their branch; members and others do not read grades.
    mine = ok(client.get("/stats/stars", headers=world.auth("secB")))
    assert [m["member"]["name"] for m in mine["members"]] == ["memberB1"]
    assert [b["branch"]["id"] for b in mine["branches"]] == [world["branchB"]]
    for who in ("memberA1", "workerA1", "res1"):
        problem(client.get("/stats/stars", headers=world.auth(who)), 403)


def test_the_town_sets_its_star_rules(client, world, month):
    admin = world.auth("admin")
    rules = ok(client.get("/admin/star-rules", headers=admin))
    assert rules["member"]["thresholds"] == [20, 40, 60, 80] and rules["branch"]["overdue_per_month"] == 5
    rules["member"]["thresholds"] = [10, 20, 25, 30]
    rules["member"]["weights"] = {"points": 1, "satisfaction": 1}
    assert ok(client.put("/admin/star-rules", json=rules, headers=admin))["member"]["weights"] == {
        "points": 1.0, "satisfaction": 1.0, "on_time": 0.0, "participation": 0.0}
    a2 = next(m for m in ok(client.get("/stats/stars", headers=world.auth("dashboard")))["members"]
              if m["member"]["name"] == "memberA2")
    assert (a2["grade"]["index"], a2["grade"]["stars"]) == (round(100 * (0.0667 + 0.5) / 2, 1), 4)  # 28.3 ≥ 25
    for bad in ({**rules, "member": {**rules["member"], "weights": {"luck": 1}}},
                {**rules, "member": {**rules["member"], "thresholds": [50, 40, 60, 80]}},
                {**rules, "member": {**rules["member"], "weights": {"points": 0}}}):
        problem(client.put("/admin/star-rules", json=bad, headers=admin), 422)
    problem(client.put("/admin/star-rules", json=rules, headers=world.auth("secA")), 403)
    assert ok(client.get("/admin/star-rules", headers=world.auth("admin2")))["member"]["thresholds"] == [20, 40, 60, 80]


def test_the_public_points_board_is_the_towns_choice(client, world, month, clock):
    path = f"/public/towns/{world['town']}/points-board"
    problem(client.get(path), 404)  # off until the town turns it on
    ok(client.patch("/admin/town", json={"public_points_board_enabled": True}, headers=world.auth("admin")))
    board = ok(client.get(path))
    assert board["town"]["name"] == "测试镇" and board["month"] == clock().strftime("%Y-%m")
    assert [(m["member"]["name"], m["points"], m["stars"]) for m in board["members"]][:2] == [
        ("memberA1", 30, 5), ("memberA2", 2, 2)]
    assert set(board["members"][0]) == {"member", "branch", "points", "stars", "stars_label"}  # no detail
    assert {b["branch"]["name"] for b in board["branches"]} == {"甲村党支部", "乙村党支部"}
    assert ok(client.get(path, params={"month": "2020-01"}))["members"][0]["points"] == 0
    problem(client.get(path, params={"month": "2026-13"}), 422)
    problem(client.get(path, params={"month": "26-1"}), 422)
    problem(client.get(f"/public/towns/{world['town2']}/points-board"), 404)

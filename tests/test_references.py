"""One shape per concept: every answer that names a town, branch, grid, category or member gives `{id, name}`."""

from __future__ import annotations

from tests.helpers import act, count_moves, place, to_state, upload

# Where a reference may appear in a read answer, and what is named there.
REFERENCES = {"town", "branch", "grid", "category", "assignee", "member"}
# Bare ids that are not references to a named thing: orders and visits are known by number.
BARE_IDS = {"id", "order_id", "visit_id", "duplicate_of_id"}  # orders (and visits) are known by their numbers
# Names that are not references: the actor as named when the event happened, the resident's contact.
NAMES = {"actor_name", "contact_name"}


def shape_problems(value, where: str = "") -> list[str]:
    """Every place in an answer where a reference is not `{id, name}`, or an id or a name stands alone."""
    problems = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            problems += shape_problems(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            at = f"{where}.{key}"
            if key == "data":  # an event's own record of what it did (its photo_ids), not a reference
                continue
            if key in REFERENCES:
                if item is not None and not (isinstance(item, dict) and set(item) == {"id", "name"}
                                             and type(item["id"]) is int and isinstance(item["name"], str)):
                    problems.append(f"{at} is {item!r}")
            elif key in {"grids"}:
                problems += [f"{at}[{i}] is {g!r}" for i, g in enumerate(item) if set(g) != {"id", "name"}]
            elif (key.endswith("_id") or key.endswith("_ids")) and key not in BARE_IDS:
                problems.append(f"{at} is a bare id")
            elif key.endswith("_name") and key not in NAMES:
                problems.append(f"{at} is a bare name")
            else:
                problems += shape_problems(item, at)
    return problems


def read(client, path: str, headers: dict | None = None, **params) -> dict:
    r = client.get(path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_order_answers_name_every_reference(client, world):
    order = place(client, world, photo_ids=[upload(client, world, "res1")])
    done = to_state(client, world, order["id"], "completed")
    assert done["branch"] == {"id": world["branchA"], "name": "甲村党支部"}
    assert done["grid"] == {"id": world["gridA1"], "name": "gridA1"}
    assert done["category"] == {"id": world["cat"], "name": "基础设施维修"}
    assert done["assignee"] == {"id": world["memberA1"], "name": "memberA1"}
    assert "branch_id" not in done
    answers = {
        "placed": order, "moved": done,
        "detail": read(client, f"/orders/{order['id']}", world.auth("res1")),
        "list": read(client, "/orders", world.auth("secA")),
        "todo": read(client, "/orders/todo", world.auth("res1")),
    }
    for name, answer in answers.items():
        assert shape_problems(answer) == [], name
    assert answers["list"]["items"][0]["branch"] == done["branch"]


def test_the_board_and_the_public_choices_name_every_reference(client, world):
    client.patch("/admin/town", json={"public_board_enabled": True}, headers=world.auth("admin"))
    order = place(client, world)
    to_state(client, world, order["id"], "completed")
    act(client, world, "res1", order["id"], "rate", {"stars": 5})
    board = read(client, f"/public/towns/{world['town']}/board")
    item = board["items"][0]
    assert (item["category"], item["branch"], item["member"]) == (
        {"id": world["cat"], "name": "基础设施维修"}, {"id": world["branchA"], "name": "甲村党支部"},
        {"id": world["memberA1"], "name": "memberA1"})
    grids = read(client, f"/towns/{world['town']}/grids")
    assert grids["items"][0]["branch"] == {"id": world["branchA"], "name": "甲村党支部"}
    for answer in (board, grids, read(client, f"/towns/{world['town']}/categories"), read(client, "/towns")):
        assert shape_problems(answer) == []


def test_the_numbers_name_every_reference(client, world, clock):
    order = place(client, world)
    to_state(client, world, order["id"], "completed")
    act(client, world, "res1", order["id"], "rate", {"stars": 5})
    place(client, world, grid_id=world["gridA2"])
    clock.advance(hours=5)
    count_moves(client)
    dashboard = world.auth("dashboard")
    leaders = read(client, "/stats/leaderboard", dashboard)["items"]
    assert (leaders[0]["member"], leaders[0]["branch"]) == (
        {"id": world["memberA1"], "name": "memberA1"}, {"id": world["branchA"], "name": "甲村党支部"})
    overdue = read(client, "/stats/overdue", dashboard)["items"]
    assert (overdue[0]["grid"], overdue[0]["category"]) == (
        {"id": world["gridA2"], "name": "gridA2"}, {"id": world["cat"], "name": "基础设施维修"})
    for path in ("/stats/grids", "/stats/leaderboard", "/stats/overdue"):
        assert shape_problems(read(client, path, dashboard)) == [], path


def test_me_names_the_town_branch_and_grids(client, world):
    resident = read(client, "/me", world.auth("res1"))
    assert (resident["town"], resident["grid"], resident["branch"], resident["grids"]) == (
        {"id": world["town"], "name": "测试镇"}, {"id": world["gridA1"], "name": "gridA1"}, None, [])
    worker = read(client, "/me", world.auth("workerA1"))
    assert worker["grids"] == [{"id": world["gridA1"], "name": "gridA1"}] and worker["grid"] is None
    secretary = read(client, "/me", world.auth("secA"))
    assert secretary["branch"] == {"id": world["branchA"], "name": "甲村党支部"}
    for who in ("res1", "workerA1", "secA", "memberA1", "admin", "dashboard"):
        assert shape_problems(read(client, "/me", world.auth(who))) == [], who
    r = client.put("/me/profile", json={"grid_id": world["gridA2"]}, headers=world.auth("res1"))
    assert r.status_code == 200 and r.json()["grid"] == {"id": world["gridA2"], "name": "gridA2"}


def test_the_shape_check_sees_a_bare_id_and_a_bare_name():
    """The checker above finds what it is there to find."""
    assert shape_problems({"branch_id": 3, "grid_name": "x", "grid": {"id": 1}, "items": [{"member": "m"}]}) == [
        ".branch_id is a bare id", ".grid_name is a bare name", ".grid is {'id': 1}", ".items[0].member is 'm'"]
    assert shape_problems({"grid": {"id": 1, "name": "g"}, "order_id": 5, "data": {"photo_ids": ["p"]}}) == []

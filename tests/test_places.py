"""Places: grid outlines, routing an order by its location, nearby orders, "me too", duplicates, hot spots.

Every test runs on both stores (the `client` fixture's database).
"""

from __future__ import annotations

import pytest

from domain.places import around, distance_m, parse_boundary, route, GridOutline, RoutedBy, BoundaryInvalid
from notifications.dispatcher import Dispatcher, RetryPolicy
from notifications.inapp import InAppChannel
from tests.helpers import act, count_moves, get, place
from tests.test_admin import ok, problem

# Two squares side by side, about 960 m × 1,100 m each, near 30.6° N: gridA1 west, gridA2 east.
WEST = [[114.300, 30.590], [114.310, 30.590], [114.310, 30.600], [114.300, 30.600], [114.300, 30.590]]
EAST = [[114.310, 30.590], [114.320, 30.590], [114.320, 30.600], [114.310, 30.600], [114.310, 30.590]]
IN_EAST = {"longitude": 114.315, "latitude": 30.595}


def polygon(ring) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def outline(client, world, grid: str, ring, who: str = "admin"):
    return client.put(f"/admin/grids/{world[grid]}/boundary", json=polygon(ring), headers=world.auth(who))


@pytest.fixture
def outlined(client, world):
    ok(outline(client, world, "gridA1", WEST))
    ok(outline(client, world, "gridA2", EAST))
    # Street lights are public works: their orders may be found nearby and followed.
    ok(client.patch(f"/admin/categories/{world['cat']}", json={"public_requests": True}, headers=world.auth("admin")))


def newcomer(client, world, grid: str) -> dict:
    """A resident signed in for the first time, living in `grid`: their headers."""
    signed = ok(client.post("/auth/dev/resident", json={"openid": f"newcomer-{grid}"}))
    headers = {"Authorization": f"Bearer {signed['access_token']}"}
    ok(client.put("/me/profile", json={"name": "新住户", "grid_id": world[grid]}, headers=headers))
    return headers


def timeline_routing(client, world, order_id) -> dict:
    detail = get(client, world, "admin", order_id)
    return detail["timeline"][0]["data"].get("routed")


# The geometry alone.

def test_parse_boundary_refuses_what_cannot_be_a_grid():
    bowtie = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    with pytest.raises(BoundaryInvalid) as refused:
        parse_boundary(polygon(bowtie))
    assert "Self-intersection" in refused.value.detail
    huge = 10 ** 400  # a JSON integer no float holds
    for bad in ({"type": "Point", "coordinates": [1, 2]}, {"type": "Polygon", "coordinates": "x"},
                polygon([[huge, 0], [1, 0], [1, 1], [huge, 0]]),
                polygon([[200, 0], [201, 0], [201, 1], [200, 0]]), {"type": "Polygon", "coordinates": []}):
        with pytest.raises(BoundaryInvalid):
            parse_boundary(bad)
    found = parse_boundary({"type": "Feature", "properties": {}, "geometry": polygon(WEST)})
    assert (found.bounds.min_lng, found.bounds.max_lat) == (114.300, 30.600)


def test_route_prefers_inside_then_nearest_within_the_distance():
    west, east = (GridOutline(1, parse_boundary(polygon(WEST)).geojson),
                  GridOutline(2, parse_boundary(polygon(EAST)).geojson))
    assert route(114.305, 30.595, [east, west], 200) == route(114.305, 30.595, [west], 200)
    assert route(114.305, 30.595, [east, west], 200).by == RoutedBy.CONTAINS
    # 0.001° of longitude north of the squares' top edge is about 111 m of latitude away.
    near = route(114.315, 30.601, [west, east], 200)
    assert (near.grid_id, near.by) == (2, RoutedBy.NEAREST) and 105 < near.distance_m < 116
    assert route(114.315, 30.601, [west, east], 50).by == RoutedBy.INTAKE
    box = around(114.3, 30.6, 100)
    assert distance_m(114.3, 30.6, box.max_lng, 30.6) == pytest.approx(100, rel=1e-6)


# Outlines in the admin API.

def test_admin_sets_reads_and_clears_a_grid_outline(client, world):
    feature = ok(outline(client, world, "gridA1", WEST))
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["name"] == "gridA1"
    town = ok(client.get("/admin/boundaries", headers=world.auth("admin")))
    shapes = {f["properties"]["name"]: f["geometry"] for f in town["features"]}
    assert shapes["gridA1"]["type"] == "Polygon" and shapes["gridA2"] is None and "gridC1" not in shapes
    assert client.delete(f"/admin/grids/{world['gridA1']}/boundary", headers=world.auth("admin")).status_code == 204
    assert ok(client.get(f"/admin/grids/{world['gridA1']}/boundary", headers=world.auth("admin")))["geometry"] is None


def test_a_bad_outline_is_a_problem_and_changes_nothing(client, world):
    ok(outline(client, world, "gridA1", WEST))
    body = problem(outline(client, world, "gridA1", [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]), 422)
    assert "Self-intersection" in body["detail"]
    assert ok(client.get(f"/admin/grids/{world['gridA1']}/boundary", headers=world.auth("admin")))["geometry"]
    problem(client.put(f"/admin/grids/{world['gridA1']}/boundary", json={"type": "Point", "coordinates": [1, 2]},
                       headers=world.auth("admin")), 422)
    # Another town's grid is not found; staff other than the admin may not set outlines.
    problem(outline(client, world, "gridC1", WEST), 404)
    problem(outline(client, world, "gridA1", WEST, who="workerA1"), 403)


def test_import_sets_every_outline_or_none(client, world):
    good = {"type": "Feature", "properties": {"grid": "gridA1", "branch": "甲村党支部"}, "geometry": polygon(WEST)}
    by_id = {"type": "Feature", "properties": {"grid_id": world["gridA2"]}, "geometry": polygon(EAST)}
    unknown = {"type": "Feature", "properties": {"grid": "没有的网格"}, "geometry": polygon(EAST)}
    answer = ok(client.post("/admin/boundaries", json={"type": "FeatureCollection", "features": [good, by_id, unknown]},
                            headers=world.auth("admin")))
    assert answer["grids"] == 0 and [p["feature"] for p in answer["problems"]] == [2]
    assert ok(client.get(f"/admin/grids/{world['gridA1']}/boundary", headers=world.auth("admin")))["geometry"] is None
    collection = {"type": "FeatureCollection", "features": [good, by_id]}
    dry = ok(client.post("/admin/boundaries", params={"dry_run": "true"}, json=collection, headers=world.auth("admin")))
    assert (dry["dry_run"], dry["grids"], dry["problems"]) == (True, 2, [])
    assert ok(client.get(f"/admin/grids/{world['gridA1']}/boundary", headers=world.auth("admin")))["geometry"] is None
    assert ok(client.post("/admin/boundaries", json=collection, headers=world.auth("admin")))["grids"] == 2
    assert ok(client.get(f"/admin/grids/{world['gridA2']}/boundary", headers=world.auth("admin")))["geometry"]
    problem(client.post("/admin/boundaries", json={"type": "Feature"}, headers=world.auth("admin")), 422)


# Routing.

def test_an_order_goes_to_the_grid_its_location_is_in(client, world, outlined):
    # res1 lives in gridA1; the street light is in gridA2.
    order = place(client, world, **IN_EAST)
    assert order["grid"]["id"] == world["gridA2"]
    routed = timeline_routing(client, world, order["id"])
    assert (routed["by"], routed["grid_id"], routed["label"]) == ("contains", world["gridA2"], "位置所在网格")
    # A grid named wins over the location.
    assert place(client, world, grid_id=world["gridA1"], **IN_EAST)["grid"]["id"] == world["gridA1"]
    # Without a location, the resident's own grid, as before.
    plain = place(client, world)
    assert plain["grid"]["id"] == world["gridA1"] and timeline_routing(client, world, plain["id"]) is None


def test_near_a_grid_the_nearest_then_the_intake_grid(client, world, outlined):
    just_north = place(client, world, longitude=114.315, latitude=30.601)
    routed = timeline_routing(client, world, just_north["id"])
    assert just_north["grid"]["id"] == world["gridA2"] and routed["by"] == "nearest"
    assert 100 < routed["distance_m"] < 120
    far = {"longitude": 114.40, "latitude": 30.70}
    # No intake grid: a resident's order falls back to their own grid, one on their behalf is refused.
    assert place(client, world, **far)["grid"]["id"] == world["gridA1"]
    body = {"category_id": world["cat"], "description": "路灯", "contact_name": "王", "contact_phone": "13900009999",
            "channel": "phone", **far}
    refused = problem(client.post("/orders", json=body, headers=world.auth("workerA1")), 422)
    assert "intake grid" in refused["detail"]
    ok(client.patch("/admin/town", json={"intake_grid_id": world["gridB1"]}, headers=world.auth("admin")))
    taken = place(client, world, **far)
    assert taken["grid"]["id"] == world["gridB1"]
    assert timeline_routing(client, world, taken["id"])["by"] == "intake"
    # Its grid worker passes it on to the right grid, as any transfer.
    moved = act(client, world, "workerB1", taken["id"], "transfer", {"grid_id": world["gridA2"], "reason": "东边的"})
    assert moved["grid"]["id"] == world["gridA2"]
    # The town's distance is the town's: at 50 m, just north is too far and goes to intake.
    ok(client.patch("/admin/town", json={"route_distance_m": 50}, headers=world.auth("admin")))
    assert place(client, world, longitude=114.315, latitude=30.601)["grid"]["id"] == world["gridB1"]


def test_the_intake_grid_is_one_of_the_towns(client, world):
    problem(client.patch("/admin/town", json={"intake_grid_id": world["gridC1"]}, headers=world.auth("admin")), 422)
    town = ok(client.patch("/admin/town", json={"intake_grid_id": world["gridB1"]}, headers=world.auth("admin")))
    assert town["intake_grid_id"] == world["gridB1"]
    assert ok(client.patch("/admin/town", json={"intake_grid_id": None}, headers=world.auth("admin")))[
        "intake_grid_id"] is None


# Nearby orders and "me too".

def test_a_resident_finds_the_same_problem_nearby_and_follows_it(client, world, database, clock, outlined):
    first = place(client, world, description="路灯不亮，东头第三根", address="东湖路 3 号", **IN_EAST)
    here = {"category_id": world["cat"], "longitude": 114.3151, "latitude": 30.5951}  # about 14 m away
    found = ok(client.get("/orders/nearby", params=here, headers=world.auth("res2")))
    assert (found["radius_m"], found["days"]) == (50, 14)
    [item] = found["items"]
    assert (item["id"], item["mine"], item["following"]) == (first["id"], False, False)
    assert 10 < item["distance_m"] < 20 and item["summary"].startswith("路灯不亮")
    assert "contact_phone" not in item and "address" not in item
    # Farther than the radius finds nothing; a category kept private (a household's matter)
    # and another town's category are not to be searched at all.
    assert ok(client.get("/orders/nearby", params={**here, "latitude": 30.5960},
                         headers=world.auth("res2")))["items"] == []
    place(client, world, "res1", category_id=world["cat_urgent"], description="老人家屋顶漏雨", **IN_EAST)
    assert "not one of your town's public" in problem(client.get(
        "/orders/nearby", params={**here, "category_id": world["cat_urgent"]}, headers=world.auth("res1")), 422)["detail"]
    problem(client.get("/orders/nearby", params=here, headers=world.auth("res3")), 422)

    followed = act(client, world, "res2", first["id"], "follow", {"longitude": 114.3151, "latitude": 30.5951})
    assert (followed["following"], followed["follower_count"]) == (True, 1)
    assert (followed["contact_name"], followed["contact_phone"], followed["address"]) == (None, None, None)
    assert followed["allowed_actions"] == [] and followed["timeline"][0]["actor_name"] is None
    # Twice is once.
    assert act(client, world, "res2", first["id"], "follow",
               {"longitude": 114.3151, "latitude": 30.5951})["follower_count"] == 1
    mine = ok(client.get("/orders", headers=world.auth("res2")))
    assert [o["id"] for o in mine["items"]] == [first["id"]] and mine["items"][0]["following"] is True
    assert ok(client.get("/orders/todo", headers=world.auth("res2")))["items"] == []
    # The follower reads it but cannot move it.
    act(client, world, "res2", first["id"], "cancel", expect=403)
    # Nobody's words on the timeline for a follower: the grid worker's note neither.
    act(client, world, "workerA2", first["id"], "transfer", {"grid_id": world["gridA1"], "reason": "王五家门口,归一网格"})
    moved = get(client, world, "res2", first["id"])
    assert [(e["action"], e["note"], e["data"]) for e in moved["timeline"]] == [("submit", None, {}), ("transfer", None, {})]
    assert get(client, world, "res1", first["id"])["timeline"][1]["note"] == "王五家门口,归一网格"
    act(client, world, "workerA1", first["id"], "transfer", {"grid_id": world["gridA2"], "reason": "回东边"})
    # What the resident hears of its moves, the follower hears too.
    act(client, world, "workerA2", first["id"], "claim")
    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    titles = [i["title"] for i in ok(client.get("/me/inbox", headers=world.auth("res2")))["items"]]
    assert "您关注的诉求已被网格领单" in titles
    assert "您的诉求已被网格领单" in [i["title"] for i in ok(client.get("/me/inbox", headers=world.auth("res1")))["items"]]
    # Unfollowed, it is gone from the list.
    assert client.delete(f"/orders/{first['id']}/follow", headers=world.auth("res2")).status_code == 204
    assert ok(client.get("/orders", headers=world.auth("res2")))["items"] == []
    assert get(client, world, "res1", first["id"])["follower_count"] == 0


def test_following_is_for_residents_near_an_open_order_not_their_own(client, world, outlined):
    first = place(client, world, **IN_EAST)
    near = {"longitude": 114.3151, "latitude": 30.5951}
    problem(client.post(f"/orders/{first['id']}/follow", json={"longitude": 114.40, "latitude": 30.70},
                        headers=world.auth("res2")), 422)
    problem(client.post(f"/orders/{first['id']}/follow", json=near, headers=world.auth("res1")), 422)
    problem(client.post(f"/orders/{first['id']}/follow", json=near, headers=world.auth("workerA2")), 403)
    problem(client.post("/orders/999999/follow", json=near, headers=world.auth("res2")), 422)
    problem(client.post(f"/orders/{first['id']}/follow", json=near, headers=world.auth("res3")), 422)  # another town's
    act(client, world, "res1", first["id"], "cancel")
    problem(client.post(f"/orders/{first['id']}/follow", json=near, headers=world.auth("res2")), 422)


# Duplicates.

def test_a_duplicate_is_rejected_with_its_original_and_counted_once(client, world, outlined):
    first = place(client, world, **IN_EAST)
    again = place(client, world, "res2", **IN_EAST)
    rejected = act(client, world, "workerA2", again["id"], "reject",
                   {"reason": "已有人反映，合并办理", "duplicate_of_id": first["id"]})
    assert (rejected["state"], rejected["duplicate_of_id"]) == ("rejected", first["id"])
    assert rejected["timeline"][-1]["data"] == {"duplicate_of_id": first["id"]}
    # Its placer now follows the original.
    original = get(client, world, "res2", first["id"])
    assert original["following"] is True and original["follower_count"] == 1
    # And so does whoever followed the duplicate: it will hear of nothing more.
    neighbour = newcomer(client, world, "gridA2")
    fourth = place(client, world, "res2", **IN_EAST)
    near = {"longitude": 114.315, "latitude": 30.595}
    assert ok(client.post(f"/orders/{fourth['id']}/follow", json=near, headers=neighbour))["follower_count"] == 1
    act(client, world, "workerA2", fourth["id"], "reject", {"reason": "重复", "duplicate_of_id": first["id"]})
    followed = ok(client.get(f"/orders/{first['id']}", headers=neighbour))
    assert (followed["following"], followed["follower_count"]) == (True, 2)
    # Not itself, not a closed one, not one the grid worker cannot see.
    third = place(client, world, "res2", **IN_EAST)
    problem(client.post(f"/orders/{third['id']}/reject", json={"reason": "x", "duplicate_of_id": third["id"]},
                        headers=world.auth("workerA2")), 422)
    problem(client.post(f"/orders/{third['id']}/reject", json={"reason": "x", "duplicate_of_id": again["id"]},
                        headers=world.auth("workerA2")), 422)
    elsewhere = place(client, world, grid_id=world["gridB1"])
    problem(client.post(f"/orders/{third['id']}/reject", json={"reason": "x", "duplicate_of_id": elsewhere["id"]},
                        headers=world.auth("workerA2")), 404)
    # The rates count the problem once: of four placed in gridA2 two are duplicates; of the
    # other two (first and third) one is claimed in time.
    act(client, world, "workerA2", first["id"], "claim")
    count_moves(client)
    overview = ok(client.get("/stats/overview", params={"grid_id": world["gridA2"]}, headers=world.auth("dashboard")))
    assert overview["submitted"] == 4 and overview["rate_counts"]["duplicates"] == 2
    assert overview["rates"]["response"] == 0.5
    # The counts from the rows say the same: the channels' numbers leave the duplicates out.
    channels = ok(client.get("/stats/channels", params={"grid_id": world["gridA2"]}, headers=world.auth("dashboard")))
    assert channels["total"]["placed"] == 2


# Hot spots.

def test_hot_spots_count_orders_by_grid_and_cell(client, world, outlined):
    for _ in range(3):
        place(client, world, **IN_EAST)
    place(client, world, longitude=114.305, latitude=30.595)
    place(client, world)  # no location: counted by grid, not in a cell
    spots = ok(client.get("/stats/hot-spots", params={"cell_m": 100}, headers=world.auth("dashboard")))
    per_grid = {f["properties"]["name"]: f["properties"]["orders"] for f in spots["grids"]["features"]}
    assert per_grid == {"gridA1": 2, "gridA2": 3, "gridB1": 0}
    assert (spots["orders"], spots["located"]) == (5, 4)
    assert [c["orders"] for c in spots["cells"]] == [3, 1]
    busiest = spots["cells"][0]
    assert busiest["min_lng"] <= 114.315 < busiest["max_lng"] and busiest["min_lat"] <= 30.595 < busiest["max_lat"]
    assert 95 < distance_m(busiest["min_lng"], busiest["min_lat"], busiest["max_lng"], busiest["min_lat"]) < 105
    lng0, lat0, lng1, lat1 = spots["bounds"]
    assert lng0 <= 114.300 and lng1 >= 114.320 and lat0 <= 30.590 and lat1 >= 30.600
    # A secretary sees the branch's grids only.
    mine = ok(client.get("/stats/hot-spots", headers=world.auth("secA")))
    assert {f["properties"]["name"] for f in mine["grids"]["features"]} == {"gridA1", "gridA2"}
    problem(client.get("/stats/hot-spots", headers=world.auth("res1")), 403)

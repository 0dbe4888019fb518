"""Buildings and households below the grid: the admin keeps them, staff read only their own."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from domain.households import DEFAULT_HOUSEHOLD_FLAGS
from storage.migrate import alembic_config, upgrade
from storage.models import Town
from tests.databases import TestDatabase, backend_params, insert_old_town, postgres_reachable
from tests.test_admin import ok, problem


def building(client, world, grid="gridA1", name="1号楼", **extra) -> dict:
    return ok(client.post("/admin/buildings", json={"grid_id": world[grid], "name": name, **extra},
                          headers=world.auth("admin")), 201)


def household(client, world, address, grid="gridA1", **extra) -> dict:
    return ok(client.post("/admin/households", json={"grid_id": world[grid], "address": address, **extra},
                          headers=world.auth("admin")), 201)


@pytest.fixture
def town(client, world) -> dict:
    """Two buildings of grid A1, households in A1 (paired with memberA1, one his own home), one in A2, one in B1."""
    b1 = building(client, world, group_leader_id=world["memberA1"])
    b2 = building(client, world, name="2号楼")
    homes = {
        "home": household(client, world, "幸福路1号1单元101", building_id=b1["id"], unit="1", room="101",
                          central_member_id=world["memberA1"], head_name="张党员"),
        "paired": household(client, world, "幸福路1号1单元102", building_id=b1["id"], unit="1", room="102",
                            paired_member_id=world["memberA1"], flags=["独居老人"], people=1, phone="13900009999"),
        "plain": household(client, world, "幸福路2号", building_id=b2["id"], flags=["低保户", "残疾人"]),
        "a2": household(client, world, "和平路8号", grid="gridA2", paired_member_id=world["memberA2"]),
        "gb1": household(client, world, "乙村3组5号", grid="gridB1", flags=["独居老人"]),
    }
    return {"b1": b1, "b2": b2, **homes}


def ids(page: dict) -> set[int]:
    return {item["id"] for item in page["items"]}


def test_the_admin_records_buildings_and_households_with_pairings(client, world, town):
    listed = ok(client.get("/households", headers=world.auth("admin")))
    assert listed["total"] == 5 and [h["id"] for h in listed["items"]] == sorted(ids(listed))
    home = ok(client.get(f"/households/{town['home']['id']}", headers=world.auth("admin")))
    assert home["is_central"] is True and home["central_member_id"] == world["memberA1"]
    assert town["paired"]["paired_member_id"] == world["memberA1"] and town["paired"]["flags"] == ["独居老人"]
    buildings = ok(client.get(f"/buildings?grid_id={world['gridA1']}", headers=world.auth("admin")))
    assert {(b["name"], b["households"], b["group_leader_id"]) for b in buildings["items"]} == {
        ("1号楼", 2, world["memberA1"]), ("2号楼", 1, None)}
    flagged = ok(client.get("/households?flag=独居老人", headers=world.auth("admin")))
    assert ids(flagged) == {town["paired"]["id"], town["gb1"]["id"]} and flagged["total"] == 2
    central = ok(client.get("/households?central=true", headers=world.auth("admin")))
    assert ids(central) == {town["home"]["id"]}
    paged = ok(client.get("/households?limit=2&offset=2", headers=world.auth("admin")))
    assert paged["total"] == 5 and len(paged["items"]) == 2 and paged["offset"] == 2
    audit = ok(client.get("/admin/audit?entity=household", headers=world.auth("admin")))
    assert audit["total"] == 5


@pytest.mark.parametrize("who, expected", [
    ("admin", {"home", "paired", "plain", "a2", "gb1"}),
    ("secA", {"home", "paired", "plain", "a2"}),
    ("secB", {"gb1"}),
    ("workerA1", {"home", "paired", "plain"}),
    ("workerB1", {"gb1"}),
    ("memberA1", {"home", "paired"}),
    ("memberA2", {"a2"}),
    ("memberB1", set()),
    ("admin2", set()),
])
def test_each_staff_member_reads_only_their_households(client, world, town, who, expected):
    seen = ok(client.get("/households", headers=world.auth(who)))
    assert ids(seen) == {town[k]["id"] for k in expected} and seen["total"] == len(expected)
    for key in ("home", "paired", "plain", "a2", "gb1"):
        r = client.get(f"/households/{town[key]['id']}", headers=world.auth(who))
        if key in expected:
            assert ok(r)["address"] == town[key]["address"]
        else:
            problem(r, 404)


@pytest.mark.parametrize("who, expected", [
    ("admin", {"b1", "b2"}), ("secA", {"b1", "b2"}), ("workerA1", {"b1", "b2"}), ("workerA2", set()),
    ("memberA1", {"b1"}), ("memberA2", set()), ("secB", set()), ("admin2", set()),
])
def test_each_staff_member_reads_only_their_buildings(client, world, town, who, expected):
    seen = ok(client.get("/buildings", headers=world.auth(who)))
    assert ids(seen) == {town[k]["id"] for k in expected}
    r = client.get(f"/buildings/{town['b1']['id']}", headers=world.auth(who))
    if "b1" in expected:
        ok(r)
    else:
        problem(r, 404)


@pytest.mark.parametrize("who", ["res1", "dashboard"])
def test_residents_and_dashboards_read_no_households(client, world, town, who):
    for path in ("/households", f"/households/{town['home']['id']}", "/buildings"):
        problem(client.get(path, headers=world.auth(who)), 403)


@pytest.mark.parametrize("who", ["secA", "workerA1", "memberA1", "res1", "admin2"])
def test_only_the_town_admin_writes(client, world, town, who):
    headers = world.auth(who)
    refused = [
        client.post("/admin/households", json={"grid_id": world["gridA1"], "address": "x"}, headers=headers),
        client.patch(f"/admin/households/{town['plain']['id']}", json={"flags": []}, headers=headers),
        client.delete(f"/admin/households/{town['plain']['id']}", headers=headers),
        client.post("/admin/buildings", json={"grid_id": world["gridA1"], "name": "x"}, headers=headers),
        client.delete(f"/admin/buildings/{town['b2']['id']}", headers=headers),
    ]
    # Another town's admin may write, but not find this town's rows.
    expected = [422, 404, 404, 422, 404] if who == "admin2" else [403] * 5
    assert [r.status_code for r in refused] == expected, [r.text for r in refused]
    assert ok(client.get(f"/households/{town['plain']['id']}", headers=world.auth("admin")))["flags"] == [
        "低保户", "残疾人"]


def test_the_rules_of_who_and_where(client, world, town):
    admin = world.auth("admin")

    def refused(r, status, code):
        body = problem(r, status)
        assert body["code"] == code, body
        return body

    a1 = world["gridA1"]
    # A pairing or a building's leader is an active member of the grid's own branch.
    for staff in ("memberB1", "workerA1", "secA", "memberC1"):
        refused(client.post("/admin/households", json={"grid_id": a1, "address": f"{staff} 家",
                                                       "paired_member_id": world[staff]}, headers=admin),
                422, "rule-violation")
    refused(client.post("/admin/buildings", json={"grid_id": a1, "name": "3号楼", "group_leader_id": world["memberB1"]},
                        headers=admin), 422, "rule-violation")
    # A building of another grid, a grid of another town, flags the town does not use.
    body = refused(client.post("/admin/households", json={"grid_id": world["gridA2"], "address": "x",
                                                          "building_id": town["b1"]["id"]}, headers=admin),
                   422, "rule-violation")
    assert str(town["b1"]["id"]) in body["detail"]
    refused(client.post("/admin/households", json={"grid_id": world["gridC1"], "address": "x"}, headers=admin),
            422, "rule-violation")
    body = refused(client.post("/admin/households", json={"grid_id": a1, "address": "x", "flags": ["外星人"]},
                               headers=admin), 422, "rule-violation")
    assert "外星人" in body["detail"]
    # One household per address of a grid; one home (党员中心户) per member; one name per building of a grid.
    refused(client.post("/admin/households", json={"grid_id": a1, "address": "幸福路2号"}, headers=admin),
            409, "conflict")
    refused(client.post("/admin/households", json={"grid_id": a1, "address": "新址",
                                                   "central_member_id": world["memberA1"]}, headers=admin),
            409, "conflict")
    refused(client.post("/admin/buildings", json={"grid_id": a1, "name": "1号楼"}, headers=admin), 409, "conflict")
    # A building with households is not deleted; nor is a grid with buildings or households.
    refused(client.delete(f"/admin/buildings/{town['b2']['id']}", headers=admin), 409, "conflict")
    refused(client.delete(f"/admin/grids/{world['gridB1']}", headers=admin), 409, "conflict")
    # Nothing of the refusals was written.
    assert ok(client.get("/households", headers=admin))["total"] == 5
    assert ok(client.get("/buildings", headers=admin))["total"] == 2


def test_the_town_chooses_its_flags(client, world, town):
    admin = world.auth("admin")
    assert "低保户" in ok(client.get("/admin/town", headers=admin))["household_flags"]
    ok(client.patch("/admin/town", json={"household_flags": ["独居老人", "重点关爱"]}, headers=admin))
    changed = ok(client.patch(f"/admin/households/{town['plain']['id']}", json={"flags": ["重点关爱", "重点关爱"]},
                              headers=admin))
    assert changed["flags"] == ["重点关爱"]
    body = problem(client.patch(f"/admin/households/{town['gb1']['id']}", json={"flags": ["低保户"]},
                                headers=admin), 422)
    assert "低保户" in body["detail"]


def test_moving_and_clearing(client, world, town):
    admin = world.auth("admin")
    moved = ok(client.patch(f"/admin/households/{town['plain']['id']}",
                            json={"building_id": town["b1"]["id"], "paired_member_id": world["memberA2"]},
                            headers=admin))
    assert moved["building_id"] == town["b1"]["id"]
    # To another grid, its building must go along (or be cleared).
    problem(client.patch(f"/admin/households/{town['plain']['id']}", json={"grid_id": world["gridA2"]},
                         headers=admin), 422)
    moved = ok(client.patch(f"/admin/households/{town['plain']['id']}",
                            json={"grid_id": world["gridA2"], "building_id": None}, headers=admin))
    assert (moved["grid_id"], moved["building_id"]) == (world["gridA2"], None)
    assert ok(client.patch(f"/admin/buildings/{town['b1']['id']}", json={"group_leader_id": None},
                           headers=admin))["group_leader_id"] is None
    r = client.delete(f"/admin/buildings/{town['b2']['id']}", headers=admin)
    assert r.status_code == 204, r.text
    r = client.delete(f"/admin/households/{town['gb1']['id']}", headers=admin)
    assert r.status_code == 204, r.text
    problem(client.get(f"/households/{town['gb1']['id']}", headers=admin), 404)


def test_a_member_who_leaves_no_longer_looks_after_households(client, world, town, database):
    admin = world.auth("admin")
    ok(client.patch(f"/admin/staff/{world['memberA1']}", json={"branch_id": world["branchB"]}, headers=admin))
    home = ok(client.get(f"/households/{town['home']['id']}", headers=admin))
    paired = ok(client.get(f"/households/{town['paired']['id']}", headers=admin))
    b1 = ok(client.get(f"/buildings/{town['b1']['id']}", headers=admin))
    assert (home["central_member_id"], paired["paired_member_id"], b1["group_leader_id"]) == (None, None, None)
    entry = ok(client.get("/admin/audit?entity=staff", headers=admin))["items"][0]
    assert entry["changes"]["households_unpaired"] == 1 and entry["changes"]["buildings_without_leader"] == 1
    with database.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM households WHERE paired_member_id = :m OR central_member_id = :m"),
                         {"m": world["memberA1"]}).scalar() == 0


def test_a_grid_moved_to_another_branch_leaves_the_old_branch_s_members(client, world, town):
    admin = world.auth("admin")
    ok(client.patch(f"/admin/grids/{world['gridA1']}", json={"branch_id": world["branchB"]}, headers=admin))
    moved = ok(client.get(f"/households?grid_id={world['gridA1']}", headers=admin))["items"]
    assert {(h["paired_member_id"], h["central_member_id"]) for h in moved} == {(None, None)}
    assert ok(client.get(f"/buildings/{town['b1']['id']}", headers=admin))["group_leader_id"] is None
    assert ok(client.get("/households", headers=world.auth("memberA1")))["total"] == 0
    assert ok(client.get("/households", headers=world.auth("secB")))["total"] == 4
    entry = ok(client.get("/admin/audit?entity=grid", headers=admin))["items"][0]
    assert entry["changes"]["households_unpaired"] == 1 and entry["changes"]["central_households_cleared"] == 1
    # The new branch's members may now be paired there.
    ok(client.patch(f"/admin/households/{town['plain']['id']}", json={"paired_member_id": world["memberB1"]},
                    headers=admin))


def test_a_dropped_flag_stays_until_the_flags_are_edited(client, world, town):
    admin = world.auth("admin")
    ok(client.patch("/admin/town", json={"household_flags": ["独居老人"]}, headers=admin))
    kept = ok(client.patch(f"/admin/households/{town['plain']['id']}", json={"phone": "13900007777"}, headers=admin))
    assert kept["flags"] == ["低保户", "残疾人"] and kept["phone"] == "13900007777"
    problem(client.patch(f"/admin/households/{town['plain']['id']}", json={"flags": ["低保户"]}, headers=admin), 422)
    problem(client.get("/households?flag=%00", headers=admin), 422)


def test_chinese_readers_get_chinese_refusals(client, world, town):
    headers = {**world.auth("admin"), "Accept-Language": "zh-CN"}
    body = problem(client.post("/admin/households", json={"grid_id": world["gridA1"], "address": "x",
                                                          "flags": ["外星人"]}, headers=headers), 422)
    assert "住户标签" in body["detail"]
    body = problem(client.get("/households/999999", headers=headers), 404)
    assert "住户" in body["detail"]


@pytest.mark.parametrize("backend", backend_params())
def test_existing_towns_get_the_default_flags(backend, tmp_path):
    """Upgrading a populated 0011 database gives its towns the default household flags, and back down again."""
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0011")
    try:
        engine = old.database.engine
        with engine.begin() as connection:
            insert_old_town(connection)
        upgrade(engine)
        with old.database.session() as db:
            assert db.get(Town, 1).household_flags == list(DEFAULT_HOUSEHOLD_FLAGS)
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0011")
            connection.commit()
        assert "household_flags" not in {c["name"] for c in inspect(engine).get_columns("towns")}
        assert not inspect(engine).has_table("households")
    finally:
        old.drop()


def test_household_numbers_equal_a_recount_of_the_rows(client, world, database):
    """A generated town: the numbers of /stats/households equal a count of the rows, grid by grid and in all."""
    import random

    rng = random.Random(12)
    admin = world.auth("admin")
    flags = ["独居老人", "低保户", "残疾人"]
    members = {"gridA1": ["memberA1", "memberA2"], "gridA2": ["memberA1", "memberA2"], "gridB1": ["memberB1"]}
    central_left = {"memberA1", "memberA2", "memberB1"}
    for grid in members:
        for b in range(rng.randint(0, 2)):
            building(client, world, grid=grid, name=f"{grid}-{b}")
        for i in range(rng.randint(3, 12)):
            extra = {"flags": rng.sample(flags, rng.randint(0, 2))}
            if rng.random() < 0.6:
                extra["paired_member_id"] = world[rng.choice(members[grid])]
            homeless = [m for m in members[grid] if m in central_left]
            if homeless and rng.random() < 0.2:
                central_left.discard(who := rng.choice(homeless))
                extra["central_member_id"] = world[who]
            household(client, world, f"{grid} {i}号", grid=grid, **extra)
    ok(client.patch(f"/admin/grids/{world['gridA1']}", json={"households": 40}, headers=admin))

    with database.engine.connect() as c:
        rows = [dict(r._mapping) for r in c.execute(text(
            "SELECT grid_id, flags, paired_member_id, central_member_id FROM households"))]
        buildings = dict(c.execute(text("SELECT grid_id, count(*) FROM buildings GROUP BY grid_id")).all())
    import json as _json

    def recount(grid_ids):
        mine = [r for r in rows if r["grid_id"] in grid_ids]
        flagged: dict[str, int] = {}
        for r in mine:
            for f in (r["flags"] if isinstance(r["flags"], list) else _json.loads(r["flags"])):
                flagged[f] = flagged.get(f, 0) + 1
        paired = sum(r["paired_member_id"] is not None for r in mine)
        return {"households": len(mine), "paired": paired, "central": sum(r["central_member_id"] is not None
                                                                          for r in mine),
                "pairing_members": len({r["paired_member_id"] for r in mine} - {None}),
                "buildings": sum(buildings.get(g, 0) for g in grid_ids), "flagged": flagged,
                "coverage": round(paired / len(mine), 4) if mine else None}

    def shown(counts):
        return {k: counts[k] for k in ("households", "paired", "central", "pairing_members", "buildings", "flagged",
                                       "coverage")}

    town_grids = [world["gridA1"], world["gridA2"], world["gridB1"]]
    for who, grid_ids in (("admin", town_grids), ("dashboard", town_grids), ("secA", town_grids[:2])):
        answer = ok(client.get("/stats/households", headers=world.auth(who)))
        assert shown(answer["total"]) == recount(grid_ids), who
        assert [g["grid"]["id"] for g in answer["grids"]] == grid_ids
        for g in answer["grids"]:
            assert shown(g) == recount([g["grid"]["id"]]), (who, g["grid"])
        assert answer["total"]["declared"] == 40
    one = ok(client.get(f"/stats/households?grid_id={world['gridB1']}", headers=admin))
    assert shown(one["total"]) == recount([world["gridB1"]]) and one["scope"]["grid_id"] == world["gridB1"]


def test_household_numbers_are_scoped_and_polled_with_an_etag(client, world, town):
    for who in ("workerA1", "memberA1", "res1"):
        problem(client.get("/stats/households", headers=world.auth(who)), 403)
    problem(client.get(f"/stats/households?branch_id={world['branchB']}", headers=world.auth("secA")), 404)
    problem(client.get(f"/stats/households?grid_id={world['gridC1']}", headers=world.auth("admin")), 404)
    assert ok(client.get("/stats/households", headers=world.auth("admin2")))["total"]["households"] == 0

    headers = world.auth("dashboard")
    first = client.get("/stats/households", headers=headers)
    assert first.status_code == 200 and first.json()["total"]["paired"] == 2
    etag = first.headers["ETag"]
    again = client.get("/stats/households", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    ok(client.patch(f"/admin/households/{town['plain']['id']}", json={"paired_member_id": world["memberA2"]},
                    headers=world.auth("admin")))
    changed = client.get("/stats/households", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["total"]["paired"] == 3
    assert changed.headers["ETag"] != etag


def households_csv(*rows: dict, columns=None) -> bytes:
    import csv
    import io

    from workflows.household_import import COLUMNS

    columns = columns or COLUMNS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8-sig")


def post_households(client, world, content: bytes, expect=200, who="admin", **params):
    r = client.post("/admin/households/import", params=params, headers=world.auth(who),
                    files={"file": ("households.csv", content, "text/csv")})
    assert r.status_code == expect, r.text
    return r.json()


def test_households_are_imported_from_a_file_and_again_without_change(client, world):
    admin = world.auth("admin")
    phone = world.phones
    rows = [
        {"网格": "gridA1", "楼栋": "1号楼", "地址": "幸福路1号101", "单元": "1", "房号": "101", "户主": "张三",
         "电话": "13900008888", "人数": "2", "标签": "独居老人、低保户", "联户党员手机号": phone["memberA1"]},
        {"网格": "gridA1", "楼栋": "1号楼", "地址": "幸福路1号102", "中心户党员手机号": phone["memberA2"]},
        {"所属支部": "乙村党支部", "网格": "gridB1", "地址": "乙村3组5号", "联户党员手机号": phone["memberB1"]},
    ]
    content = households_csv(*rows)
    dry = post_households(client, world, content, dry_run="true")
    assert (dry["dry_run"], dry["created"], dry["updated"], dry["unchanged"]) == (True, 3, 0, 0)
    assert dry["buildings_created"] == ["gridA1 1号楼"]
    assert ok(client.get("/households", headers=admin))["total"] == 0, "a dry run writes nothing"

    done = post_households(client, world, content)
    assert (done["dry_run"], done["created"], done["buildings_created"]) == (False, 3, ["gridA1 1号楼"])
    listed = {h["address"]: h for h in ok(client.get("/households", headers=admin))["items"]}
    first = listed["幸福路1号101"]
    assert (first["flags"], first["people"], first["paired_member_id"], first["head_name"]) == (
        ["独居老人", "低保户"], 2, world["memberA1"], "张三")
    assert listed["幸福路1号102"]["central_member_id"] == world["memberA2"]
    assert first["building_id"] == listed["幸福路1号102"]["building_id"] is not None
    assert ok(client.get("/buildings", headers=admin))["total"] == 1

    again = post_households(client, world, content)
    assert (again["created"], again["updated"], again["unchanged"], again["buildings_created"]) == (0, 0, 3, [])
    rows[0]["人数"] = "3"
    rows[1]["楼栋"] = "2号楼"
    changed = post_households(client, world, households_csv(*rows))
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 2, 1)
    assert {p["address"]: p["changed"] for p in changed["plan"] if p["action"] == "update"} == {
        "幸福路1号101": ["people"], "幸福路1号102": ["building_id"]}
    # An empty cell keeps what is stored.
    kept = post_households(client, world, households_csv({"网格": "gridA1", "地址": "幸福路1号101"}))
    assert kept["unchanged"] == 1
    assert ok(client.get(f"/households/{first['id']}", headers=admin))["flags"] == ["独居老人", "低保户"]
    audit = ok(client.get("/admin/audit?entity=household", headers=admin))["items"]
    assert audit[0]["action"] == "import" and audit[0]["changes"]["rows"] == 1


def test_a_bad_row_refuses_the_whole_file_with_every_error(client, world):
    phone = world.phones
    content = households_csv(
        {"网格": "gridA1", "地址": "好的一户"},
        {"网格": "无此网格", "地址": "x"},
        {"网格": "gridA1", "地址": "y", "联户党员手机号": phone["memberB1"]},
        {"网格": "gridA1", "地址": "z", "标签": "外星人", "人数": "很多"},
        {"网格": "gridA1", "地址": "好的一户"},
        {"网格": "gridA1", "地址": "w", "电话": "12"},
    )
    body = post_households(client, world, content, expect=422)
    assert body["code"] == "roster-invalid"
    cells = {(e["row"], e["column"]) for e in body["errors"]}
    assert cells == {(3, "网格"), (4, "联户党员手机号"), (5, "标签"), (5, "人数"), (6, "地址"), (7, "电话")}, body
    assert ok(client.get("/households", headers=world.auth("admin")))["total"] == 0
    problem(client.post("/admin/households/import", headers=world.auth("secA"),
                        files={"file": ("h.csv", content, "text/csv")}), 403)
    bad_header = post_households(client, world, households_csv({"地址": "x"}, columns=("地址", "楼号")), expect=422)
    assert {e["column"] for e in bad_header["errors"]} == {"楼号", "网格"}


def test_the_template_reads_back_and_its_example_is_skipped(client, world):
    import io

    from openpyxl import load_workbook

    r = client.get("/admin/households/template.xlsx", headers=world.auth("admin"))
    assert r.status_code == 200 and r.content.startswith(b"PK")
    book = load_workbook(io.BytesIO(r.content))
    assert [c.value for c in book.worksheets[0][1]][:4] == ["所属支部", "网格", "楼栋", "地址"]
    assert book.sheetnames == ["住户名单", "说明"]
    untouched = client.post("/admin/households/import", headers=world.auth("admin"),
                            files={"file": ("t.xlsx", r.content, "application/octet-stream")})
    assert untouched.status_code == 200, untouched.text
    assert (untouched.json()["rows"], untouched.json()["created"]) == (0, 0)
    sheet = book.worksheets[0]
    sheet["A2"], sheet["B2"], sheet["C2"], sheet["D2"] = "甲村党支部", "gridA1", "1号楼", "幸福路9号"
    for column in "EFGHIJKL":
        sheet[f"{column}2"] = None
    out = io.BytesIO()
    book.save(out)
    filled = client.post("/admin/households/import", headers=world.auth("admin"),
                         files={"file": ("t.xlsx", out.getvalue(), "application/octet-stream")})
    assert filled.status_code == 200, filled.text
    assert (filled.json()["created"], filled.json()["buildings_created"]) == (1, ["gridA1 1号楼"])
    problem(client.get("/admin/households/template.xlsx", headers=world.auth("secA")), 403)

"""The public 晒单 board: finished work of a town, anonymised, without sign-in, only when turned on."""

from __future__ import annotations

from sqlalchemy import event

from tests.helpers import act, place, to_state, upload
from infra.images import solid_png

BOARD_KEYS = {
    "id", "category", "grid", "branch_id", "state", "state_label", "completed_at",
    "completion_note", "member_name", "photos", "rating",
}
# Where each worker, secretary and member of the world works.
CREW = {
    "gridA1": ("workerA1", "secA", "memberA1"),
    "gridA2": ("workerA2", "secA", "memberA2"),
    "gridB1": ("workerB1", "secB", "memberB1"),
    "gridC1": ("workerC1", "secC", "memberC1"),
}


def enable(client, world, admin: str = "admin", on: bool = True) -> None:
    r = client.patch("/admin/town", json={"public_board_enabled": on}, headers=world.auth(admin))
    assert r.status_code == 200 and r.json()["public_board_enabled"] is on, r.text


def board(client, town_id: int, expect: int = 200, **params) -> dict:
    r = client.get(f"/public/towns/{town_id}/board", params=params)
    assert r.status_code == expect, r.text
    return r.json()


def finish(client, world, grid: str, note: str = "修好了", who: str = "res1", **body) -> tuple[int, str]:
    """Place an order in `grid` and take it to completed; the order id and its evidence photo."""
    worker, secretary, member = CREW[grid]
    oid = place(client, world, who=who, grid_id=world[grid], **body)["id"]
    act(client, world, worker, oid, "claim")
    act(client, world, secretary, oid, "dispatch", {"member_id": world[member]})
    act(client, world, member, oid, "accept")
    photo = upload(client, world, member)
    act(client, world, member, oid, "complete", {"note": note, "photo_ids": [photo]})
    return oid, photo


def ids(page: dict) -> list[int]:
    return [item["id"] for item in page["items"]]


def test_no_board_unless_the_town_turned_it_on(client, world):
    oid, photo = finish(client, world, "gridA1")
    for town_id in (world["town"], world["town2"], 999_999):
        r = client.get(f"/public/towns/{town_id}/board")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert client.get(f"/public/photos/{photo}").status_code == 404
    enable(client, world)
    assert ids(board(client, world["town"])) == [oid]
    assert client.get(f"/public/photos/{photo}").status_code == 200
    enable(client, world, on=False)
    board(client, world["town"], expect=404)
    assert client.get(f"/public/photos/{photo}").status_code == 404


def test_items_are_anonymised(client, world, clock):
    enable(client, world)
    request_photo = upload(client, world, "res1")
    oid, evidence = finish(
        client, world, "gridA1", note="已更换路灯灯泡", description="幸福路十二号门口路灯坏了三天",
        address="幸福路12号", latitude=30.123, longitude=120.456, photo_ids=[request_photo],
    )
    act(client, world, "res1", oid, "rate", {"stars": 5, "comment": "张师傅辛苦了谢谢"})
    # 代点单: a name and phone taken on a visit, rated by callback.
    visit, _ = finish(client, world, "gridA1", who="workerA1", contact_name="孙奶奶", contact_phone="13912345678",
                      channel="visit", description="孙奶奶家屋顶漏雨")
    clock.advance(minutes=5)
    act(client, world, "workerA1", visit, "rate", {"stars": 4, "comment": "回访满意"})

    r = client.get(f"/public/towns/{world['town']}/board")
    assert r.status_code == 200
    text = r.text
    for secret in ("res1", world.phones["res1"], "幸福路", "30.123", "120.456", "张师傅辛苦了谢谢", "回访满意",
                   "孙奶奶", "13912345678", "屋顶漏雨", request_photo, "description", "address", "contact",
                   "timeline", "comment", "phone", "latitude"):
        assert secret not in text, f"{secret!r} is on the public board"
    page = r.json()
    assert page["total"] == 2 and (page["limit"], page["offset"]) == (20, 0)
    item = {i["id"]: i for i in page["items"]}[oid]
    assert set(item) == BOARD_KEYS
    assert item == {
        "id": oid, "category": "基础设施维修", "grid": {"id": world["gridA1"], "name": "gridA1"},
        "branch_id": world["branchA"], "state": "closed", "state_label": "已办结",
        "completed_at": "2026-11-20T01:00:00Z", "completion_note": "已更换路灯灯泡", "member_name": "memberA1",
        "photos": [{"id": evidence, "url": f"/public/photos/{evidence}"}],
        "rating": {"stars": 5, "source": "resident"},
    }
    assert {i["id"]: i["rating"] for i in page["items"]}[visit] == {"stars": 4, "source": "callback"}


def test_only_completed_and_closed_newest_completion_first(client, world, clock):
    enable(client, world)
    states = {}
    for state in ("submitted", "claimed", "dispatched", "in_progress", "completed"):
        states[state] = place(client, world)["id"]
        to_state(client, world, states[state], state)
    rejected = place(client, world)["id"]
    act(client, world, "workerA1", rejected, "reject", {"reason": "重复"})
    cancelled = place(client, world)["id"]
    act(client, world, "res1", cancelled, "cancel", {})
    clock.advance(hours=1)
    early = place(client, world)["id"]
    to_state(client, world, early, "completed")
    clock.advance(hours=1)
    closed = place(client, world)["id"]
    to_state(client, world, closed, "completed")
    act(client, world, "res1", closed, "rate", {"stars": 3})
    # Completed first, then reopened by one star and completed again last: the latest completion counts.
    clock.advance(hours=1)
    act(client, world, "res1", states["completed"], "rate", {"stars": 1, "comment": "没修好"})
    assert client.get(f"/public/towns/{world['town']}/board").json()["total"] == 2, "a reopened order leaves"
    clock.advance(hours=1)
    to_state(client, world, states["completed"], "completed")

    page = board(client, world["town"])
    assert ids(page) == [states["completed"], closed, early] and page["total"] == 3
    items = page["items"]
    assert [i["state_label"] for i in items] == ["待评价", "已办结", "待评价"]
    assert [i["completed_at"] for i in items] == [
        "2026-11-20T05:00:00Z", "2026-11-20T03:00:00Z", "2026-11-20T02:00:00Z",
    ]
    assert items[0]["rating"] is None, "the one-star rating of the first round is not this work's rating"
    assert len(items[0]["photos"]) == 2, "evidence of both rounds"
    assert items[1]["rating"] == {"stars": 3, "source": "resident"}


def test_grid_and_branch_filters_and_pages(client, world, clock):
    enable(client, world)
    made = {}
    for grid in ("gridA1", "gridA2", "gridB1", "gridA1", "gridB1"):
        clock.advance(minutes=1)
        made.setdefault(grid, []).append(finish(client, world, grid)[0])

    def newest_first(*grids: str) -> list[int]:
        return sorted((o for g in grids for o in made[g]), reverse=True)

    town = world["town"]
    assert ids(board(client, town)) == newest_first("gridA1", "gridA2", "gridB1")
    assert ids(board(client, town, grid_id=world["gridA1"])) == newest_first("gridA1")
    assert ids(board(client, town, branch_id=world["branchA"])) == newest_first("gridA1", "gridA2")
    assert ids(board(client, town, branch_id=world["branchB"])) == newest_first("gridB1")
    assert ids(board(client, town, branch_id=world["branchA"], grid_id=world["gridB1"])) == []
    # Another town's grid or branch finds nothing here.
    assert board(client, town, grid_id=world["gridC1"])["total"] == 0
    assert board(client, town, branch_id=world["branchC"])["total"] == 0

    everything = newest_first("gridA1", "gridA2", "gridB1")
    first = board(client, town, limit=2)
    second = board(client, town, limit=2, offset=2)
    last = board(client, town, limit=2, offset=4)
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert ids(first) + ids(second) + ids(last) == everything
    assert len(ids(last)) == 1 and board(client, town, offset=5)["items"] == []
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"grid_id": 0}, {"branch_id": "x"}):
        board(client, town, expect=422, **bad)


def test_public_photos_are_only_evidence_of_orders_on_the_board(client, world):
    enable(client, world)
    request_photo = upload(client, world, "res1")
    oid, evidence = finish(client, world, "gridA1", photo_ids=[request_photo])
    served = client.get(f"/public/photos/{evidence}")
    assert served.status_code == 200 and served.content == solid_png()
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "public" in served.headers["cache-control"]
    assert board(client, world["town"])["items"][0]["photos"][0]["url"] == f"/public/photos/{evidence}"

    # The resident's own photo of the same order, an unattached upload, an unknown id.
    unattached = upload(client, world, "memberA1")
    for photo_id in (request_photo, unattached, "no-such-photo-at-all-0000"):
        r = client.get(f"/public/photos/{photo_id}")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert client.get(f"/public/photos/{'x' * 500}").status_code == 422  # no photo id is that long
    assert client.get(f"/photos/{request_photo}", headers=world.auth("res1")).status_code == 200

    # Reopened by a one-star rating, the order leaves the board and so does its evidence.
    act(client, world, "res1", oid, "rate", {"stars": 1, "comment": "没修好"})
    assert client.get(f"/public/photos/{evidence}").status_code == 404
    # Evidence of an order in progress elsewhere was never on the board.
    other = place(client, world)["id"]
    to_state(client, world, other, "in_progress")
    assert client.get(f"/public/photos/{evidence}").status_code == 404


def add_secretary_of_town2(client, world) -> None:
    """The world has no secretary in town2; its admin appoints one, who signs in."""
    body = {"name": "secC", "phone": "13700009999", "role": "secretary", "password": "secret-of-secC",
            "branch_id": world["branchC"]}
    assert client.post("/admin/staff", json=body, headers=world.auth("admin2")).status_code == 201
    r = client.post("/auth/staff", json={"phone": body["phone"], "password": body["password"]})
    assert r.status_code == 200, r.text
    world.tokens["secC"] = r.json()["access_token"]


def test_each_town_has_its_own_board(client, world):
    enable(client, world)
    add_secretary_of_town2(client, world)
    ours, our_photo = finish(client, world, "gridA1")
    theirs, their_photo = finish(client, world, "gridC1", who="res3", category_id=world["cat2"])
    assert ids(board(client, world["town"])) == [ours]
    board(client, world["town2"], expect=404)
    assert client.get(f"/public/photos/{their_photo}").status_code == 404, "town2 has not turned its board on"
    assert client.get(f"/public/photos/{our_photo}").status_code == 200

    enable(client, world, admin="admin2")
    page = board(client, world["town2"])
    assert ids(page) == [theirs] and page["items"][0]["grid"]["name"] == "gridC1"
    assert page["items"][0]["member_name"] == "memberC1" and page["items"][0]["category"] == "邻镇类别"
    assert board(client, world["town2"], grid_id=world["gridA1"])["total"] == 0
    assert client.get(f"/public/photos/{their_photo}").status_code == 200
    enable(client, world, on=False)
    board(client, world["town"], expect=404)
    assert ids(board(client, world["town2"])) == [theirs]


def test_the_board_reads_a_fixed_number_of_queries(client, world, database):
    """Names and photos are loaded for the whole page at once, not per order."""
    enable(client, world)

    def statements_for_a_page(expected_total: int) -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(database.engine, "before_cursor_execute", count)
        try:
            page = board(client, world["town"])
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        assert page["total"] == expected_total and all(item["photos"] for item in page["items"])
        return len(statements)

    finish(client, world, "gridA1")
    one = statements_for_a_page(1)
    for grid in ("gridA2", "gridB1", "gridA1", "gridA2", "gridB1"):
        finish(client, world, grid)
    assert statements_for_a_page(6) == one
    # The town, the count, the page, categories, grids, members, photos (and BEGIN on SQLite).
    assert one <= 8, one

"""/stats/channels: orders by the door they came in from, equal to a recount of the order rows."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from domain.channels import CHANNEL_LABELS
from storage.models import Order
from tests.helpers import act, place, to_state
from tests.test_admin import ok, problem

KEYS = ("placed", "cancelled", "closed", "rated", "satisfied")


def recount(database, town_id, start, end) -> dict[str, dict[str, int]]:
    with database.session() as db:
        orders = db.exec(select(Order).where(Order.town_id == town_id)).all()
    out: dict[str, dict[str, int]] = {}
    for o in orders:
        if not start <= o.created_at < end:
            continue
        n = out.setdefault(o.channel, dict.fromkeys(KEYS, 0))
        rated = o.state == "closed" and o.rating_stars is not None and o.rating_source != "default"
        n["placed"] += 1
        n["cancelled"] += o.state == "cancelled"
        n["closed"] += o.state == "closed"
        n["rated"] += rated
        n["satisfied"] += rated and o.rating_stars >= 4
    return out


def test_channel_counts_equal_a_recount_of_the_orders(client, world, database, clock):
    rng = random.Random(7)
    start = clock()
    for i in range(16):
        if i % 4 == 0:
            order = place(client, world)  # the resident, in the mini-program
        else:
            order = place(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="孙爷爷",
                          contact_phone="13912345678", channel=rng.choice(("visit", "phone")))  # the hall: test_halls.py
        fate = rng.choice(("open", "cancel", "close", "close"))
        if fate == "cancel" and order["channel"] == "mini_program":  # only a resident cancels
            act(client, world, "res1", order["id"], "cancel")
        elif fate == "close":
            to_state(client, world, order["id"], "completed")
            who = "res1" if order["channel"] == "mini_program" else "workerA1"  # else a callback (回访)
            act(client, world, who, order["id"], "rate", {"stars": rng.choice((3, 4, 5))})
        clock.advance(hours=5)
    zone = ZoneInfo("Asia/Shanghai")
    first = start.astimezone(zone).date() + timedelta(days=1)  # the first town day is left out
    last = clock().astimezone(zone).date()
    answer = ok(client.get(f"/stats/channels?date_from={first}&date_to={last}", headers=world.auth("dashboard")))
    expected = recount(database, world["town"], datetime.combine(first, time(0), zone),
                       datetime.combine(last + timedelta(days=1), time(0), zone))
    rows = {row["channel"]: row for row in answer["channels"]}
    assert set(rows) == {c.value for c in CHANNEL_LABELS}
    assert {c: {k: rows[c][k] for k in KEYS} for c in expected} == expected
    assert all(rows[c]["placed"] == 0 for c in set(rows) - set(expected))
    assert answer["total"]["placed"] == sum(n["placed"] for n in expected.values()) > 5
    visit = rows["visit"]
    assert visit["channel_label"] == "走访"
    n = expected.get("visit", dict.fromkeys(KEYS, 0))
    if n["placed"] - n["cancelled"]:
        assert visit["resolution_rate"] == round(n["closed"] / (n["placed"] - n["cancelled"]), 4)
    # Branch B's secretary counts none of branch A's orders; members, workers and residents read no numbers.
    assert ok(client.get("/stats/channels", headers=world.auth("secB")))["total"]["placed"] == 0
    for who in ("memberA1", "workerA1", "res1"):
        problem(client.get("/stats/channels", headers=world.auth(who)), 403)
    # member_id counts the orders the member holds: every one that went through to_state.
    held = ok(client.get(f"/stats/channels?date_from={first - timedelta(days=1)}&date_to={last}"
                         f"&member_id={world['memberA1']}", headers=world.auth("admin")))
    with database.session() as db:
        mine = db.exec(select(Order).where(Order.assignee_id == world["memberA1"])).all()
    assert held["total"]["placed"] == len(mine) > 0
    assert held["total"]["closed"] == sum(o.state == "closed" for o in mine)

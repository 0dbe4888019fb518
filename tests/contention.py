"""A busy morning in one grid: pairs of staff racing on the same orders along every path of the loop.

Each pair of threads walks one order at a time through a path of the state machine. At
every step both threads send their request at the same moment (a barrier), so each move
is raced: one applies it and the other must get a 409 naming the state the order is
really in. Some steps race two different actions (a claim against a cancel). The sweep
runs beside them with the dispatch and accept stages due at once, so its reminders and
escalations lock and write the same orders as the moves.

`run_contention` drives it over HTTP against one or more base URLs and returns what it
saw; `check_outcome` and `check_stats_recount` hold it against the database.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import col, select

from domain.deadlines import STAGE_OF_STATE
from domain.rating import SATISFIED_MIN_STARS
from domain.states import OrderState
from domain.stats import STAGE_DONE_BY
from domain.transitions import Action
from storage.models import Category, Order, OrderEvent, Photo
from infra.images import solid_png

# A step: what each of the two threads sends. A body may be a callable (built per send).
Send = tuple[str, str, object]  # (who, action, body)


def same(who: str, action: str, body: object = None) -> tuple[Send, Send]:
    return (who, action, body), (who, action, body)


def _paths(world) -> dict[str, list[tuple[Send, Send]]]:
    m1, m2 = world["memberA1"], world["memberA2"]

    def through(member: str, member_id: int, *, stars: int, dispatch: bool = True) -> list[tuple[Send, Send]]:
        steps = [same("secA", "dispatch", {"member_id": member_id})] if dispatch else []
        return steps + [same(member, "accept"), same(member, "complete", "photo"),
                        same("res1", "rate", {"stars": stars})]

    claim = [same("workerA1", "claim")]
    return {
        "cancel": [same("res1", "cancel", {})],
        "reject": [same("workerA1", "reject", {"reason": "不属于受理范围"})],
        "cancel_after_claim": claim + [same("res1", "cancel", {"reason": "已自行解决"})],
        "claim_vs_cancel": [(("workerA1", "claim", None), ("res1", "cancel", {}))],
        "transfer": [same("workerA1", "transfer", {"grid_id": world["gridA2"], "reason": "属于邻近网格"}),
                     same("workerA2", "claim")] + through("memberA2", m2, stars=5),
        "five_stars": claim + through("memberA1", m1, stars=5),
        "decline_and_again": claim + [same("secA", "dispatch", {"member_id": m1}),
                                      same("memberA1", "decline", {"reason": "出差在外"})]
                             + through("memberA2", m2, stars=3),
        "reopen_once": claim + through("memberA1", m1, stars=2) + through("memberA1", m1, stars=4),
        "reopen_twice": claim + through("memberA1", m1, stars=1) + through("memberA2", m2, stars=1)
                        + through("memberA1", m1, stars=1),
        "callback": claim + through("memberA2", m2, stars=4)[:-1] + [same("workerA1", "rate", {"stars": 4})],
    }


@dataclass
class Answer:
    order_id: int
    step: int
    who: str
    action: str
    status: int
    body: dict
    photo_ids: list[str] = field(default_factory=list)
    state_after: str = ""  # the order's state once both sends of the step were answered


@dataclass
class Outcome:
    answers: list[Answer]
    placed: dict[int, str]  # order id -> path
    errors: list[str]

    @property
    def moves(self) -> list[Answer]:
        return [a for a in self.answers if a.action != "place"]

    def count(self, status: int) -> int:
        return sum(a.status == status for a in self.moves)


def run_contention(
    base_urls: list[str], world, threads: int, state_of: Callable[[int], str], *, rounds: int = 1,
) -> Outcome:
    """`threads` // 2 pairs, each walking `rounds` paths (taken in turn, so every path is covered)."""
    paths = _paths(world)
    names = sorted(paths)
    answers: list[Answer] = []
    placed: dict[int, str] = {}
    errors: list[str] = []
    lock = threading.Lock()
    png = solid_png()

    def pair(index: int) -> None:
        barrier = threading.Barrier(2)
        shared: dict[str, int] = {}  # the order being walked, each side's last status
        base = base_urls[index % len(base_urls)]
        other = base_urls[(index + 1) % len(base_urls)]  # with replicas, the two of a pair use two

        def member(side: int) -> None:
            with httpx.Client(base_url=base if side == 0 else other, timeout=60) as http:
                for round_ in range(rounds):
                    name = names[(index * rounds + round_) % len(names)]
                    if side == 0:
                        shared["order"] = _place(http, world, name, answers, placed, lock)
                    barrier.wait()
                    order_id = shared["order"]
                    for step, sends in enumerate(paths[name]):
                        who, action, body = sends[side]
                        photo_ids = []
                        if body == "photo":
                            photo_ids = [_upload(http, world, who, png)]
                            body = {"note": "已处理完毕", "photo_ids": photo_ids}
                        barrier.wait()
                        r = http.post(f"/orders/{order_id}/{action}", json=body, headers=world.auth(who))
                        answer = Answer(order_id, step, who, action, r.status_code, _json(r), photo_ids)
                        shared[f"status{side}"] = r.status_code
                        barrier.wait()
                        answer.state_after = state_of(order_id)
                        with lock:
                            answers.append(answer)
                        barrier.wait()
                        if not any(200 <= shared[f"status{s}"] < 300 for s in (0, 1)):
                            break  # neither applied it (reported by the checks): the path cannot go on

        workers = [threading.Thread(target=_guarded, args=(member, side, errors, lock)) for side in (0, 1)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    pairs = [threading.Thread(target=pair, args=(i,)) for i in range(threads // 2)]
    for thread in pairs:
        thread.start()
    for thread in pairs:
        thread.join(timeout=600)
    return Outcome(answers, placed, errors)


def _guarded(fn, side, errors, lock) -> None:
    try:
        fn(side)
    except Exception as exc:  # noqa: BLE001  (reported by the test, not lost in a thread)
        with lock:
            errors.append(f"{type(exc).__name__}: {exc}")


def _json(r: httpx.Response) -> dict:
    try:
        return r.json()
    except ValueError:
        return {"text": r.text[:200]}


def _place(http, world, path: str, answers, placed, lock) -> int:
    body = {"category_id": world["cat"], "description": f"{path}: 楼道灯坏了"}
    who = "res1"
    if path == "callback":  # taken on a visit, on the resident's behalf, rated by a callback
        who = "workerA1"
        body.update(grid_id=world["gridA1"], contact_name="王大爷", contact_phone="13800138000")
    r = http.post("/orders", json=body, headers=world.auth(who))
    if r.status_code != 201:
        raise AssertionError(f"placing failed: {r.status_code} {r.text[:300]}")
    order_id = r.json()["id"]
    with lock:
        placed[order_id] = path
        answers.append(Answer(order_id, -1, who, "place", r.status_code, r.json(), state_after="submitted"))
    return order_id


def _upload(http, world, who: str, png: bytes) -> str:
    r = http.post("/photos", files={"file": ("p.png", png, "image/png")}, headers=world.auth(who))
    if r.status_code != 201:
        raise AssertionError(f"upload failed: {r.status_code} {r.text[:300]}")
    return r.json()["id"]


def _event_of(answer: Answer) -> str:
    """The event a 2xx answer must have left: a rating of 1-2 stars reopens the order instead."""
    if answer.action == "place":
        return "submit"
    if answer.action == "rate" and answer.body["state"] == "claimed":
        return "reopen"
    return answer.action


LEAVES_SIGHT = {"decline", "transfer"}


def check_outcome(outcome: Outcome, database) -> None:
    """No 5xx; each move applied (its event is there) or a 409 naming the real state; photos of losers free."""
    assert not outcome.errors, outcome.errors
    statuses = Counter(a.status for a in outcome.moves)
    assert set(statuses) <= {200, 404, 409}, {s: [a.body for a in outcome.moves if a.status == s][:3] for s in statuses}
    for a in outcome.moves:
        if a.status == 409:
            assert a.body["current_state"] == a.state_after, a
            assert isinstance(a.body["allowed_actions"], list), a
        if a.status == 404:
            # The winner's decline (or transfer) took the order out of the loser's sight: no
            # longer the member's, no longer in the worker's grid; not found, as for anyone outside.
            assert a.action in LEAVES_SIGHT and a.body["type"] == "urn:wudan:problem:not-found", a
    with database.session() as db:
        events = db.exec(select(OrderEvent.order_id, OrderEvent.action, OrderEvent.actor_role)
                         .where(col(OrderEvent.order_id).in_(list(outcome.placed)))).all()
        photos = db.exec(select(Photo.id, Photo.order_id).where(col(Photo.order_id).is_not(None))).all()
    applied = Counter((oid, action) for oid, action, role in events if role != "system")
    answered = Counter((a.order_id, _event_of(a)) for a in outcome.answers if a.status in (200, 201))
    assert answered == applied, "a move answered 200 has no event, or an event no 200"
    attached = {photo_id: order_id for photo_id, order_id in photos}
    for a in outcome.moves:
        for photo_id in a.photo_ids:
            if a.status == 200:
                assert attached.get(photo_id) == a.order_id, a
            else:
                assert photo_id not in attached, f"a refused completion left its photo on order {attached[photo_id]}"


def check_stats_recount(http: httpx.Client, world, database, timezone: str = "Asia/Shanghai") -> dict:
    """The dashboards' numbers equal a recount of the orders and their events; returns the recount."""
    tz = ZoneInfo(timezone)
    with database.session() as db:
        orders = db.exec(select(Order)).all()
        events = db.exec(select(OrderEvent).order_by(col(OrderEvent.order_id), col(OrderEvent.id))).all()
        claim_minutes = {c.id: c.claim_minutes for c in db.exec(select(Category)).all()}
    placed = {o.id: o for o in orders}
    by_order: dict[int, list[OrderEvent]] = {}
    for e in events:
        by_order.setdefault(e.order_id, []).append(e)

    def day(moment: datetime) -> str:
        return moment.astimezone(tz).date().isoformat()

    recount = {"by_state": Counter(o.state for o in orders), "submitted": len(orders), "days": {}}
    rate_counts = Counter()
    stage_counts = Counter()
    for order_id, evs in by_order.items():
        order = placed[order_id]
        d = recount["days"].setdefault(day(order.created_at), Counter())
        d["submitted"] += 1
        previous = None  # every move starts its stage anew, a transfer too
        for e in evs:
            action = Action(e.action)
            if action == Action.CLAIM:
                deadline = previous.created_at.timestamp() + claim_minutes[order.category_id] * 60
                if e.created_at.timestamp() <= deadline:
                    rate_counts["claimed_in_time"] += 1
                    d["claimed_in_time"] += 1
            if action in (Action.RATE, Action.REOPEN):
                rate_counts["ratings"] += 1
                d["ratings"] += 1
                if e.data["stars"] >= SATISFIED_MIN_STARS:
                    rate_counts["ratings_good"] += 1
                    d["ratings_good"] += 1
            if action == Action.AUTO_CLOSE:
                rate_counts["ratings_default"] += 1
            if e.from_state is not None:
                stage = STAGE_OF_STATE.get(OrderState(e.from_state))
                if stage is not None and action in STAGE_DONE_BY[stage]:
                    stage_counts[stage.value] += 1
            previous = e
        if order.state == "closed":
            d["closed"] += 1
    rate_counts["closed"] = recount["by_state"]["closed"]
    rate_counts["cancelled"] = recount["by_state"]["cancelled"]
    days = sorted(recount["days"])
    params = {"date_from": days[0], "date_to": days[-1]}
    headers = world.auth("admin")

    overview = http.get("/stats/overview", params=params, headers=headers).json()
    assert overview["submitted"] == recount["submitted"]
    assert {k: v for k, v in overview["by_state"].items() if v} == dict(recount["by_state"])
    assert {k: v for k, v in overview["rate_counts"].items() if v} == {k: v for k, v in rate_counts.items() if v}
    assert {k: v["count"] for k, v in overview["stage_times"].items() if v["count"]} == dict(stage_counts)
    by_category = http.get("/stats/overview", params={**params, "category_id": world["cat"]}, headers=headers).json()
    assert by_category["by_state"] == overview["by_state"] and by_category["rate_counts"] == overview["rate_counts"]

    daily = http.get("/stats/daily", params=params, headers=headers).json()
    for entry in daily["days"]:
        want = recount["days"].get(entry["date"], Counter())
        assert {k: entry[k] for k in ("submitted", "closed", "claimed_in_time", "ratings", "ratings_good")} == {
            k: want[k] for k in ("submitted", "closed", "claimed_in_time", "ratings", "ratings_good")}, entry["date"]

    summary = http.get("/stats/summary", headers=headers).json()
    assert {k: v for k, v in summary["by_state"].items() if v} == dict(recount["by_state"])
    return {"by_state": dict(recount["by_state"]), "rate_counts": dict(rate_counts)}

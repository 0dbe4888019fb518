"""Reminders, escalation and auto-close, with a clock the tests move."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from domain.alerts import alert_schedule, due_alerts
from domain.deadlines import Stage
from storage.models import Order, OrderEvent, OutboxMessage, StageAlert
from tests.helpers import act, get, place, to_state
from workflows.sweep import sweep, sweep_order


def alerts(database, order_id=None) -> list[tuple]:
    with database.session() as db:
        statement = select(StageAlert).order_by(col(StageAlert.id))
        if order_id:
            statement = statement.where(StageAlert.order_id == order_id)
        return [(a.stage, a.kind, a.round, a.audience) for a in db.exec(statement).all()]


def notices(database, kind_prefix="alert.") -> list[tuple]:
    with database.session() as db:
        rows = db.exec(select(OutboxMessage).where(col(OutboxMessage.kind).startswith(kind_prefix))
                       .order_by(col(OutboxMessage.id))).all()
        return [(m.kind, m.audience, m.audience_id, m.payload.get("round")) for m in rows]


def test_schedule_of_a_stage():
    from datetime import UTC, datetime

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    schedule = alert_schedule(Stage.CLAIM, t0, 120)
    assert [(a.kind, a.round, a.due_at - t0) for a in schedule] == [
        ("reminder", 1, timedelta(hours=2)), ("reminder", 2, timedelta(hours=3)),
        ("reminder", 3, timedelta(hours=4)), ("escalation", 1, timedelta(hours=4)),
    ]
    rate = alert_schedule(Stage.RATE, t0, 7 * 24 * 60)
    assert [(a.kind, a.due_at - t0) for a in rate] == [("reminder", timedelta(days=3.5)), ("auto_close", timedelta(days=7))]
    assert [a.kind for a in alert_schedule(Stage.RATE, t0, 60, auto_close=False)] == ["reminder"]
    # After a long outage only the latest reminder round is raised.
    due = due_alerts(schedule, t0 + timedelta(hours=10))
    assert [(a.kind, a.round) for a in due] == [("reminder", 3), ("escalation", 1)]


def test_claim_stage_reminds_three_times_then_escalates(client, world, database, clock):
    oid = place(client, world)["id"]
    assert sweep(database, now=clock()).examined == 0  # nothing due yet
    clock.advance(hours=2, minutes=1)
    assert sweep(database, now=clock()).alerts == 1
    assert sweep(database, now=clock()).alerts == 0, "a second pass at the same time raises nothing"
    order = get(client, world, "workerA1", oid)
    assert order["overdue"] and order["overdue_seconds"] == 60
    clock.advance(hours=1)
    sweep(database, now=clock())
    clock.advance(hours=1)
    sweep(database, now=clock())
    clock.advance(days=3)
    assert sweep(database, now=clock()).examined == 0, "nothing is left to raise for this stage"
    assert alerts(database, oid) == [
        ("claim", "reminder", 1, "grid_workers"), ("claim", "reminder", 2, "grid_workers"),
        ("claim", "reminder", 3, "grid_workers"), ("claim", "escalation", 1, "branch_secretaries"),
    ]
    assert notices(database) == [
        ("alert.reminder", "grid_workers", world["gridA1"], 1), ("alert.reminder", "grid_workers", world["gridA1"], 2),
        ("alert.reminder", "grid_workers", world["gridA1"], 3),
        ("alert.escalation", "branch_secretaries", world["branchA"], 1),
    ]


def test_each_stage_reminds_its_holder_and_escalates_upward(client, world, database, clock):
    oid = place(client, world)["id"]
    act(client, world, "workerA1", oid, "claim")
    clock.advance(hours=48, minutes=1)
    sweep(database, now=clock())
    assert alerts(database, oid)[-2:] == [("dispatch", "reminder", 3, "branch_secretaries"),
                                          ("dispatch", "escalation", 1, "town_admins")]
    act(client, world, "secA", oid, "dispatch", {"member_id": world["memberA1"]})
    clock.advance(hours=4, minutes=1)
    sweep(database, now=clock())
    assert alerts(database, oid)[-1] == ("accept", "reminder", 1, "assignee")
    assert notices(database)[-1] == ("alert.reminder", "assignee", world["memberA1"], 1)
    clock.advance(hours=4)
    sweep(database, now=clock())
    assert alerts(database, oid)[-1] == ("accept", "escalation", 1, "branch_secretaries")


def test_a_stage_entered_again_is_reminded_again(client, world, database, clock):
    oid = place(client, world)["id"]
    to_state(client, world, oid, "dispatched")
    clock.advance(hours=4, minutes=1)
    sweep(database, now=clock())
    act(client, world, "memberA1", oid, "decline", {"reason": "不在村里"})
    act(client, world, "secA", oid, "dispatch", {"member_id": world["memberA2"]})
    clock.advance(hours=4, minutes=1)
    sweep(database, now=clock())
    accept_reminders = [a for a in alerts(database, oid) if a[0] == "accept"]
    assert accept_reminders == [("accept", "reminder", 1, "assignee")] * 2
    assert notices(database)[-1] == ("alert.reminder", "assignee", world["memberA2"], 1)


def test_a_move_in_time_raises_nothing(client, world, database, clock):
    oid = place(client, world)["id"]
    clock.advance(hours=1)
    act(client, world, "workerA1", oid, "claim")
    clock.advance(hours=1, minutes=30)  # past the claim limit, but the stage was left in time
    assert sweep(database, now=clock()).alerts == 0
    assert alerts(database) == []


def test_rating_stage_reminds_the_resident_then_closes_by_default(client, world, database, clock):
    oid = place(client, world)["id"]
    to_state(client, world, oid, "completed")
    clock.advance(days=3, hours=13)
    sweep(database, now=clock())
    assert alerts(database, oid)[-1] == ("rate", "reminder", 1, "resident")
    clock.advance(days=4)
    report = sweep(database, now=clock())
    assert report.auto_closed == 1
    order = get(client, world, "res1", oid)
    assert (order["state"], order["rating"]) == ("closed", {"stars": None, "comment": None, "source": "default"})
    last = order["timeline"][-1]
    assert (last["action"], last["actor_role"], last["action_label"]) == ("auto_close", "system", "超时自动办结")
    assert sweep(database, now=clock() + timedelta(days=30)).examined == 0


def test_auto_close_can_be_turned_off(client, world, database, clock):
    oid = place(client, world)["id"]
    to_state(client, world, oid, "completed")
    clock.advance(days=30)
    report = sweep(database, now=clock(), auto_close=False)
    assert report.auto_closed == 0 and get(client, world, "res1", oid)["state"] == "completed"


def test_the_sweep_reads_only_what_is_due(client, world, database, clock):
    for _ in range(20):
        place(client, world)
    clock.advance(hours=1)
    due = [place(client, world)["id"] for _ in range(3)]
    with database.session(write=True) as db:  # three orders of an urgent category, already due
        for order in db.exec(select(Order).where(col(Order.id).in_(due))).all():
            order.next_alert_at = clock() - timedelta(minutes=1)
            db.add(order)
        db.commit()
    report = sweep(database, now=clock())
    assert report.examined == 3


def _at_once(n, call):
    barrier = threading.Barrier(n)
    results = []

    def run():
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("per_transaction", [200, 4])
def test_concurrent_sweeps_raise_each_alert_once(client, world, database, clock, per_transaction):
    ids = [place(client, world)["id"] for _ in range(30)]
    clock.advance(hours=5)
    reports = _at_once(3, lambda: sweep(database, now=clock(), per_transaction=per_transaction))
    assert sum(r.failed for r in reports) == 0
    # Each order: the latest reminder round (3) and the escalation, each once, across all sweeps.
    assert sum(r.alerts for r in reports) == 2 * len(ids)
    assert len(alerts(database)) == 2 * len(ids)
    assert len(notices(database)) == 2 * len(ids)
    assert sorted(order for r in reports for order, _, _ in r.raised) == sorted(ids * 2)


def test_concurrent_sweeps_auto_close_each_order_once(client, world, database, clock):
    closing = [place(client, world)["id"] for _ in range(4)]
    reminded = [place(client, world)["id"] for _ in range(4)]
    for oid in closing:
        to_state(client, world, oid, "completed")
    clock.advance(days=8)  # rating period over for `closing`; `reminded` are long past their claim limit
    reports = _at_once(3, lambda: sweep(database, now=clock(), per_transaction=3))
    assert sum(r.failed for r in reports) == 0
    assert sum(r.auto_closed for r in reports) == len(closing)
    assert sum(r.alerts for r in reports) == len(closing) + 2 * len(reminded)  # rate reminder; reminder 3 + escalation
    with database.session() as db:
        closes = db.exec(select(OrderEvent.order_id, func.count()).where(OrderEvent.action == "auto_close")
                         .group_by(col(OrderEvent.order_id))).all()
        states = set(db.exec(select(Order.state).where(col(Order.id).in_(closing))).all())
    assert sorted(closes) == [(oid, 1) for oid in closing] and states == {"closed"}
    assert sweep(database, now=clock()).examined == 0


def test_a_batch_skips_an_order_locked_elsewhere_instead_of_waiting(client, world, database, clock):
    if database.is_sqlite:
        pytest.skip("SQLite has no row locks: its writers take turns")
    locked, free = place(client, world)["id"], place(client, world)["id"]
    clock.advance(hours=2, minutes=5)
    with database.session(write=True) as holder:  # a move of `locked` in flight
        holder.exec(select(Order).where(Order.id == locked).with_for_update())
        report = sweep(database, now=clock())
        assert (report.examined, report.alerts, report.failed) == (2, 1, 0)
        assert [order for order, _, _ in report.raised] == [free]
    assert [order for order, _, _ in sweep(database, now=clock()).raised] == [locked]
    assert len(alerts(database)) == 2


def test_a_batch_writes_the_notice_a_single_order_writes(client, world, database, clock):
    batched, single = place(client, world)["id"], place(client, world)["id"]
    clock.advance(hours=2, minutes=5)
    with database.session(write=True) as db:  # one order alone, the auto-close path: write_notice
        assert sweep_order(db, single, now=clock(), auto_close=True) == [("reminder", 1)]
    assert sweep(database, now=clock()).raised == [(batched, "reminder", 1)]  # the other in a batch
    with database.session() as db:
        rows = {m.order_id: m for m in db.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == "alert.reminder"))}

    def comparable(m):
        return ({k: v for k, v in m.model_dump().items() if k not in ("id", "order_id", "payload")},
                {k: v for k, v in m.payload.items() if k != "order_id"}, m.payload["order_id"] == m.order_id)

    assert comparable(rows[batched]) == comparable(rows[single])
    assert rows[batched].next_attempt_at == clock() and rows[batched].status == "pending"


def test_an_interrupted_sweep_sends_nothing_twice(client, world, database, clock):
    ids = [place(client, world)["id"] for _ in range(12)]
    clock.advance(hours=2, minutes=5)

    class Killed(BaseException):
        pass

    def kill_at_the_sixth(order_id, seen=[]):  # noqa: B006  (counts across calls)
        seen.append(order_id)
        if len(seen) == 6:
            raise Killed

    # Batches of 4: the first commits; the second dies in the middle, before its commit.
    with pytest.raises(Killed):
        sweep(database, now=clock(), per_transaction=4, after_each=kill_at_the_sixth)
    assert len(alerts(database)) == 4 and len(notices(database)) == 4
    rerun = sweep(database, now=clock(), per_transaction=4)
    assert rerun.alerts == len(ids) - 4
    assert sorted(a[0] for a in notices(database)) == ["alert.reminder"] * len(ids)
    with database.session() as db:
        per_order = db.exec(select(StageAlert.order_id, func.count()).group_by(col(StageAlert.order_id))).all()
    assert all(n == 1 for _, n in per_order) and len(per_order) == len(ids)


def test_one_broken_order_does_not_stop_the_pass(client, world, database, clock):
    good, bad = place(client, world)["id"], place(client, world)["id"]
    with database.session(write=True) as db:
        broken = db.get(Order, bad)
        broken.state = "not-a-state"  # corrupt on purpose
        db.add(broken)
        db.commit()
    clock.advance(hours=3)
    report = sweep(database, now=clock())
    assert (report.failed, report.alerts) == (1, 1)
    assert alerts(database, good)
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == bad)).one() == 1


class AlertRefusal:
    """A trigger that makes the database refuse the alerts of one order: a row-level failure."""

    def __init__(self, database) -> None:
        self.database = database
        self.active = False

    def refuse(self, order_id: int) -> None:
        with self.database.engine.begin() as connection:
            if self.database.is_sqlite:
                connection.exec_driver_sql(
                    "CREATE TRIGGER refuse_alerts BEFORE INSERT ON stage_alerts "
                    f"WHEN NEW.order_id = {int(order_id)} BEGIN SELECT RAISE(ABORT, 'refused'); END")
            else:
                connection.exec_driver_sql(
                    "CREATE FUNCTION refuse_alerts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.order_id = {int(order_id)} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$")
                connection.exec_driver_sql("CREATE TRIGGER refuse_alerts BEFORE INSERT ON stage_alerts "
                                           "FOR EACH ROW EXECUTE FUNCTION refuse_alerts()")
        self.active = True

    def allow(self) -> None:
        with self.database.engine.begin() as connection:
            if self.database.is_sqlite:
                connection.exec_driver_sql("DROP TRIGGER refuse_alerts")
            else:
                connection.exec_driver_sql("DROP TRIGGER refuse_alerts ON stage_alerts")
                connection.exec_driver_sql("DROP FUNCTION refuse_alerts()")
        self.active = False


@pytest.fixture
def refusal(database):
    refusal = AlertRefusal(database)
    yield refusal
    if refusal.active:  # the schema outlives the test: leave no trigger behind
        refusal.allow()


def test_an_order_the_database_refuses_is_rolled_back_alone(client, world, database, clock, refusal):
    ids = [place(client, world)["id"] for _ in range(5)]
    bad = ids[2]
    refusal.refuse(bad)
    clock.advance(hours=2, minutes=5)
    report = sweep(database, now=clock())  # one batch: its writes are refused, then made order by order
    assert (report.examined, report.alerts, report.failed) == (5, 4, 1)
    assert sorted(order for order, _, _ in report.raised) == sorted(set(ids) - {bad})
    assert len(notices(database)) == 4
    with database.session() as db:
        assert db.get(Order, bad).next_alert_at is not None  # left due: the next sweep tries again
    refusal.allow()
    rerun = sweep(database, now=clock())
    assert [order for order, _, _ in rerun.raised] == [bad] and len(notices(database)) == 5

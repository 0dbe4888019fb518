"""The rules without a database: the transition table exhaustively, deadlines, ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from domain.deadlines import DEFAULT_LIMITS, Stage, StageLimits, overdue_seconds, stage_deadline
from domain.errors import InvalidTransition, NotPermitted, RuleViolation
from domain.notices import Audience, audiences
from domain.rating import rating_action
from domain.roles import Role
from domain.states import STATE_LABELS, OrderState, Urgency
from domain.transitions import TRANSITIONS, Action, allowed_actions, plan

S, A, R = OrderState, Action, Role

# DOMAIN.md's table, written out independently of domain/transitions.py.
EXPECTED = {
    (None, A.SUBMIT): (S.SUBMITTED, {R.RESIDENT, R.GRID_WORKER, R.MEMBER, R.SECRETARY, R.TOWN_ADMIN,
                                     R.CITY_PLATFORM}),
    (S.SUBMITTED, A.CLAIM): (S.CLAIMED, {R.GRID_WORKER}),
    (S.SUBMITTED, A.TRANSFER): (S.SUBMITTED, {R.GRID_WORKER}),
    (S.SUBMITTED, A.REJECT): (S.REJECTED, {R.GRID_WORKER}),
    (S.SUBMITTED, A.CANCEL): (S.CANCELLED, {R.RESIDENT}),
    (S.CLAIMED, A.CANCEL): (S.CANCELLED, {R.RESIDENT}),
    (S.CLAIMED, A.DISPATCH): (S.DISPATCHED, {R.SECRETARY}),
    (S.DISPATCHED, A.DECLINE): (S.CLAIMED, {R.MEMBER}),
    (S.DISPATCHED, A.ACCEPT): (S.IN_PROGRESS, {R.MEMBER}),
    (S.IN_PROGRESS, A.COMPLETE): (S.COMPLETED, {R.MEMBER}),
    (S.COMPLETED, A.RATE): (S.CLOSED, {R.RESIDENT, R.GRID_WORKER}),
    (S.COMPLETED, A.REOPEN): (S.CLAIMED, {R.RESIDENT, R.GRID_WORKER}),
    (S.COMPLETED, A.AUTO_CLOSE): (S.CLOSED, {R.SYSTEM}),
    # 吹哨报到: the order waits for its units, then goes to be rated or back to the branch.
    (S.CLAIMED, A.WHISTLE): (S.WHISTLED, {R.SECRETARY, R.TOWN_ADMIN}),
    (S.WHISTLED, A.WHISTLE): (S.WHISTLED, {R.SECRETARY, R.TOWN_ADMIN}),
    (S.WHISTLED, A.UNITS_DONE): (S.COMPLETED, {R.SYSTEM}),
    (S.WHISTLED, A.UNITS_RETURNED): (S.CLAIMED, {R.SYSTEM}),
    # 揭榜: the order stays claimed on the task board, until a volunteer takes it or the window ends.
    (S.CLAIMED, A.POST_TASK): (S.CLAIMED, {R.SECRETARY}),
    (S.CLAIMED, A.VOLUNTEER): (S.CLAIMED, {R.MEMBER}),
    (S.CLAIMED, A.TAKE_TASK): (S.DISPATCHED, {R.MEMBER}),
    (S.CLAIMED, A.TASK_EXPIRED): (S.CLAIMED, {R.SYSTEM}),
}
ROLES_BY_ACTION = {}
for (_, action), (_, roles) in EXPECTED.items():
    ROLES_BY_ACTION.setdefault(action, set()).update(roles)


@pytest.mark.parametrize(
    "state,action,role", list(product([None, *OrderState], list(Action), list(Role)))
)
def test_every_state_action_role(state, action, role):
    expected = EXPECTED.get((state, action))
    # A unit's moves on its whistle (report_in, …) are no order's: nobody plans them here.
    if role not in ROLES_BY_ACTION.get(action, set()):
        with pytest.raises(NotPermitted):
            plan(state, action, role)
    elif expected is None:
        with pytest.raises(InvalidTransition) as refused:
            plan(state, action, role)
        assert refused.value.current_state == (state.value if state else None)
        assert refused.value.allowed_actions == allowed_actions(state, role)
    elif role not in expected[1]:
        with pytest.raises(NotPermitted):
            plan(state, action, role)
    else:
        transition = plan(state, action, role)
        assert (transition.source, transition.action, transition.target) == (state, action, expected[0])


def test_table_has_exactly_the_documented_rows():
    assert {(t.source, t.action): (t.target, set(t.roles)) for t in TRANSITIONS} == EXPECTED


def test_terminal_states_allow_nothing():
    for state in (S.CLOSED, S.REJECTED, S.CANCELLED):
        assert state.is_terminal
        assert allowed_actions(state) == []


def test_allowed_actions_hide_system_and_derived_moves():
    assert allowed_actions(S.COMPLETED) == ["rate"]
    assert allowed_actions(S.SUBMITTED) == ["cancel", "claim", "reject", "transfer"]
    assert allowed_actions(S.SUBMITTED, Role.RESIDENT) == ["cancel"]
    assert allowed_actions(S.DISPATCHED, Role.MEMBER) == ["accept", "decline"]


def test_refusal_names_state_label_and_allowed_actions():
    with pytest.raises(InvalidTransition) as refused:
        plan(S.CLAIMED, A.CLAIM, R.GRID_WORKER)
    ext = refused.value.extensions()
    assert ext == {
        "action": "claim",
        "current_state": "claimed",
        "current_state_label": "待派单",
        "allowed_actions": [],  # a grid worker has nothing to do to a claimed order
    }


def test_every_state_has_a_chinese_label():
    assert STATE_LABELS == {
        S.SUBMITTED: "待领单", S.CLAIMED: "待派单", S.DISPATCHED: "待接单", S.IN_PROGRESS: "办理中",
        S.COMPLETED: "待评价", S.CLOSED: "已办结", S.REJECTED: "不予受理", S.CANCELLED: "已撤单",
            S.WHISTLED: "部门办理中",
    }


@pytest.mark.parametrize(
    "stars,reopens,expected",
    [
        (1, 0, A.REOPEN), (2, 0, A.REOPEN), (2, 1, A.REOPEN), (1, 2, A.RATE), (2, 2, A.RATE),
        (3, 0, A.RATE), (4, 0, A.RATE), (5, 1, A.RATE),
    ],
)
def test_low_rating_reopens_twice_then_closes(stars, reopens, expected):
    assert rating_action(stars, reopens) == expected


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_stars_out_of_range_are_refused(stars):
    with pytest.raises(RuleViolation):
        rating_action(stars, 0)


T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "state,urgency,hours",
    [
        (S.SUBMITTED, Urgency.NORMAL, 2), (S.CLAIMED, Urgency.NORMAL, 24), (S.DISPATCHED, Urgency.NORMAL, 4),
        (S.IN_PROGRESS, Urgency.NORMAL, 72), (S.IN_PROGRESS, Urgency.URGENT, 24),
        (S.COMPLETED, Urgency.NORMAL, 7 * 24),
    ],
)
def test_default_limits_match_the_domain(state, urgency, hours):
    assert stage_deadline(state, T0, DEFAULT_LIMITS, urgency) == T0 + timedelta(hours=hours)


def test_terminal_states_have_no_deadline():
    for state in (S.CLOSED, S.REJECTED, S.CANCELLED):
        assert stage_deadline(state, T0, DEFAULT_LIMITS, Urgency.NORMAL) is None


def test_limits_per_category():
    limits = StageLimits(claim=30)
    assert limits.minutes(Stage.CLAIM) == 30
    assert stage_deadline(S.SUBMITTED, T0, limits, Urgency.URGENT) == T0 + timedelta(minutes=30)


def test_overdue_seconds():
    deadline = T0 + timedelta(hours=1)
    assert overdue_seconds(deadline, T0) == 0
    assert overdue_seconds(deadline, deadline) == 0
    assert overdue_seconds(deadline, deadline + timedelta(minutes=5)) == 300
    assert overdue_seconds(None, T0) == 0


def test_each_move_tells_someone():
    for transition in TRANSITIONS:
        assert audiences(transition.source, transition.action), transition
    assert audiences(S.CLAIMED, A.DISPATCH) == (Audience.ASSIGNEE, Audience.ACTION_TEAM, Audience.RESIDENT)


def test_percentile_of_a_histogram():
    from domain.stats import bucket_of, percentile

    assert percentile({}, 0.9) is None
    zeros = {bucket_of(0): 10}
    assert percentile(zeros, 0.9, {bucket_of(0): 0}) == 0
    # 100 durations of 1..100 minutes: the 90th is near 90 minutes.
    buckets, sums = {}, {}
    for minutes in range(1, 101):
        b = bucket_of(minutes * 60)
        buckets[b] = buckets.get(b, 0) + 1
        sums[b] = sums.get(b, 0) + minutes * 60
    assert 80 * 60 <= percentile(buckets, 0.9, sums) <= 100 * 60


def test_each_door_is_for_those_who_place_through_it():
    from domain.channels import PLACED_BY, Channel, placing_channel

    assert placing_channel(R.RESIDENT, "hall") == Channel.MINI_PROGRAM
    assert placing_channel(R.MEMBER, None) == placing_channel(R.MEMBER, "mini_program") == Channel.VISIT
    assert placing_channel(R.SECRETARY, "hall") == Channel.HALL
    # Every role that may submit has a door, and every door's placers may submit.
    submitters = EXPECTED[(None, A.SUBMIT)][1]
    assert set().union(*PLACED_BY.values()) == submitters
    assert R.SECRETARY not in PLACED_BY[Channel.VISIT] | PLACED_BY[Channel.PHONE]

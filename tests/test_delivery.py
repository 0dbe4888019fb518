"""Notification delivery against stand-in servers on real loopback sockets.

Outbox rows come from moving orders through the API, or are written directly; a
Dispatcher built here with the channels under test delivers them (`run_once`), and the
tests' movable clock reaches retry times. The WeChat stand-in is tests/wechat_standin.py;
the WeCom robot and the webhook receiver are in tests/notify_standins.py. No httpx
patching: every HTTP request crosses a socket.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from notifications.base import Notice, Outcome
from notifications.dispatcher import Dispatcher, RetryPolicy
from notifications.inapp import InAppChannel
from notifications.webhook import WebhookChannel
from notifications.wechat_subscribe import WeChatSubscribeChannel
from notifications.wecom import MARKDOWN_MAX_BYTES, WeComRobotChannel, fit_bytes
from storage.models import (
    Branch,
    Delivery,
    Grid,
    GridWorkerGrid,
    InboxItem,
    OutboxMessage,
    Resident,
    Staff,
)
from tests.helpers import act, place
from tests.notify_standins import WebhookReceiver, WeComRobotStandIn
from tests.wechat_standin import WeChatStandIn
from infra.wechat import WeChatClient

TIMEOUT = 0.5
SLOW = 1.5  # how long a "slow" stand-in answer takes: past TIMEOUT
APPID, SECRET = "wx-test-app", "wx-test-secret"
HOOK_SECRET = "hook-secret-0123456789abcdef"
SEND = "/cgi-bin/message/subscribe/send"
TOKEN = "/cgi-bin/stable_token"
ROBOT = "/cgi-bin/webhook/send"
TEMPLATES = {
    "order.claim": {
        "template_id": "TPL1",
        "page": "pages/order/detail?id={order_id}",
        "data": {"thing1": "{summary}", "phrase2": "{state_label}", "character_string3": "{order_id}",
                 "time4": "{time}"},
    }
}
LONG_DESCRIPTION = "村口那盏路灯已经整整三天不亮了晚上老人孩子出门很不方便请尽快派人修理"


# -- stand-ins and channels ------------------------------------------------------------------


@pytest.fixture
def wechat():
    with WeChatStandIn(APPID, SECRET, slow_seconds=SLOW) as standin:
        yield standin


@pytest.fixture
def wecom():
    with WeComRobotStandIn(keys={"K1", "B1"}, slow_seconds=SLOW) as standin:
        yield standin


@pytest.fixture
def receiver():
    with WebhookReceiver(slow_seconds=SLOW) as standin:
        yield standin


@pytest.fixture
def closing():
    """Register httpx-owning channels and clients; closed at teardown."""
    things = []

    def register(thing):
        things.append(thing)
        return thing

    yield register
    for thing in things:
        thing.close()


@pytest.fixture
def wechat_channel(database, clock, wechat, closing):
    def make(templates=TEMPLATES) -> WeChatSubscribeChannel:
        client = closing(WeChatClient(wechat.url, APPID, SECRET, timeout=TIMEOUT))
        return WeChatSubscribeChannel(database, client, templates, clock=clock)
    return make


@pytest.fixture
def wecom_channel(database, wecom, closing):
    return lambda: closing(WeComRobotChannel(database, wecom.url, timeout=TIMEOUT))


@pytest.fixture
def webhook_channel(receiver, closing):
    def make(timeout: float = TIMEOUT) -> WebhookChannel:
        return closing(WebhookChannel(receiver.url + "/hooks/wudan", HOOK_SECRET, timeout=timeout))
    return make


def dispatcher(database, clock, *channels, **policy) -> Dispatcher:
    policy.setdefault("backoff_seconds", 30)
    return Dispatcher(database, list(channels), RetryPolicy(**policy), clock)


# -- database helpers -------------------------------------------------------------------------


def rows(database, model, *where) -> list:
    with database.session() as db:
        return list(db.exec(select(model).where(*where).order_by(col(model.id))).all())


def one(database, model, *where):
    [row] = rows(database, model, *where)
    return row


def outbox_of(database, delivery: Delivery) -> OutboxMessage:
    with database.session() as db:
        return db.get(OutboxMessage, delivery.outbox_id)


def set_row(database, model, row_id, **values) -> None:
    with database.session(write=True) as db:
        db.execute(update(model).where(col(model.id) == row_id).values(**values))
        db.commit()


def write_outbox(database, clock, n: int, *, kind="order.submit", audience="grid_workers", audience_id: int,
                 payload: dict | None = None) -> list[int]:
    """`n` outbox rows written directly, as a transition would."""
    ids = []
    with database.session(write=True) as db:
        for i in range(n):
            row = OutboxMessage(kind=kind, audience=audience, audience_id=audience_id,
                                payload={"summary": f"第{i}条", "state_label": "待领单", **(payload or {})},
                                next_attempt_at=clock(), created_at=clock())
            db.add(row)
            db.flush()
            ids.append(row.id)
        db.commit()
    return ids


_PHONES = itertools.count(1)


def add_staff(database, clock, world, name: str, role: str, *, branch=None, grids=(), active=True) -> int:
    with database.session(write=True) as db:
        staff = Staff(town_id=world["town"], branch_id=world[branch] if branch else None, role=role, name=name,
                      phone=f"1361111{next(_PHONES):04d}", password_hash="x", active=active,
                      created_at=clock())
        db.add(staff)
        db.flush()
        for grid in grids:
            db.add(GridWorkerGrid(staff_id=staff.id, grid_id=world[grid]))
        db.commit()
        return staff.id


def placed_and_claimed(client, world, who="res1", description="村口路灯不亮") -> int:
    order_id = place(client, world, who, description=description)["id"]
    act(client, world, "workerA1", order_id, "claim")
    return order_id


# -- 1. in-app ------------------------------------------------------------------------------------


def test_inapp_puts_one_item_in_the_grid_workers_inbox_once(client, world, database, clock):
    order_id = place(client, world)["id"]
    loop = dispatcher(database, clock, InAppChannel(database, clock))

    report = loop.run_once()
    assert (report.fanned_out, report.attempted, report.by_status) == (1, 1, {"sent": 1})
    [item] = rows(database, InboxItem)
    assert (item.user_kind, item.user_id) == ("staff", world["workerA1"])
    assert (item.kind, item.order_id, item.read_at) == ("order.submit", order_id, None)
    assert item.title.startswith("新的群众点单")
    assert f"工单 #{order_id}" in item.body and "村口路灯不亮" in item.body and "待领单" in item.body
    delivery = one(database, Delivery)
    assert (delivery.channel, delivery.status, delivery.attempts) == ("inapp", "sent", 1)
    assert delivery.sent_at == clock() and delivery.lease_until is None
    assert one(database, OutboxMessage).status == "dispatched"

    # Again: nothing new to fan out or deliver, nothing added.
    clock.advance(days=1)
    report = loop.run_once()
    assert (report.fanned_out, report.attempted) == (0, 0)
    assert len(rows(database, InboxItem)) == 1

    # A redelivery (say, after a crash between sending and recording) adds nothing either.
    set_row(database, Delivery, delivery.id, status="pending")
    assert loop.run_once().by_status == {"sent": 1}
    assert len(rows(database, InboxItem)) == 1
    assert one(database, Delivery).attempts == 2


def test_inapp_secretary_notice_reaches_the_active_secretaries_of_the_branch_only(client, world, database, clock):
    retired = add_staff(database, clock, world, "退休书记", "secretary", branch="branchA", active=False)
    order_id = placed_and_claimed(client, world)
    dispatcher(database, clock, InAppChannel(database, clock)).run_once()

    got = {(i.kind, i.user_kind, i.user_id) for i in rows(database, InboxItem)}
    assert got == {
        ("order.submit", "staff", world["workerA1"]),
        ("order.claim", "resident", world["res1"]),
        ("order.claim", "staff", world["secA"]),
    }
    assert not {u for _, _, u in got} & {world["secB"], retired}
    claim_to_resident = one(database, InboxItem, InboxItem.user_kind == "resident")
    assert claim_to_resident.title == "您的诉求已被网格领单" and claim_to_resident.order_id == order_id
    assert {d.status for d in rows(database, Delivery)} == {"sent"}
    assert len(rows(database, Delivery)) == 3


def test_inapp_a_disabled_staff_member_gets_nothing(client, world, database, clock):
    substitute = add_staff(database, clock, world, "代班网格员", "grid_worker", grids=("gridA1",))
    set_row(database, Staff, world["workerA1"], active=False)
    place(client, world)
    loop = dispatcher(database, clock, InAppChannel(database, clock))
    loop.run_once()
    assert [(i.user_kind, i.user_id) for i in rows(database, InboxItem)] == [("staff", substitute)]

    # With nobody left who can sign in, the delivery is skipped, not retried.
    set_row(database, Staff, substitute, active=False)
    place(client, world)
    loop.run_once()
    assert len(rows(database, InboxItem)) == 1
    assert [d.status for d in rows(database, Delivery)] == ["sent", "skipped"]


def test_inapp_titles_speak_to_their_audience(client, world, database, clock):
    """At db9925c texts.title() chose by kind only: secretaries were told 您的诉求已被网格领单
    (the resident's words) of a claim, and the resident 支部派单给您 (the member's) of a dispatch."""
    order_id = placed_and_claimed(client, world)
    act(client, world, "secA", order_id, "dispatch", {"member_id": world["memberA1"]})
    dispatcher(database, clock, InAppChannel(database, clock)).run_once()
    titles = {(i.kind, i.user_kind, i.user_id): i.title for i in rows(database, InboxItem)}
    assert titles[("order.dispatch", "staff", world["memberA1"])] == "支部派单给您"
    assert not titles[("order.claim", "staff", world["secA"])].startswith("您的诉求")
    assert titles[("order.dispatch", "resident", world["res1"])] != "支部派单给您"


# -- 2. WeChat subscribe messages ----------------------------------------------------------------------


def test_wechat_claim_sends_one_subscribe_message_cut_to_wechat_limits(client, world, database, clock, wechat,
                                                                         wechat_channel):
    assert len(LONG_DESCRIPTION) > 20
    order_id = placed_and_claimed(client, world, description=LONG_DESCRIPTION)
    report = dispatcher(database, clock, wechat_channel()).run_once()

    # Three outbox rows (submit → grid workers; claim → resident, secretaries): only the
    # resident's, of a kind with a template, goes through WeChat.
    assert len(rows(database, OutboxMessage)) == 3
    delivery = one(database, Delivery)
    assert (outbox_of(database, delivery).audience, outbox_of(database, delivery).kind) == ("resident", "order.claim")
    assert (report.attempted, delivery.channel, delivery.status, delivery.attempts) == (1, "wechat", "sent", 1)

    [token_call] = wechat.calls(TOKEN)
    assert token_call.body["force_refresh"] is False
    [send] = wechat.calls(SEND)
    assert send.method == "POST" and send.query == {"access_token": wechat.current_token}
    assert send.headers["content-type"].startswith("application/json")
    assert send.body == {
        "touser": "openid-res1",
        "template_id": "TPL1",
        "page": f"pages/order/detail?id={order_id}",
        "data": {
            "thing1": {"value": LONG_DESCRIPTION[:20]},
            "phrase2": {"value": "待派单"},
            "character_string3": {"value": str(order_id)},
            "time4": {"value": "2026-11-20 09:00"},  # 01:00 UTC in Asia/Shanghai
        },
        "miniprogram_state": "formal",
        "lang": "zh_CN",
    }
    assert wechat.subscribe_messages == [send.body]


def test_wechat_values_of_every_type_are_cut_to_their_limits(client, world, database, clock, wechat, wechat_channel):
    templates = {"order.claim": {"template_id": "TPL2", "data": {
        "phrase1": "{category}", "name2": "{summary}", "thing3": "{title}：{summary}", "thing4": "{no_such_key}"}}}
    placed_and_claimed(client, world, description=LONG_DESCRIPTION)
    dispatcher(database, clock, wechat_channel(templates)).run_once()
    [message] = wechat.subscribe_messages  # the stand-in answers 47003 to any value over its limit
    assert message["data"] == {
        "phrase1": {"value": "基础设施维"},  # 基础设施维修, 6 characters: phrase ≤ 5
        "name2": {"value": LONG_DESCRIPTION[:10]},
        "thing3": {"value": ("您的诉求已被网格领单：" + LONG_DESCRIPTION)[:20]},
        "thing4": {"value": ""},
    }
    assert "page" not in message
    assert one(database, Delivery).status == "sent"


def test_wechat_access_token_is_cached_across_sends(client, world, database, clock, wechat, wechat_channel):
    placed_and_claimed(client, world, "res1")
    placed_and_claimed(client, world, "res2")
    report = dispatcher(database, clock, wechat_channel()).run_once()
    assert report.by_status == {"sent": 2}
    assert len(wechat.calls(TOKEN)) == 1
    sends = wechat.calls(SEND)
    assert sorted(s.body["touser"] for s in sends) == ["openid-res1", "openid-res2"]
    assert {s.query["access_token"] for s in sends} == {wechat.current_token}


def test_wechat_expired_token_is_refreshed_within_the_same_attempt(client, world, database, clock, wechat,
                                                                   wechat_channel):
    loop = dispatcher(database, clock, wechat_channel())
    placed_and_claimed(client, world, "res1")
    loop.run_once()
    first = wechat.current_token

    wechat.expire_token()
    placed_and_claimed(client, world, "res2")
    report = loop.run_once()
    assert report.by_status == {"sent": 1}
    assert [c.body["force_refresh"] for c in wechat.calls(TOKEN)] == [False, True]
    second = wechat.current_token
    assert second != first
    assert [(s.body["touser"], s.query["access_token"]) for s in wechat.calls(SEND)] == [
        ("openid-res1", first), ("openid-res2", first), ("openid-res2", second)]
    assert [m["touser"] for m in wechat.subscribe_messages] == ["openid-res1", "openid-res2"]
    assert [(d.status, d.attempts) for d in rows(database, Delivery)] == [("sent", 1), ("sent", 1)]


def test_wechat_not_subscribed_is_refused_and_never_retried(client, world, database, clock, wechat, wechat_channel):
    wechat.subscribe_openids["openid-res1"] = 43101
    placed_and_claimed(client, world)
    loop = dispatcher(database, clock, wechat_channel())
    assert loop.run_once().by_status == {"refused": 1}
    delivery = one(database, Delivery)
    assert (delivery.status, delivery.attempts, delivery.lease_until) == ("refused", 1, None)
    assert "43101" in delivery.last_error

    clock.advance(days=1)
    assert loop.run_once().attempted == 0
    assert len(wechat.calls(SEND)) == 1
    assert wechat.subscribe_messages == []
    assert one(database, Delivery).attempts == 1


def test_wechat_bad_template_data_is_dead(client, world, database, clock, wechat, wechat_channel):
    wechat.fail_next_subscribes(1, 47003)
    placed_and_claimed(client, world)
    loop = dispatcher(database, clock, wechat_channel())
    assert loop.run_once().by_status == {"dead": 1}
    delivery = one(database, Delivery)
    assert delivery.status == "dead" and "47003" in delivery.last_error
    clock.advance(days=1)
    loop.run_once()
    assert len(wechat.calls(SEND)) == 1 and wechat.subscribe_messages == []


@pytest.mark.parametrize("how", [-1, 45011, "http500", "not_json", "slow"])
def test_wechat_transient_failures_are_retried_after_the_backoff(client, world, database, clock, wechat,
                                                                 wechat_channel, how):
    wechat.fail_next_subscribes(1, how)
    placed_and_claimed(client, world)
    loop = dispatcher(database, clock, wechat_channel())
    t0 = clock()
    assert loop.run_once().by_status == {"retry": 1}
    delivery = one(database, Delivery)
    assert (delivery.status, delivery.attempts) == ("retry", 1)
    assert delivery.next_attempt_at == t0 + timedelta(seconds=30)
    assert delivery.last_error

    clock.advance(seconds=29)
    assert loop.run_once().attempted == 0
    assert len(wechat.calls(SEND)) == 1

    clock.advance(seconds=1)
    assert loop.run_once().by_status == {"sent": 1}
    delivery = one(database, Delivery)
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 2, clock())
    assert len(wechat.calls(SEND)) == 2
    assert [m["touser"] for m in wechat.subscribe_messages] == ["openid-res1"]


def test_wechat_development_openid_is_skipped_without_calling_wechat(client, world, database, clock, wechat,
                                                                     wechat_channel):
    set_row(database, Resident, world["res1"], openid="dev:13900001111")
    placed_and_claimed(client, world)
    assert dispatcher(database, clock, wechat_channel()).run_once().by_status == {"skipped": 1}
    assert one(database, Delivery).status == "skipped"
    assert wechat.requests == []


# -- 3. WeCom group robots ----------------------------------------------------------------------


def set_robot_keys(database, world, **keys) -> None:
    for name, key in keys.items():
        set_row(database, Grid if name.startswith("grid") else Branch, world[name], wecom_webhook_key=key)


def test_wecom_posts_markdown_to_the_grid_and_branch_robots(client, world, database, clock, wecom, wecom_channel):
    set_robot_keys(database, world, gridA1="K1", branchA="B1")
    order_id = placed_and_claimed(client, world)
    report = dispatcher(database, clock, wecom_channel()).run_once()

    # grid workers (submit) and secretaries (claim) have robots; the resident's notice has no WeCom delivery.
    assert report.by_status == {"sent": 2}
    assert sorted(outbox_of(database, d).audience for d in rows(database, Delivery)) == [
        "branch_secretaries", "grid_workers"]
    for call in wecom.calls(ROBOT):
        assert call.method == "POST" and call.headers["content-type"].startswith("application/json")
    [to_grid] = wecom.messages("K1")
    [to_branch] = wecom.messages("B1")
    assert to_grid["msgtype"] == "markdown" and set(to_grid) == {"msgtype", "markdown"}
    content = to_grid["markdown"]["content"]
    assert content.startswith("**新的群众点单") and "**\n> " in content
    assert re.search(rf"工单 \\?#{order_id}\b", content)
    assert "村口路灯不亮" in content and "基础设施维修" in content
    assert len(content.encode()) <= MARKDOWN_MAX_BYTES
    branch_content = to_branch["markdown"]["content"]
    assert branch_content.startswith("**") and re.search(rf"工单 \\?#{order_id}\b", branch_content)
    assert "待派单" in branch_content


def test_wecom_content_stays_within_4096_bytes(world, database, clock, wecom, wecom_channel):
    set_robot_keys(database, world, gridA1="K1")
    write_outbox(database, clock, 1, audience_id=world["gridA1"],
                 payload={"summary": "😀" * 40, "note": "很长的说明🙂" * 1500, "category": "类" * 50})
    assert dispatcher(database, clock, wecom_channel()).run_once().by_status == {"sent": 1}
    [message] = wecom.messages("K1")
    assert len(message["markdown"]["content"].encode()) <= MARKDOWN_MAX_BYTES
    # And the cut itself, on text far over the limit: whole characters, within the bytes.
    cut = fit_bytes("工" * 3000, MARKDOWN_MAX_BYTES)
    assert len(cut.encode()) <= MARKDOWN_MAX_BYTES and cut.endswith("…") and set(cut[:-1]) == {"工"}


@pytest.mark.parametrize("how", [45009, "http500", "not_json", "slow"])
def test_wecom_transient_failures_are_retried_and_then_sent(client, world, database, clock, wecom, wecom_channel, how):
    set_robot_keys(database, world, gridA1="K1")
    wecom.fail_next(1, how)
    place(client, world)
    loop = dispatcher(database, clock, wecom_channel())
    t0 = clock()
    assert loop.run_once().by_status == {"retry": 1}
    delivery = one(database, Delivery)
    assert delivery.next_attempt_at == t0 + timedelta(seconds=30)
    if how == 45009:
        assert "45009" in delivery.last_error
    clock.advance(seconds=29)
    assert loop.run_once().attempted == 0
    clock.advance(seconds=1)
    assert loop.run_once().by_status == {"sent": 1}
    assert (one(database, Delivery).status, one(database, Delivery).attempts) == ("sent", 2)
    assert len(wecom.calls(ROBOT)) == 2 and len(wecom.messages("K1")) == 1


def test_wecom_invalid_webhook_is_dead(client, world, database, clock, wecom, wecom_channel):
    set_robot_keys(database, world, gridA1="REVOKED")
    place(client, world)
    loop = dispatcher(database, clock, wecom_channel())
    assert loop.run_once().by_status == {"dead": 1}
    delivery = one(database, Delivery)
    assert delivery.status == "dead" and "93000" in delivery.last_error
    [call] = wecom.calls(ROBOT)
    assert call.query == {"key": "REVOKED"} and call.answer["errcode"] == 93000
    clock.advance(days=1)
    loop.run_once()
    assert len(wecom.calls(ROBOT)) == 1


def test_wecom_grid_without_a_robot_is_skipped(client, world, database, clock, wecom, wecom_channel):
    set_robot_keys(database, world, gridA2="K1")  # another grid's robot
    place(client, world)
    assert dispatcher(database, clock, wecom_channel()).run_once().by_status == {"skipped": 1}
    assert one(database, Delivery).status == "skipped"
    assert wecom.requests == []


# -- 4. the generic webhook -----------------------------------------------------------------------


def signature(raw: bytes) -> str:
    return "sha256=" + hmac.new(HOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()


def test_webhook_posts_signed_json(client, world, database, clock, receiver, webhook_channel):
    order_id = place(client, world)["id"]
    assert dispatcher(database, clock, webhook_channel()).run_once().by_status == {"sent": 1}
    delivery = one(database, Delivery)
    row = outbox_of(database, delivery)
    [request] = receiver.calls()
    assert (request.method, request.path) == ("POST", "/hooks/wudan")
    assert request.headers["content-type"] == "application/json"
    assert hmac.compare_digest(request.headers["x-wudan-signature"], signature(request.raw))
    assert request.headers["x-wudan-delivery"] == str(delivery.id)
    body = json.loads(request.raw)
    assert body["kind"] == "order.submit" and body["order_id"] == order_id and body["id"] == row.id
    assert (body["audience"], body["audience_id"]) == ("grid_workers", world["gridA1"])
    assert body["payload"] == row.payload and body["payload"]["summary"] == "村口路灯不亮"
    assert body["created_at"] == "2026-11-20T01:00:00Z"
    # A signature over anything else does not match.
    assert request.headers["x-wudan-signature"] != signature(request.raw + b" ")


def test_webhook_500_then_success_is_delivered_exactly_once(world, database, clock, receiver, webhook_channel):
    [outbox_id] = write_outbox(database, clock, 1, audience_id=world["gridA1"])
    receiver.fail_next(1, 500)
    loop = dispatcher(database, clock, webhook_channel())
    assert loop.run_once().by_status == {"retry": 1}
    clock.advance(seconds=30)
    assert loop.run_once().by_status == {"sent": 1}
    clock.advance(days=1)
    assert loop.run_once().attempted == 0

    delivery = one(database, Delivery)
    assert (delivery.outbox_id, delivery.status, delivery.attempts) == (outbox_id, "sent", 2)
    first, second = receiver.calls()
    assert (first.status, second.status) == (500, 200)
    assert first.raw == second.raw and first.headers["x-wudan-signature"] == second.headers["x-wudan-signature"]
    assert receiver.delivered() == {str(delivery.id): 1}


@pytest.mark.parametrize(("status", "outcome"), [(400, "dead"), (404, "dead"), (429, "retry"), (503, "retry")])
def test_webhook_client_errors_are_dead_and_busy_answers_retried(world, database, clock, receiver, webhook_channel,
                                                                 status, outcome):
    write_outbox(database, clock, 1, audience_id=world["gridA1"])
    receiver.fail_next(1, status)
    loop = dispatcher(database, clock, webhook_channel())
    assert loop.run_once().by_status == {outcome: 1}
    assert one(database, Delivery).last_error == f"HTTP {status}"
    clock.advance(days=1)
    loop.run_once()
    assert len(receiver.calls()) == (1 if outcome == "dead" else 2)
    assert one(database, Delivery).status == ("dead" if outcome == "dead" else "sent")


def test_webhook_timeout_is_retried(world, database, clock, receiver, webhook_channel):
    write_outbox(database, clock, 1, audience_id=world["gridA1"])
    receiver.fail_next(1, "slow")
    loop = dispatcher(database, clock, webhook_channel())
    assert loop.run_once().by_status == {"retry": 1}
    assert "Timeout" in one(database, Delivery).last_error
    clock.advance(seconds=30)
    assert loop.run_once().by_status == {"sent": 1}


# -- 5. retries and dead letters ----------------------------------------------------------------------


def test_retries_back_off_exponentially_then_dead_letter(world, database, clock, receiver, webhook_channel):
    receiver.always = 503
    write_outbox(database, clock, 1, audience_id=world["gridA1"])
    loop = dispatcher(database, clock, webhook_channel(), max_attempts=3, backoff_seconds=30)
    attempts_seen = []

    def attempt(expected_status):
        assert loop.run_once().by_status == {expected_status: 1}
        d = one(database, Delivery)
        attempts_seen.append(d.attempts)
        return d

    t1 = clock()
    d = attempt("retry")
    assert d.next_attempt_at == t1 + timedelta(seconds=30)

    clock.advance(seconds=29)  # not yet due
    assert loop.run_once().attempted == 0 and len(receiver.calls()) == 1

    clock.advance(seconds=1)
    t2 = clock()
    d = attempt("retry")
    assert d.next_attempt_at == t2 + timedelta(seconds=60)

    clock.advance(seconds=59)
    assert loop.run_once().attempted == 0 and len(receiver.calls()) == 2

    clock.advance(seconds=1)
    d = attempt("dead")
    assert attempts_seen == [1, 2, 3]
    assert d.last_error == "HTTP 503" and d.lease_until is None and d.sent_at is None

    clock.advance(days=7)
    assert loop.run_once().attempted == 0
    assert len(receiver.calls()) == 3
    assert {r.headers["x-wudan-delivery"] for r in receiver.calls()} == {str(d.id)}


def test_backoff_is_capped(world, database, clock, receiver, webhook_channel):
    receiver.always = 503
    write_outbox(database, clock, 1, audience_id=world["gridA1"])
    loop = dispatcher(database, clock, webhook_channel(), max_attempts=10, backoff_seconds=30, cap_seconds=100)
    gaps = []
    for _ in range(4):
        now = clock()
        loop.run_once()
        d = one(database, Delivery)
        gaps.append((d.next_attempt_at - now).total_seconds())
        clock.advance(seconds=gaps[-1])
    assert gaps == [30, 60, 100, 100]


# -- 6. two delivery loops at once; expired leases ---------------------------------------------------


def run_concurrently(*calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait(timeout=5)
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("fan_out_first", [False, True], ids=["run_once", "fanned_out_first"])
def test_two_delivery_loops_send_each_delivery_exactly_once(world, database, clock, receiver, webhook_channel,
                                                            fan_out_first):
    receiver.delay_seconds = 0.2
    ids = write_outbox(database, clock, 20, audience_id=world["gridA1"])
    loops = [dispatcher(database, clock, InAppChannel(database, clock), webhook_channel(timeout=5)) for _ in range(2)]
    if fan_out_first:
        assert loops[0].fan_out() == 20

    reports = run_concurrently(loops[0].run_once, loops[1].run_once)

    deliveries = rows(database, Delivery)
    assert len(deliveries) == 40  # one per outbox row and channel, fanned out once
    assert {(d.status, d.attempts) for d in deliveries} == {("sent", 1)}
    webhook_ids = {str(d.id) for d in deliveries if d.channel == "webhook"}
    assert receiver.delivered() == {i: 1 for i in webhook_ids}
    assert len(receiver.calls()) == 20
    assert sorted(json.loads(r.raw)["id"] for r in receiver.calls()) == ids
    assert sum(r.attempted for r in reports) == 40
    assert sum(r.fanned_out for r in reports) == (0 if fan_out_first else 20)
    if fan_out_first:
        assert all(r.attempted > 0 for r in reports), [r.attempted for r in reports]  # both loops did work
    items = rows(database, InboxItem)
    assert sorted(i.outbox_id for i in items) == ids and {i.user_id for i in items} == {world["workerA1"]}


def test_a_delivery_whose_lease_expired_is_picked_up_again(world, database, clock, receiver, webhook_channel):
    crashed, busy = write_outbox(database, clock, 2, audience_id=world["gridA1"])
    loop = dispatcher(database, clock, webhook_channel(), lease_seconds=60)
    assert loop.fan_out() == 2
    by_outbox = {d.outbox_id: d for d in rows(database, Delivery)}
    # One sender crashed mid-send a while ago; another holds its lease right now.
    set_row(database, Delivery, by_outbox[crashed].id, status="sending", attempts=1,
            lease_until=clock() - timedelta(seconds=1))
    set_row(database, Delivery, by_outbox[busy].id, status="sending", attempts=1,
            lease_until=clock() + timedelta(seconds=60))

    assert loop.run_once().by_status == {"sent": 1}
    assert [r.headers["x-wudan-delivery"] for r in receiver.calls()] == [str(by_outbox[crashed].id)]
    after = {d.outbox_id: d for d in rows(database, Delivery)}
    assert (after[crashed].status, after[crashed].attempts) == ("sent", 2)
    assert (after[busy].status, after[busy].attempts) == ("sending", 1)

    clock.advance(seconds=61)  # the other sender never came back either
    assert loop.run_once().by_status == {"sent": 1}
    assert receiver.delivered() == {str(by_outbox[crashed].id): 1, str(by_outbox[busy].id): 1}


def test_a_sender_that_lost_its_lease_cannot_overwrite_the_outcome(world, database, clock, receiver,
                                                                   webhook_channel):
    write_outbox(database, clock, 1, audience_id=world["gridA1"])
    receiver.fail_next(1, "hold")  # the first request hangs, then fails
    slow = dispatcher(database, clock, webhook_channel(timeout=10), lease_seconds=60)
    fast = dispatcher(database, clock, webhook_channel(timeout=10), lease_seconds=60)
    done = []
    thread = threading.Thread(target=lambda: done.append(slow.run_once()))
    thread.start()
    try:
        assert receiver.wait_for_requests(1)
        assert fast.run_once().attempted == 0  # the lease is held
        clock.advance(seconds=61)  # …until it runs out
        assert fast.run_once().by_status == {"sent": 1}
    finally:
        receiver.release()
        thread.join(timeout=15)
    assert done and done[0].attempted == 1
    delivery = one(database, Delivery)
    # The late failure of the first sender does not turn the sent delivery back into a retry.
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 2, clock())
    assert delivery.last_error is None
    assert [r.status for r in receiver.calls()] == [500, 200]  # in order of arrival
    assert receiver.delivered() == {str(delivery.id): 1}


# -- 7. a channel with a bug -------------------------------------------------------------------------


class Exploding:
    """A channel that raises on one notice and sends the others."""

    name = "exploding"

    def __init__(self, bad_outbox_id: int) -> None:
        self.bad = bad_outbox_id
        self.seen: list[int] = []

    def accepts(self, kind: str, audience: str) -> bool:
        return True

    def deliver(self, notice: Notice) -> Outcome:
        self.seen.append(notice.outbox_id)
        if notice.outbox_id == self.bad:
            raise RuntimeError("boom")
        return Outcome.sent()


def test_a_channel_that_raises_leaves_that_delivery_to_retry_and_the_rest_go_out(
        world, database, clock, receiver, webhook_channel):
    ids = write_outbox(database, clock, 3, audience_id=world["gridA1"])
    exploding = Exploding(ids[1])
    loop = dispatcher(database, clock, exploding, webhook_channel())
    t0 = clock()
    report = loop.run_once()
    assert report.by_status == {"sent": 5, "retry": 1}
    assert sorted(exploding.seen) == ids
    status = {(d.channel, d.outbox_id): d for d in rows(database, Delivery)}
    broken = status[("exploding", ids[1])]
    assert (broken.status, broken.attempts, broken.next_attempt_at) == ("retry", 1, t0 + timedelta(seconds=30))
    assert broken.last_error == "RuntimeError: boom"
    assert all(d.status == "sent" for key, d in status.items() if key != ("exploding", ids[1]))
    assert len(receiver.delivered()) == 3

    # Fixed, it goes out on the next attempt.
    exploding.bad = None
    clock.advance(seconds=30)
    assert loop.run_once().by_status == {"sent": 1}
    assert len(receiver.calls()) == 3


def test_wecom_markdown_does_not_render_links_written_by_residents(client, world, database, clock, wecom,
                                                                   wecom_channel):
    """At db9925c the resident's words went into the robot's markdown unescaped: a description
    [领取补贴](http://…) showed as a clickable link in the grid workers' group."""
    set_robot_keys(database, world, gridA1="K1")
    place(client, world, description="[点此领取补贴](http://phish.example/x) 路灯坏了")
    assert dispatcher(database, clock, wecom_channel()).run_once().by_status == {"sent": 1}
    [message] = wecom.messages("K1")
    content = message["markdown"]["content"]
    assert "phish.example" in content  # the words are kept…
    assert re.search(r"\[[^\]]*\]\(http", content) is None  # …but not as a link

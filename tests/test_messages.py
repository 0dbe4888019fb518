"""Problems in the reader's language: a stable `code`, Chinese `title` and `detail` when preferred."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.languages import preferred_language
from api.problems import install_problem_handlers
from domain import messages
from domain.errors import DomainError
from domain.messages import CHINESE, ENGLISH, Message
from tests.helpers import act, place, to_state, upload
from tests.world import PASSWORD
from workflows.errors import SignInFailed
from infra.images import solid_png

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def zh(world, who: str) -> dict[str, str]:
    return {**world.auth(who), **ZH}


def problem_in(r, status: int, language: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["content-language"] == {"en": "en", "zh": "zh-CN"}[language]
    assert "accept-language" in r.headers["vary"].lower()
    body = r.json()
    assert body["status"] == status and body["code"] and body["title"]
    return body


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize(("header", "language"), [
    (None, ENGLISH),
    ("", ENGLISH),
    ("zh", CHINESE),
    ("zh-CN", CHINESE),
    ("zh-Hans", CHINESE),
    ("zh-Hans-CN", CHINESE),
    ("ZH-cn", CHINESE),
    ("zh-CN,zh;q=0.9,en;q=0.8", CHINESE),
    ("en-US,en;q=0.9,zh-CN;q=0.8", ENGLISH),
    ("en;q=0.5, zh;q=0.8", CHINESE),
    ("zh;q=0.5, en;q=0.5", CHINESE),  # equal: the one listed first
    ("en;q=0.5, zh;q=0.5", ENGLISH),
    ("fr, zh;q=0.3", CHINESE),  # English is not acceptable at all
    ("fr, de", ENGLISH),
    ("*", ENGLISH),
    ("en;q=0, *;q=0.5", CHINESE),
    ("zh;q=0", ENGLISH),
    ("zh;q=0, *", ENGLISH),
    ("zh;q=abc, en;q=0.1", ENGLISH),  # an unreadable q drops its range
    ("zh;q=2", ENGLISH),
    (",,;q=1, zh-TW", CHINESE),
])
def test_the_preferred_language_honours_q_values(header, language):
    assert preferred_language(header) == language


def _keys_raised_in_source():
    """Every literal `key="…"` of a call in the service's code."""
    for package in ("api", "domain", "workflows", "wudan", "notifications"):
        for path in Path(package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "key" and isinstance(keyword.value, ast.Constant):
                            yield f"{path}:{node.lineno}", keyword.value.value


def test_every_key_raised_has_english_and_chinese_words():
    found = list(_keys_raised_in_source())
    assert len(found) > 50
    missing = [(where, key) for where, key in found if key not in messages.EN or key not in messages.ZH]
    assert missing == []


def test_the_chinese_catalogue_says_everything_the_english_one_does():
    assert sorted(set(messages.EN) - set(messages.ZH)) == []
    extra = {k for k in set(messages.ZH) - set(messages.EN) if not k.startswith("validation.")}
    assert extra == set(), "a Chinese text with no English one"


def _refusals(cls=DomainError):
    for sub in cls.__subclasses__():
        yield sub
        yield from _refusals(sub)


def test_every_refusal_code_has_a_title_and_a_general_text_in_both_languages():
    import api.app  # noqa: F401  (imports every module that defines a refusal)

    codes = {cls.code for cls in [DomainError, *_refusals()]}
    assert {"not-found", "invalid-transition", "too-many-uploads", "roster-invalid", "photo-link-expired"} <= codes
    for code in codes:
        for catalogue in (messages.EN, messages.ZH):
            assert f"title.{code}" in catalogue and code in catalogue, code


def test_a_key_without_chinese_reads_in_english(monkeypatch):
    monkeypatch.delitem(messages.ZH, "order.not-found")
    assert Message("order.not-found", id=7).text(CHINESE) == "order 7 not found"
    assert Message("order.not-found", id=7).text(ENGLISH) == "order 7 not found"


def test_english_words_of_a_refusal_without_a_key_read_as_its_code_in_chinese():
    refusal = SignInFailed("sign in first: send Authorization: Bearer <token>")
    assert refusal.detail.startswith("sign in first")
    assert refusal.message.text(CHINESE) == messages.ZH["sign-in-failed"]


def test_a_missing_parameter_shows_its_placeholder_rather_than_failing():
    assert Message("order.not-found").text(ENGLISH) == "order {id} not found"


def _app_raising(refusal: DomainError) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/refuse")
    def refuse():
        raise refusal

    return TestClient(app, raise_server_exceptions=False)


def test_a_code_among_a_401s_extensions_wins_over_the_generic_one():
    class TokenExpired(SignInFailed):
        def extensions(self) -> dict:
            return {"code": "token_expired"}

    body = _app_raising(TokenExpired("the token is invalid or expired; sign in again")).get("/refuse").json()
    assert (body["type"], body["code"], body["status"]) == ("urn:wudan:problem:sign-in-failed", "token_expired", 401)


def test_every_401_says_why_and_keeps_its_type():
    r = _app_raising(SignInFailed("sign in first")).get("/refuse", headers=ZH)
    body = problem_in(r, 401, CHINESE)
    assert body["type"] == "urn:wudan:problem:sign-in-failed" and body["title"] == "登录失败"
    assert body["code"] == "credentials_invalid"  # a refusal that names no reason: the credentials


# Over the API, on both databases.

def test_validation_errors_in_english_by_default_and_chinese_when_preferred(client, world):
    bad = {"category_id": world["cat"], "description": ""}
    english = problem_in(client.post("/orders", json=bad, headers=world.auth("res1")), 422, ENGLISH)
    assert english["code"] == "validation-error" and english["type"] == "urn:wudan:problem:validation-error"
    assert (english["title"], english["detail"]) == ("Invalid request", "the request is not valid; see errors")
    chinese = problem_in(client.post("/orders", json=bad, headers=zh(world, "res1")), 422, CHINESE)
    assert chinese["code"] == "validation-error" and chinese["type"] == english["type"]
    assert has_chinese(chinese["title"]) and has_chinese(chinese["detail"])
    assert [(e["loc"], e["msg"]) for e in chinese["errors"]] == [(["body", "description"], "至少 1 个字符")]
    assert [e["type"] for e in chinese["errors"]] == [e["type"] for e in english["errors"]]
    half_a_place = {"category_id": world["cat"], "description": "路灯", "latitude": 30.5}
    r = client.post("/orders", json=half_a_place, headers=zh(world, "res1"))
    errors = problem_in(r, 422, CHINESE)["errors"]
    assert [(e["type"], e["msg"]) for e in errors] == [("coordinates_pair", "纬度和经度须同时填写")]


def test_each_field_problem_a_resident_meets_reads_in_chinese(client, world):
    r = client.post("/orders", json={"description": "x", "urgency": "now", "extra": 1}, headers=zh(world, "res1"))
    errors = {e["loc"][-1]: e["msg"] for e in problem_in(r, 422, CHINESE)["errors"]}
    assert errors == {"category_id": "必填", "urgency": "应为以下之一：normal、urgent", "extra": "不接受这个字段"}
    order = place(client, world)
    r = client.post(f"/orders/{order['id']}/rate", json={"stars": 6}, headers=zh(world, "res1"))
    assert [e["msg"] for e in problem_in(r, 422, CHINESE)["errors"]] == ["应不大于 5"]
    r = client.put("/me/profile", json={"phone": "13900001111", "phone_code": "c"}, headers=zh(world, "res1"))
    assert [e["msg"] for e in problem_in(r, 422, CHINESE)["errors"]] == ["phone 和 phone_code 只能填一个"]


def test_an_invalid_move_names_the_state_and_the_action_by_their_labels(client, world):
    order = place(client, world)
    act(client, world, "workerA1", order["id"], "claim")
    r = client.post(f"/orders/{order['id']}/rate", json={"stars": 5}, headers=zh(world, "res1"))
    body = problem_in(r, 409, CHINESE)
    assert (body["code"], body["type"]) == ("invalid-transition", "urn:wudan:problem:invalid-transition")
    assert body["detail"] == "工单当前为「待派单」，不能「群众评单」；现在可以：撤单"
    assert body["title"] == "当前状态下不能这样操作"
    assert (body["current_state"], body["current_state_label"]) == ("claimed", "待派单")
    english = problem_in(client.post(f"/orders/{order['id']}/rate", json={"stars": 5}, headers=world.auth("res1")),
                         409, ENGLISH)
    assert english["detail"] == "cannot rate an order that is claimed; allowed: cancel"
    # Nothing is left for the grid worker who claimed it: the list is empty, and says so.
    worker = problem_in(client.post(f"/orders/{order['id']}/claim", headers=zh(world, "workerA1")), 409, CHINESE)
    assert worker["allowed_actions"] == [] and worker["detail"].endswith("现在可以：无")


def test_a_role_that_may_not_act_is_told_so_in_chinese(client, world):
    order = place(client, world)
    body = problem_in(client.post(f"/orders/{order['id']}/claim", headers=zh(world, "admin")), 403, CHINESE)
    assert body["code"] == "not-permitted" and body["detail"] == "镇党委管理员不能对工单进行「网格领单」"


def test_not_found_route_and_method_have_codes(client, world):
    missing = problem_in(client.get("/orders/999999", headers=zh(world, "res1")), 404, CHINESE)
    assert (missing["code"], missing["detail"], missing["title"]) == ("not-found", "找不到工单 999999", "未找到")
    route = problem_in(client.get("/nowhere", headers=ZH), 404, CHINESE)
    assert (route["type"], route["code"], route["detail"]) == ("about:blank", "not-found", "这个地址不存在")
    method = problem_in(client.delete("/orders"), 405, ENGLISH)
    assert (method["type"], method["code"]) == ("about:blank", "method-not-allowed")
    assert problem_in(client.delete("/orders", headers=ZH), 405, CHINESE)["title"] == "不支持的请求方法"


def test_sign_in_failures_read_in_chinese(client, world):
    wrong = client.post("/auth/staff", json={"phone": world.phones["workerA1"], "password": "nope-nope"}, headers=ZH)
    body = problem_in(wrong, 401, CHINESE)
    assert (body["code"], body["detail"]) == ("credentials_invalid", "手机号或密码错误，或账号已停用")
    without_token = problem_in(client.get("/me", headers=ZH), 401, CHINESE)
    assert without_token["code"] == "token_missing" and has_chinese(without_token["detail"])
    assert without_token["title"] == "登录失败"


def test_too_many_sign_ins_read_in_chinese(client, world, settings):
    phone = world.phones["workerA1"]
    for _ in range(settings.signin_per_phone):
        client.post("/auth/staff", json={"phone": phone, "password": "wrong-password"})
    r = client.post("/auth/staff", json={"phone": phone, "password": PASSWORD}, headers=ZH)
    body = problem_in(r, 429, CHINESE)
    retry_after = r.headers["retry-after"]
    assert body["code"] == "too-many-attempts"
    assert body["detail"] == f"这个手机号登录尝试次数过多，请 {retry_after} 秒后再试"


def test_too_many_sign_ins_from_one_address_read_in_chinese(client, world, settings):
    for i in range(settings.signin_per_address):
        client.post("/auth/staff", json={"phone": f"1391234{i:04d}", "password": "wrong-password"})
    r = client.post("/auth/dev/resident", json={"openid": "someone"}, headers=ZH)
    assert problem_in(r, 429, CHINESE)["detail"].startswith("当前网络登录尝试次数过多")


def test_photo_problems_read_in_chinese(client, world):
    gif = b"GIF89a" + b"\0" * 64
    r = client.post("/photos", files={"file": ("p.gif", gif, "image/gif")}, headers=zh(world, "res1"))
    body = problem_in(r, 415, CHINESE)
    assert (body["code"], body["detail"]) == ("unsupported-media-type", "只能上传 JPEG、PNG 或 WebP 图片")
    big = solid_png() + b"\0" * (64 * 1024)
    r = client.post("/photos", files={"file": ("p.png", big, "image/png")}, headers=zh(world, "res1"))
    assert problem_in(r, 413, CHINESE)["code"] == "payload-too-large"
    r = client.post("/orders", json={"category_id": world["cat"], "description": "路灯",
                                     "photo_ids": [upload(client, world, "res2")]}, headers=zh(world, "res1"))
    assert problem_in(r, 422, CHINESE)["detail"] == "有图片不是你上传且尚未使用的"
    r = client.get("/photos/no-such-photo-id-here", headers=zh(world, "res1"))
    assert problem_in(r, 404, CHINESE)["detail"] == "找不到这张图片"


def test_too_many_uploads_read_in_chinese(client, world, settings):
    for _ in range(settings.photo_unattached_max):
        upload(client, world, "res1")
    r = client.post("/photos", files={"file": ("p.png", solid_png(), "image/png")}, headers=zh(world, "res1"))
    body = problem_in(r, 429, CHINESE)
    assert body["code"] == "too-many-uploads" and body["title"] == "上传过多"
    assert body["detail"].startswith(f"最多只能有 {settings.photo_unattached_max} 张尚未使用的图片")


def test_rating_problems_read_in_chinese(client, world):
    order = place(client, world)
    r = client.post(f"/orders/{order['id']}/rate", json={"stars": 5}, headers=zh(world, "res1"))
    assert problem_in(r, 409, CHINESE)["detail"].startswith("工单当前为「待领单」，不能「群众评单」")
    to_state(client, world, order["id"], "completed")
    r = client.post(f"/orders/{order['id']}/rate", json={"stars": 0}, headers=zh(world, "res1"))
    assert [e["msg"] for e in problem_in(r, 422, CHINESE)["errors"]] == ["应不小于 1"]


def test_placing_problems_read_in_chinese(client, world):
    r = client.post("/orders", json={"category_id": 999999, "description": "x"}, headers=zh(world, "res1"))
    assert problem_in(r, 422, CHINESE)["detail"] == "本镇没有这个类别（999999）"
    r = client.post("/orders", json={"category_id": world["cat"], "description": "x"}, headers=zh(world, "workerA1"))
    assert problem_in(r, 422, CHINESE)["detail"] == "代群众点单时必须选择网格（grid_id）"


def test_malformed_and_oversized_bodies_read_in_chinese(client, world, settings):
    headers = {**zh(world, "res1"), "content-type": "application/json"}
    body = problem_in(client.post("/orders", content=b"\xff\xfe\xfd", headers=headers), 400, CHINESE)
    assert (body["code"], body["detail"]) == ("malformed-body", "请求内容不是有效的 UTF-8 文本")
    body = problem_in(client.post("/orders", content=b"{nope", headers=headers), 400, CHINESE)
    assert body["detail"].startswith("请求内容不是有效的 JSON")
    huge = b"x" * (settings.max_request_bytes + 1)
    body = problem_in(client.post("/orders", content=huge, headers=headers), 413, CHINESE)
    assert body["code"] == "payload-too-large" and str(settings.max_request_bytes) in body["detail"]


def test_the_openapi_problem_schema_documents_the_code(app):
    problem = app.openapi()["components"]["schemas"]["Problem"]
    assert {"type", "code", "title", "status", "detail"} <= problem["properties"].keys()
    assert {"type", "code", "title", "status"} <= set(problem["required"])
    assert "401" in problem["properties"]["code"]["description"]

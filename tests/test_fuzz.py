"""Hostile input: schemathesis fuzzes every documented operation, in-process, as every role.

The schema is the app's own OpenAPI document. Each operation is fuzzed as each role (and
anonymously) against a fresh copy of a known world with orders in every state, so that
ids like 1..20 often hit real rows; valid and invalid inputs are generated. Whatever comes
in, the answer is never a 5xx, its status code and content type are documented, its body
matches its documented schema, and invalid input always gets a 4xx. Each operation also
goes through schemathesis's coverage phase as the role it is for: every boundary, every
missing field and every value of the wrong type (a boolean for a number, a number in a
string), each of which must be refused with a 4xx.

WUDAN_FUZZ_EXAMPLES sets the random examples per operation and role (default 15; on
PostgreSQL WUDAN_FUZZ_EXAMPLES_POSTGRES, default 6); generation is derandomized, so a run
is the same everywhere. To see one failure again, run its test alone: schemathesis prints
the request as a curl command.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance, negative_data_rejection, response_schema_conformance, status_code_conformance,
)
from sqlalchemy import select, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table in the metadata)
from api.app import create_app
from tests.helpers import act, place, to_state, upload
from tests.wechat_standin import WeChatStandIn
from tests.world import World, _token
from infra.images import solid_png
from infra.settings import Settings
from workflows.inputs import MAX_ID
from jobs.worker import Worker

APPID, SECRET = "wx-test-app", "wx-test-secret"  # as in tests/conftest.py
ROLES = ("anonymous", "res1", "workerA1", "secA", "memberA1", "admin", "dashboard", "unit1")
MAX_EXAMPLES = int(os.environ.get("WUDAN_FUZZ_EXAMPLES", "15"))
# PostgreSQL answers more slowly; fewer random examples there keep this file near 3 minutes.
MAX_EXAMPLES_POSTGRES = int(os.environ.get("WUDAN_FUZZ_EXAMPLES_POSTGRES", "6"))
CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
    negative_data_rejection,
]
BASE_URL = "http://testserver"


def _openapi() -> dict:
    """The app's OpenAPI document (what /openapi.json serves), built without starting the app, and
    the wall dashboard's page and assets, which it leaves out of /docs."""
    settings = Settings(
        _env_file=None, environment="development", data_dir=Path(tempfile.gettempdir()),
        database_url="sqlite://", migrate_on_start=False, scheduler_enabled=False,
    )
    document = create_app(settings).openapi()
    problem = {"description": "Not found", "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}
    document["paths"].update({
        "/dashboard": {"get": {"operationId": "dashboard_page", "tags": ["dashboard"], "responses": {
            "200": {"description": "看板", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/dashboard/assets/{name}": {"get": {
            "operationId": "dashboard_asset", "tags": ["dashboard"],
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The page's script or style", "content": {
                "text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}}}},
                "404": problem}}},
    })
    return document


def _schema(*, coverage: bool) -> schemathesis.BaseSchema:
    """Random fuzzing (positive and negative), or the systematic coverage phase alone."""
    schema = schemathesis.openapi.from_dict(_openapi())
    config = schema.config
    # Who calls is the test's choice (a role's token, or none), not a generated header.
    config.generation.update(with_security_parameters=False, max_examples=MAX_EXAMPLES, deterministic=True)
    config.phases.coverage.enabled = coverage
    config.phases.fuzzing.enabled = not coverage
    # Invalid input is the client's fault: a 4xx, never a 2xx, and never a 5xx either.
    config.checks.negative_data_rejection.expected_statuses = ["4xx"]
    for hook, make in (("before_generate_path_parameters", _path_parameters),
                       ("before_generate_query", _ids_sometimes_small),
                       ("before_generate_body", _bodies)):
        schema.hook(hook)(make)
    return schema


def _small_ids(values):
    """Valid ids folded into 1..20, where the world's rows are; anything else (an invalid id) as it was."""
    if not isinstance(values, dict):
        return values
    out = dict(values)
    for key, value in values.items():
        if key.endswith("_id") and type(value) is int and 20 < value <= MAX_ID:
            out[key] = (value - 1) % 20 + 1
    return out


def _ids_sometimes_small(context, strategy):
    return st.one_of(strategy, strategy.map(_small_ids))


# The photos of the world the current test runs on (their ids are random, so not to be guessed).
_PHOTOS: list[str] = []


def _known_names(values):
    """A generated photo id or dashboard asset name replaced by one that exists."""
    if not isinstance(values, dict):
        return values
    if isinstance(values.get("photo_id"), str) and _PHOTOS:
        return {**values, "photo_id": _PHOTOS[len(values["photo_id"]) % len(_PHOTOS)]}
    if isinstance(values.get("name"), str):
        return {**values, "name": ("dashboard.js", "dashboard.css")[len(values["name"]) % 2]}
    return values


def _path_parameters(context, strategy):
    return st.one_of(strategy, strategy.map(_small_ids), strategy.map(_known_names))


def _real_image(body):
    """A generated upload's file (random text) replaced by a real PNG; a file of another type stays."""
    if isinstance(body, dict) and isinstance(body.get("file"), (str, bytes)):
        return {**body, "file": solid_png()}
    return body


def _bodies(context, strategy):
    if context.operation is not None and context.operation.path == "/photos":
        # Random content only ever gets 415; a real image sometimes goes through.
        return st.one_of(strategy, strategy.map(_real_image))
    return _ids_sometimes_small(context, strategy)


fuzzing = _schema(coverage=False)
coverage = _schema(coverage=True)

HYPOTHESIS = hypothesis.settings(
    max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
    # One world per test, shared by its examples, is the point (function_scoped_fixture);
    # some operations take few distinct inputs (filter_too_much, too_slow, …).
    suppress_health_check=list(HealthCheck),
)


# -- the world ---------------------------------------------------------------------------


class _Openids(dict):
    """Login codes for the stand-in: any code signs in, as a WeChat-like 28-character openid."""

    def get(self, code, default=None):
        return super().get(code) or "o" + hashlib.sha256(code.encode()).hexdigest()[:27]


@pytest.fixture(scope="module")
def wechat_standin():
    with WeChatStandIn(APPID, SECRET) as standin:
        standin.login_codes = _Openids()
        yield standin


@pytest.fixture
def database(test_database):
    """The suite's database, emptied with DELETE: PostgreSQL's TRUNCATE of every table (what the
    suite's fixture does) takes 0.2 s, most of a fuzz test's time there. Ids run on; `fuzz_world`
    puts its own back."""
    _empty(test_database.database)
    return test_database.database


def _empty(database) -> None:
    with database.engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _examples_for_the_backend(request, test_database):
    """Fewer random examples on PostgreSQL (schemathesis built each operation's test with MAX_EXAMPLES)."""
    test = request.node.obj
    # Hypothesis reads a test's settings from this attribute when it runs; schemathesis sets it the same way.
    chosen = getattr(test, "_hypothesis_internal_use_settings", None)
    if chosen is None:
        return
    wanted = MAX_EXAMPLES_POSTGRES if test_database.backend == "postgres" else MAX_EXAMPLES
    test._hypothesis_internal_use_settings = hypothesis.settings(chosen, max_examples=wanted)


@pytest.fixture
def settings(settings, wechat_standin):
    """The suite's settings, with WeChat played by the stand-in: sign-ins and phone codes get real answers."""
    assert (settings.wechat_appid, settings.wechat_secret) == (APPID, SECRET)
    return settings.model_copy(update={"wechat_api_base": wechat_standin.url, "wechat_timeout_seconds": 2.0})


@dataclass
class Snapshot:
    """Every row (and photo file) of a seeded world, to give each test a fresh copy cheaply."""

    world: World
    rows: dict[str, list[dict]]
    photos: Path

    @classmethod
    def take(cls, database, world: World, photo_dir: Path, keep: Path) -> Snapshot:
        with database.engine.connect() as connection:
            rows = {t.name: [dict(r) for r in connection.execute(select(t)).mappings()]
                    for t in SQLModel.metadata.sorted_tables}
        shutil.copytree(photo_dir, keep)
        return cls(world, rows, keep)

    def restore(self, database, settings) -> World:
        tables = SQLModel.metadata.sorted_tables
        with database.engine.begin() as connection:  # into the tables `database` emptied
            for table in tables:
                if self.rows[table.name]:
                    connection.execute(table.insert(), self.rows[table.name])
            if connection.dialect.name == "postgresql":
                # The rows came with their ids: move each sequence past them, in one round trip.
                tops = {t.name: max(r["id"] for r in self.rows[t.name]) for t in tables
                        if "id" in t.c and self.rows[t.name] and isinstance(self.rows[t.name][0]["id"], int)}
                if tops:
                    calls = ", ".join(f"setval(pg_get_serial_sequence('{name}', 'id'), {top})"
                                      for name, top in tops.items())
                    connection.execute(text(f"SELECT {calls}"))
        shutil.copytree(self.photos, settings.photo_dir, dirs_exist_ok=True)
        return replace(self.world, settings=settings)


def _seed(client: TestClient, world: World, app) -> None:
    """Orders in every state (ids 1..8), a whistle, a visit, a hall session, an action team, a photo,
    the public board on, notices delivered."""
    r = client.patch("/admin/town", json={"public_board_enabled": True}, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    place(client, world)                                                      # 1 submitted
    for state in ("claimed", "dispatched", "in_progress", "completed"):      # 2..5
        to_state(client, world, place(client, world)["id"], state)
    closed = to_state(client, world, place(client, world)["id"], "completed")  # 6 closed
    act(client, world, "res1", closed["id"], "rate", {"stars": 5, "comment": "好"})
    place(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="孙奶奶",
          contact_phone="13912345678", channel="visit")  # 7 代点单
    # 8 whistled (吹哨报到) to unit 1, whose staff member unit1 has reported in: whistle 1.
    r = client.post("/admin/units", json={"name": "供电所"}, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    r = client.post("/admin/staff", json={"name": "unit1", "phone": "13811119999", "role": "unit_staff",
                                          "password": "a long password", "unit_id": 1}, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    world.tokens["unit1"] = _token(world.settings, "staff", r.json()["id"], "unit_staff", world["town"], app.state.clock())
    whistled = to_state(client, world, place(client, world)["id"], "claimed")
    act(client, world, "secA", whistled["id"], "whistle", {"unit_ids": [1]})
    assert client.post("/whistles/1/report-in", headers=world.auth("unit1")).status_code == 200
    # Household 1 of grid A1, visited (visit 1, no needs) by visit team 1 of memberA1.
    r = client.post("/admin/households", json={"grid_id": world["gridA1"], "address": "幸福路3号",
                                               "head_name": "孙奶奶", "phone": "13900007777"}, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    r = client.post("/admin/visit-teams", json={"name": "直联组", "member_ids": [world["memberA1"]],
                                                "grid_ids": [world["gridA1"]]}, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    assert client.post("/visits", json={"household_id": 1}, headers=world.auth("memberA1")).status_code == 201
    # Hall 1 of branch A, with session 1 (secA on duty) and one matter settled on the spot.
    r = client.post("/admin/halls", json={"name": "说事厅", "branch_id": world["branchA"]}, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    r = client.post("/halls/1/sessions", json={"starts_at": app.state.clock().isoformat(), "host_ids": [world["secA"]]},
                    headers=world.auth("secA"))
    assert r.status_code == 201, r.text
    r = client.post("/hall-sessions/1/matters", json={"visitor_name": "周", "grid_id": world["gridA1"],
                                                      "description": "问事", "outcome": "settled",
                                                      "settled_note": "已答"}, headers=world.auth("secA"))
    assert r.status_code == 201, r.text
    # Action team 1 of branch A: workerA1 its cadre, memberA1 its member.
    r = client.post("/action-teams", json={"name": "行动队", "cadre_id": world["workerA1"],
                                           "lead_id": world["memberA1"]}, headers=world.auth("secA"))
    assert r.status_code == 201, r.text
    upload(client, world, "res1")
    worker = Worker(app.state.settings, app.state.db, app.state.clock, app.state.wechat)
    try:
        worker.run_delivery()
    finally:
        worker.close()


_SNAPSHOTS: dict[int, Snapshot] = {}


@pytest.fixture
def fuzz_world(request, test_database, database, settings, clock, tmp_path_factory) -> World:
    """The world with orders in every state: built and seeded once per backend, then copied per test.

    The test's clock is a day and a half on, so that some of the orders are overdue.
    """
    snapshot = _SNAPSHOTS.get(id(test_database))
    if snapshot is None:
        test_database.empty()  # ids from 1 on
        world = request.getfixturevalue("world")
        app = create_app(settings, clock=clock, database=database)
        with TestClient(app, raise_server_exceptions=False) as client:
            _seed(client, world, app)
        keep = tmp_path_factory.mktemp("fuzz-photos") / "photos"
        snapshot = _SNAPSHOTS[id(test_database)] = Snapshot.take(database, world, settings.photo_dir, keep)
        _empty(database)
    world = snapshot.restore(database, settings)
    _PHOTOS[:] = [row["id"] for row in snapshot.rows["photos"]]
    clock.advance(hours=36)
    return world


@pytest.fixture
def fuzz_client(app, client):
    """Schemathesis's own in-process client, on the app whose lifespan `client` runs."""
    session = ASGIClient(app)
    yield session
    session.close()


def _send(case, world: World, role: str, session):
    headers = {} if role == "anonymous" else world.auth(role)
    response = case.call(session=session, base_url=BASE_URL, headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    return response


# -- the fuzz ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@fuzzing.parametrize()
@HYPOTHESIS
def test_fuzz(case, role, fuzz_world, fuzz_client):
    _send(case, fuzz_world, role, fuzz_client)


OWNERS = (  # the first prefix that matches
    ("/admin", "admin"), ("/stats", "dashboard"), ("/branch", "secA"),
    ("/orders/{order_id}/claim", "workerA1"), ("/orders/{order_id}/transfer", "workerA1"),
    ("/orders/{order_id}/reject", "workerA1"), ("/orders/{order_id}/dispatch", "secA"),
    ("/orders/{order_id}/accept", "memberA1"), ("/orders/{order_id}/decline", "memberA1"),
    ("/orders/{order_id}/complete", "memberA1"), ("/orders/{order_id}/whistle", "secA"),
    ("/orders/{order_id}/post-task", "secA"), ("/orders/{order_id}/volunteer", "memberA1"), ("/tasks", "memberA1"),
    ("/orders", "res1"), ("/photos", "res1"), ("/me", "res1"), ("/whistles", "unit1"), ("/units", "secA"),
    ("/visits", "memberA1"), ("/visit-teams", "memberA1"), ("/halls", "secA"), ("/hall-sessions", "secA"),
    ("/action-teams", "secA"), ("/points", "secA"), ("/projects", "secA"), ("/lists", "secA"), ("/reports", "admin"),
)


def _owner(path: str) -> str:
    """Who an operation is for: its coverage phase runs as them, so that the input is what it meets."""
    return next((role for prefix, role in OWNERS if path.startswith(prefix)), "anonymous")  # /auth, /towns, …


@coverage.parametrize()
@HYPOTHESIS
def test_fuzz_coverage(case, fuzz_world, fuzz_client):
    _send(case, fuzz_world, _owner(case.operation.path), fuzz_client)


# -- what the fuzzer found ---------------------------------------------------------------

PROBLEM_JSON = "application/problem+json"


def _operations(client):
    for path, methods in client.get("/openapi.json").json()["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _is_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    return r.json()


def test_a_body_that_cannot_be_read_is_a_documented_400(client, world):
    """Not UTF-8 (or broken multipart) is 400 from FastAPI itself: each operation with a body says so."""
    r = client.post("/orders", content=b"\xff\xfe{", headers={**world.auth("res1"), "content-type": "application/json"})
    _is_problem(r, 400)
    r = client.post("/photos", content=b"--x\r\nG--x--\r\n",
                    headers={**world.auth("res1"), "content-type": "multipart/form-data; boundary=x"})
    _is_problem(r, 400)
    missing = [name for name, op in _operations(client)
               if "requestBody" in op and PROBLEM_JSON not in op["responses"].get("400", {}).get("content", {})]
    assert missing == []


def test_validation_errors_are_documented_as_problems(client, world):
    """A 422 is a problem (the handler's shape), never FastAPI's default HTTPValidationError."""
    _is_problem(client.get("/towns", params={"offset": -1}), 422)
    _is_problem(client.get("/orders/0", headers=world.auth("res1")), 422)
    wrong = [name for name, op in _operations(client)
             if (op.get("parameters") or "requestBody" in op)
             and PROBLEM_JSON not in op["responses"].get("422", {}).get("content", {})]
    assert wrong == []


def test_a_dashboard_token_gets_a_documented_403_on_orders_and_photos(client, world):
    paths = {"/orders": "GET /orders", "/orders/1": "GET /orders/{order_id}", "/photos/x": "GET /photos/{photo_id}"}
    documented = dict(_operations(client))
    for path, name in paths.items():
        _is_problem(client.get(path, headers=world.auth("dashboard")), 403)
        assert "403" in documented[name]["responses"], name


def test_days_are_written_yyyy_mm_dd(client, world):
    """`0` was taken for 1970-01-01 (a Unix time) and a midnight datetime for its day."""
    for bad in ("0", "86400", "2026-11-20T00:00:00", "2026-11-20T00:00:00Z", "20261120", "2026-1-2"):
        _is_problem(client.get("/stats/overview", params={"date_to": bad}, headers=world.auth("dashboard")), 422)
        r = client.get("/admin/ledger.xlsx", params={"date_from": bad, "date_to": "2026-11-20"},
                       headers=world.auth("admin"))
        _is_problem(r, 422)
    r = client.get("/stats/overview", params={"date_from": "2026-11-01", "date_to": "2026-11-20"},
                   headers=world.auth("dashboard"))
    assert r.status_code == 200, r.text
    r = client.get("/admin/ledger.xlsx", params={"date_from": "2026-11-01", "date_to": "2026-11-20"},
                   headers=world.auth("admin"))
    assert r.status_code == 200, r.text


def test_an_openid_too_long_to_keep_is_an_upstream_problem(client, world, wechat_standin):
    """WeChat's ids are about 28 characters; a longer one was a 500 on PostgreSQL (varchar(64))."""
    wechat_standin.login_codes.update({"long-openid": "o" * 65, "long-unionid": "o" * 60, "fine": "o" * 28})
    for code in ("long-openid", "long-unionid"):  # the stand-in's unionid is "union-" + openid
        body = _is_problem(client.post("/auth/wechat", json={"code": code}), 503)
        assert "usable" in body["detail"] or "unusable" in body["detail"]
    r = client.post("/auth/wechat", json={"code": "fine"})
    assert r.status_code == 200, r.text

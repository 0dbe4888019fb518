"""Open311 GeoReport v2 against the app on a loopback socket, on both stores.

A real client from the package index (georeport) lists the services, reads a definition
and finds requests, in JSON and in XML; it cannot post, so posting is a form-encoded
httpx request, as the specification describes it.
"""

from __future__ import annotations

import httpx
import pytest
import xmltodict
from georeport import GeoReport

from tests.helpers import act, get, place, to_state
from tests.live_server import LiveServer
from tests.test_admin import ok, problem

WEST = [[114.300, 30.590], [114.310, 30.590], [114.310, 30.600], [114.300, 30.600], [114.300, 30.590]]
IN_WEST = {"lat": "30.595123", "long": "114.305678"}
QUESTIONS = [
    {"code": "pole", "datatype": "string", "description": "灯杆编号", "required": True, "order": 1},
    {"code": "kind", "datatype": "singlevaluelist", "description": "情况", "order": 2,
     "values": [{"key": "out", "name": "不亮"}, {"key": "flicker", "name": "闪烁"}]},
]


@pytest.fixture
def city(app, world):
    """The app served, the town set up for Open311, a client's key, and the real client reading it."""
    admin = world.auth("admin")
    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.put(f"/admin/grids/{world['gridA1']}/boundary", json={"type": "Polygon", "coordinates": [WEST]},
                        headers=admin).status_code == 200
        ok(http.patch(f"/admin/categories/{world['cat']}", json={
            "attributes": QUESTIONS, "public_requests": True, "keywords": "路灯,照明", "group_name": "市政设施"},
            headers=admin))
        issued = ok(http.post("/admin/open311-clients", json={"name": "12345 热线平台"}, headers=admin), 201)
        jurisdiction = str(world["town"])
        yield {"base": base, "http": http, "key": issued["api_key"], "client": issued, "jurisdiction": jurisdiction,
               "json": GeoReport(f"{base}/open311/v2", jurisdiction=jurisdiction),
               "xml": GeoReport(f"{base}/open311/v2", jurisdiction=jurisdiction, output_format="xml")}


def post(city, fmt: str = "json", **fields) -> httpx.Response:
    form = {"api_key": city["key"], "jurisdiction_id": city["jurisdiction"], "service_code": fields.pop("code"),
            "description": "东湖路口路灯不亮", "first_name": "大爷", "last_name": "张", "phone": "139-0000-1111",
            **IN_WEST, "attribute[pole]": "A-17", "attribute[kind]": "out", **fields}
    return city["http"].post(f"/open311/v2/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def test_a_city_client_lists_services_and_reads_a_definition(city, world):
    services = city["json"].get_service_list()
    mine = next(s for s in services if s["service_code"] == str(world["cat"]))
    assert mine == {"service_code": str(world["cat"]), "service_name": "基础设施维修", "description": "",
                    "metadata": True, "type": "realtime", "keywords": "路灯,照明", "group": "市政设施"}
    assert {s["service_code"] for s in services} == {str(world["cat"]), str(world["cat_urgent"])}
    in_xml = city["xml"].get_service_list()
    assert [s["service_name"] for s in in_xml] == [s["service_name"] for s in services]
    assert next(s for s in in_xml if s["service_code"] == str(world["cat"]))["metadata"] == "true"

    definition = city["json"].get_service_definition(str(world["cat"]))
    assert definition["service_code"] == str(world["cat"])
    assert [(a["code"], a["datatype"], a["required"], a["order"]) for a in definition["attributes"]] == [
        ("pole", "string", True, 1), ("kind", "singlevaluelist", False, 2)]
    assert definition["attributes"][1]["values"] == [{"key": "out", "name": "不亮"}, {"key": "flicker", "name": "闪烁"}]
    in_xml = city["xml"].get_service_definition(str(world["cat"]))
    attrs = in_xml["attributes"]["attribute"]
    assert [a["code"] for a in attrs] == ["pole", "kind"]
    assert [v["name"] for v in attrs[1]["values"]["value"]] == ["不亮", "闪烁"]
    discovery = city["http"].get("/open311/discovery.json").json()
    assert discovery["endpoints"][0]["url"] == f"{city['base']}/open311/v2"
    assert xmltodict.parse(city["http"].get("/open311/discovery.xml").content)["discovery"]["endpoints"][
        "endpoint"]["specification"] == "http://wiki.open311.org/GeoReport_v2"


def test_a_posted_request_runs_the_loop_and_is_found_open_then_closed(city, world, app):
    r = post(city, code=str(world["cat"]), media_url="https://city.example/photos/1.jpg")
    assert r.status_code == 201, r.text
    [answer] = r.json()
    request_id, token = answer["service_request_id"], answer["token"]
    # The order is in the loop, in the grid its location is in, by the channel open311.
    order = get(city["http"], world, "workerA1", int(request_id))
    assert (order["grid"]["id"], order["channel"], order["channel_label"]) == (world["gridA1"], "open311", "城市平台")
    assert order["attributes"] == {"pole": "A-17", "kind": "out"}
    assert (order["contact_name"], order["contact_phone"]) == ("张 大爷", "13900001111")
    assert order["timeline"][0]["actor_role_label"] == "城市平台"
    assert order["media_url"] == "https://city.example/photos/1.jpg"
    assert city["json"].get_service_requests()  # anyone may read it, the category being public

    found = city["json"].get_service_request(request_id)
    assert (found["status"], found["service_name"], found["agency_responsible"]) == ("open", "基础设施维修", "甲村党支部")
    assert found["expected_datetime"] and found["requested_datetime"].endswith("Z")
    # Nothing of the resident's in a public answer; the location rounded to about 10 m.
    assert found["address"] is None and found["media_url"] is None
    assert (found["lat"], found["long"]) == (30.5951, 114.3057)
    assert not {"first_name", "last_name", "phone", "email"} & set(found)
    assert city["http"].get(f"/open311/v2/tokens/{token}.json",
                            params={"jurisdiction_id": city["jurisdiction"]}).json() == [
        {"service_request_id": request_id, "token": token}]

    to_state(city["http"], world, int(request_id), "completed")
    act(city["http"], world, "workerA1", int(request_id), "rate", {"stars": 5})  # a callback: it came from the city
    closed = city["json"].get_service_requests(status="closed")
    assert [r["service_request_id"] for r in closed] == [request_id]
    assert closed[0]["status_notes"].startswith("已办结:修好了")
    assert city["json"].get_service_requests(status="open") == []
    in_xml = city["xml"].get_service_request(request_id)
    in_xml = in_xml[0] if isinstance(in_xml, list) else in_xml
    assert (in_xml["service_request_id"], in_xml["status"]) == (request_id, "closed")
    # The client that sent it reads it back in full.
    own = city["http"].get(f"/open311/v2/requests/{request_id}.json",
                           params={"jurisdiction_id": city["jurisdiction"], "api_key": city["key"]}).json()[0]
    assert (own["lat"], own["media_url"]) == (30.595123, "https://city.example/photos/1.jpg")


def test_the_requests_filters_and_defaults(city, world, clock):
    first = post(city, code=str(world["cat"])).json()[0]["service_request_id"]
    second = post(city, code=str(world["cat"]), description="又一盏").json()[0]["service_request_id"]
    listed = city["json"].get_service_requests()
    assert [r["service_request_id"] for r in listed] == [second, first]  # newest first
    assert [r["service_request_id"] for r in city["json"].get_service_requests(service_request_id=first)] == [first]
    assert city["json"].get_service_requests(service_code=str(world["cat_urgent"])) == []
    placed_at = clock().replace(microsecond=0)
    clock.advance(minutes=5)
    w3c = "%Y-%m-%dT%H:%M:%SZ"
    later = clock().strftime(w3c)
    assert city["json"].get_service_requests(start_date=later, end_date=later) == []
    assert len(city["json"].get_service_requests(start_date=placed_at.strftime(w3c), end_date=later)) == 2
    http = city["http"]
    bad = http.get("/open311/v2/requests.json", params={"jurisdiction_id": city["jurisdiction"], "status": "gone"})
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400
    too_long = http.get("/open311/v2/requests.json", params={
        "jurisdiction_id": city["jurisdiction"], "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"})
    assert too_long.status_code == 400 and "90 days" in too_long.json()[0]["description"]


def test_what_is_not_public_is_read_only_by_the_client_that_sent_it(city, world):
    kept = post(city, code=str(world["cat_urgent"]), **{"attribute[pole]": None, "attribute[kind]": None})
    assert kept.status_code == 201, kept.text
    request_id = kept.json()[0]["service_request_id"]
    query = {"jurisdiction_id": city["jurisdiction"]}
    assert city["http"].get(f"/open311/v2/requests/{request_id}.json", params=query).status_code == 404
    assert city["json"].get_service_requests() == []
    mine = city["http"].get("/open311/v2/requests.json", params={**query, "api_key": city["key"]}).json()
    assert [r["service_request_id"] for r in mine] == [request_id]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_the_specifications_list(city, world, fmt):
    http = city["http"]

    def refused(response, status: int) -> str:
        assert response.status_code == status, response.text
        if fmt == "xml":
            error = xmltodict.parse(response.content)["errors"]["error"]
        else:
            [error] = response.json()
        assert int(error["code"]) == status
        return error["description"]

    assert "api_key" in refused(post(city, fmt, code=str(world["cat"]), api_key="o311_wrong"), 403)
    assert "service_code" in refused(post(city, fmt, code="999999"), 404)
    assert "description" in refused(post(city, fmt, code=str(world["cat"]), description=""), 400)
    assert "pole" in refused(post(city, fmt, code=str(world["cat"]), **{"attribute[pole]": None}), 400)
    assert "not one of its values" in refused(post(city, fmt, code=str(world["cat"]), **{"attribute[kind]": "x"}), 400)
    assert "lat" in refused(post(city, fmt, code=str(world["cat"]), lat=None, long=None), 400)
    assert "lat and long" in refused(post(city, fmt, code=str(world["cat"]), lat="north"), 400)
    assert "jurisdiction" in refused(http.get(f"/open311/v2/services.{fmt}"), 400)  # two towns here
    assert "jurisdiction" in refused(http.get(f"/open311/v2/services.{fmt}", params={"jurisdiction_id": "99"}), 404)
    # Another town's key is not this town's.
    other = ok(http.post("/admin/open311-clients", json={"name": "邻镇平台"}, headers=world.auth("admin2")), 201)
    assert "jurisdiction" in refused(post(city, fmt, code=str(world["cat"]), api_key=other["api_key"]), 403)
    # A JSON body is not the specification's form.
    r = http.post(f"/open311/v2/requests.{fmt}", json={"api_key": city["key"]})
    refused(r, 415)


def test_the_admin_keeps_the_clients_and_revokes_a_key(city, world):
    http, admin = city["http"], world.auth("admin")
    listed = ok(http.get("/admin/open311-clients", headers=admin))
    assert [(c["name"], c["active"], c["key_prefix"]) for c in listed["items"]] == [
        ("12345 热线平台", True, city["key"][:12])]
    assert "api_key" not in listed["items"][0]
    assert post(city, code=str(world["cat"])).status_code == 201
    assert ok(http.get("/admin/open311-clients", headers=admin))["items"][0]["last_used_at"]
    assert ok(http.post(f"/admin/open311-clients/{city['client']['id']}/revoke", headers=admin))["active"] is False
    assert post(city, code=str(world["cat"])).status_code == 403
    problem(http.post(f"/admin/open311-clients/{city['client']['id']}/revoke", headers=world.auth("admin2")), 404)
    problem(http.get("/admin/open311-clients", headers=world.auth("secA")), 403)


def test_the_residents_form_answers_the_same_questions(city, world):
    http = city["http"]
    problem(http.post("/orders", json={"category_id": world["cat"], "description": "路灯"},
                      headers=world.auth("res1")), 422)
    placed = place(http, world, attributes={"pole": "B-3", "kind": ["flicker"][0]})
    assert placed["attributes"] == {"pole": "B-3", "kind": "flicker"}
    categories = ok(http.get(f"/towns/{world['town']}/categories"))["items"]
    assert next(c for c in categories if c["id"] == world["cat"])["attributes"][0]["code"] == "pole"
    # A definition that cannot be answered is refused when it is set.
    problem(http.patch(f"/admin/categories/{world['cat']}", json={"attributes": [
        {"code": "a", "datatype": "singlevaluelist", "description": "无选项"}]}, headers=world.auth("admin")), 422)


def test_a_question_patched_in_keeps_its_defaults(client, world):
    admin = world.auth("admin")
    ok(client.patch(f"/admin/categories/{world['cat_urgent']}", json={"attributes": [
        {"code": "floor", "datatype": "number", "description": "楼层"}]}, headers=admin))
    [question] = ok(client.get(f"/admin/categories/{world['cat_urgent']}", headers=admin))["attributes"]
    assert question == {"code": "floor", "datatype": "number", "description": "楼层", "variable": True,
                        "required": False, "datatype_description": "", "order": 0, "values": []}
    refused = problem(client.post("/orders", json={"category_id": world["cat_urgent"], "description": "漏雨",
                                                   "attributes": {"floor": "三楼"}}, headers=world.auth("res1")), 422)
    assert "「楼层」(floor)" in refused["detail"]


def test_odd_numbers_and_dates_are_refused_not_failed(city, world):
    http, query = city["http"], {"jurisdiction_id": city["jurisdiction"]}
    for odd in ("²", "9" * 25, "3000000000", "-1", "0"):
        assert http.get("/open311/v2/services.json", params={"jurisdiction_id": odd}).status_code == 404, odd
        assert http.get(f"/open311/v2/services/{odd}.json", params=query).status_code == 404, odd
        assert http.get(f"/open311/v2/requests/{odd}.json", params=query).status_code == 404, odd
        assert post(city, code=odd).status_code == 404, odd
        assert post(city, code=str(world["cat"]), address_id=odd).status_code == 404, odd
        listed = http.get("/open311/v2/requests.json", params={**query, "service_request_id": odd})
        assert listed.status_code == 400, odd
    for start, end in (("2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
                       ("9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-14:00"), ("yesterday", "today")):
        r = http.get("/open311/v2/requests.json", params={**query, "start_date": start, "end_date": end})
        assert r.status_code == 400 and r.json()[0]["code"] == 400, (start, end)
    # Too long is refused, never cut short.
    r = post(city, code=str(world["cat"]), description="长" * 2001)
    assert r.status_code == 400 and r.json()[0]["description"].startswith("description:")

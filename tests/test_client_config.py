"""What the mini-program reads before it shows a form: GET /towns/{id}/client-config."""

from __future__ import annotations

from api.app import create_app
from fastapi.testclient import TestClient
from tests.helpers import place
from tests.test_admin import ok, problem


def test_the_config_follows_the_settings_and_the_town(client, world):
    config = ok(client.get(f"/towns/{world['town']}/client-config"))
    settings = client.app.state.settings
    assert config == {"town": {"id": world["town"], "name": "测试镇"}, "photos_per_order": settings.photos_per_order,
                      "photo_max_bytes": settings.photo_max_bytes, "subscribe_template_ids": [],
                      "public_board_enabled": False, "nearby_radius_m": 50,
                      "urgency_labels": {"normal": "一般", "urgent": "紧急"}}
    ok(client.patch("/admin/town", json={"public_board_enabled": True, "nearby_radius_m": 80},
                    headers=world.auth("admin")))
    config = ok(client.get(f"/towns/{world['town']}/client-config"))
    assert (config["public_board_enabled"], config["nearby_radius_m"]) == (True, 80)
    problem(client.get("/towns/999999/client-config"), 404)
    assert place(client, world, urgency="urgent")["urgency_label"] == "紧急"


def test_the_template_ids_are_published_once_subscribe_messages_are_on(settings, clock, database, world):
    templates = {"order.claim": {"template_id": "tmpl-claim", "data": {}},
                 "order.complete": {"template_id": "tmpl-done", "data": {}},
                 "order.dispatch": {"template_id": "tmpl-claim", "data": {}}}
    on = settings.model_copy(update={"wechat_subscribe_enabled": True, "wechat_templates": templates})
    with TestClient(create_app(on, clock=clock, database=database)) as client:
        assert ok(client.get(f"/towns/{world['town']}/client-config"))["subscribe_template_ids"] == [
            "tmpl-claim", "tmpl-done"]

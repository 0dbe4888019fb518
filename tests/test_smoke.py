def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_place_order(client, world):
    r = client.post("/orders", json={"category_id": world["cat"], "description": "路灯坏了"}, headers=world.auth("res1"))
    assert r.status_code == 201, r.text
    assert r.json()["state_label"] == "待领单"

"""The demo town and the command line."""

from __future__ import annotations

import subprocess
import sys

from sqlmodel import func, select

from storage.models import (
    ActionTeam, PointEntry, TaskVolunteer,
    Branch, Category, Grid, Hall, HallMatter, HallSession, Order, Resident, Staff, Visit, VisitTeam,
)
from workflows.demo import seed_demo_town


def test_demo_town_has_every_state(database, tmp_path, clock):
    accounts = seed_demo_town(database, now=clock(), photo_dir=tmp_path)
    again = seed_demo_town(database, now=clock(), photo_dir=tmp_path)
    assert len(again) == len(accounts), "seeding twice changes nothing"
    with database.session() as db:
        count = lambda model, *where: db.exec(select(func.count()).select_from(model).where(*where)).one()  # noqa: E731
        assert count(Branch) == 3 and count(Grid) == 8 and count(Category) == 7
        assert count(Staff, Staff.role == "member") >= 20
        assert count(Resident) == 5
        states = set(db.exec(select(Order.state)).all())
        channels = set(db.exec(select(Order.channel)).all())
        assert count(VisitTeam) == 1 and count(Visit) == 2
        assert count(Hall) == 2 and count(HallSession) == 2 and count(HallMatter) == 2
        assert count(Order, Order.channel == "hall") == 1
        assert count(ActionTeam) == 1 and count(Order, Order.action_team_id.is_not(None)) == 1
        assert count(TaskVolunteer) == 1 and count(Order, Order.task_until.is_not(None)) == 1
        rules = set(db.exec(select(PointEntry.rule)).all())
        assert {"closed_satisfied", "five_star", "low_rating", "manual"} <= rules, rules
        assert count(Order, Order.visit_id.is_not(None), Order.channel == "visit") == 1
    assert states == {"submitted", "claimed", "dispatched", "in_progress", "whistled", "completed", "closed",
                      "rejected", "cancelled"}
    assert channels == {"mini_program", "phone", "visit", "hall"}
    roles = {a.role for a in accounts}
    assert roles == {"town_admin", "secretary", "grid_worker", "member", "unit_staff", "resident"}


def test_demo_accounts_drive_the_api(app, database, clock, tmp_path):
    from fastapi.testclient import TestClient

    seed_demo_town(database, now=clock(), photo_dir=tmp_path)
    with TestClient(app) as client:
        token = client.post("/auth/staff", json={"phone": "13800000201", "password": "wudan-demo-2026"}).json()
        todo = client.get("/orders/todo", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        assert todo["total"] >= 1
        resident = client.post("/auth/dev/resident", json={"openid": "resident1"}).json()
        assert resident["profile_complete"] is True
        mine = client.get("/orders", headers={"Authorization": f"Bearer {resident['access_token']}"}).json()
        assert mine["total"] >= 3


def test_cli_help_explains_itself():
    out = subprocess.run([sys.executable, "-m", "wudan.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for word in ("serve", "migrate", "seed-demo", "create-town", "DATABASE_URL"):
        assert word in out
    serve = subprocess.run([sys.executable, "-m", "wudan.cli", "serve", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--demo" in serve and "--port" in serve


def _create_town(tmp_path, *args):
    env = {**__import__("os").environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", "WUDAN_ADMIN_PASSWORD": "a-long-password"}
    return subprocess.run([sys.executable, "-m", "wudan.cli", "create-town", *args], capture_output=True, text=True, env=env)


def test_create_town_validates_and_refuses_duplicates(tmp_path):
    made = _create_town(tmp_path, "青山镇", "--admin-phone", "13800000000")
    assert made.returncode == 0, made.stderr
    assert "admin signs in with 13800000000" in made.stdout
    again = _create_town(tmp_path, "青山镇", "--admin-phone", "13800000000")
    assert again.returncode == 2 and "already exists" in again.stderr and "argon2" not in again.stderr
    bad = _create_town(tmp_path, "绿水镇", "--admin-phone", "abc", "--timezone", "Mars/Olympus")
    assert bad.returncode == 2 and "phone" in bad.stderr and "time zone" in bad.stderr

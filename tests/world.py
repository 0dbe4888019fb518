"""A small, fully known world: two towns, their branches, grids, people and categories.

Rows are written straight to the database and tokens issued directly, so that a test
spends its time on the behaviour it checks rather than on sign-ins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from storage.engine import Database
from storage.models import Branch, Category, Grid, GridWorkerGrid, Resident, Staff, Town
from infra.passwords import hash_password
from infra.tokens import TokenClaims, issue_token

PASSWORD = "correct horse battery"


@lru_cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class World:
    settings: object
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def build_world(database: Database, settings, now: datetime) -> World:
    world = World(settings)
    with database.session(write=True) as db:
        def add(name, row):
            db.add(row)
            db.flush()
            world.ids[name] = row.id if hasattr(row, "id") else None
            return row

        def person(name, role, town, branch=None, grids=(), phone=None):
            phone = phone or f"1370000{len(world.phones):04d}"
            world.phones[name] = phone
            row = add(name, Staff(town_id=world[town], branch_id=world[branch] if branch else None, role=role,
                                  name=name, phone=phone, password_hash=_password_hash(), created_at=now))
            for grid in grids:
                db.add(GridWorkerGrid(staff_id=row.id, grid_id=world[grid]))
            world.tokens[name] = _token(settings, "staff", row.id, role, world[town], now)

        def resident(name, grid, town, phone):
            world.phones[name] = phone
            row = add(name, Resident(openid=f"openid-{name}", name=name, phone=phone, grid_id=world[grid],
                                     town_id=world[town], created_at=now))
            world.tokens[name] = _token(settings, "resident", row.id, "resident", world[town], now)

        add("town", Town(name="测试镇", created_at=now))
        add("town2", Town(name="邻镇", created_at=now))
        add("branchA", Branch(town_id=world["town"], name="甲村党支部", created_at=now))
        add("branchB", Branch(town_id=world["town"], name="乙村党支部", created_at=now))
        add("branchC", Branch(town_id=world["town2"], name="邻镇党支部", created_at=now))
        for grid, branch, town in (("gridA1", "branchA", "town"), ("gridA2", "branchA", "town"),
                                   ("gridB1", "branchB", "town"), ("gridC1", "branchC", "town2")):
            add(grid, Grid(town_id=world[town], branch_id=world[branch], name=grid, created_at=now))
        add("cat", Category(town_id=world["town"], name="基础设施维修", created_at=now))
        add("cat_urgent", Category(town_id=world["town"], name="房屋修缮", default_urgency="urgent", created_at=now))
        add("cat2", Category(town_id=world["town2"], name="邻镇类别", created_at=now))
        person("admin", "town_admin", "town")
        person("admin2", "town_admin", "town2")
        person("workerA1", "grid_worker", "town", grids=("gridA1",))
        person("workerA2", "grid_worker", "town", grids=("gridA2",))
        person("workerB1", "grid_worker", "town", grids=("gridB1",))
        person("workerC1", "grid_worker", "town2", grids=("gridC1",))
        person("secA", "secretary", "town", "branchA")
        person("secB", "secretary", "town", "branchB")
        person("memberA1", "member", "town", "branchA")
        person("memberA2", "member", "town", "branchA")
        person("memberB1", "member", "town", "branchB")
        person("memberC1", "member", "town2", "branchC")
        resident("res1", "gridA1", "town", "13900001111")
        resident("res2", "gridA1", "town", "13900002222")
        resident("res3", "gridC1", "town2", "13900003333")
        db.commit()
    world.tokens["dashboard"] = _token(settings, "dashboard", 424242, "dashboard", world["town"], now)
    return world


def _token(settings, kind, subject, role, town_id, now) -> str:
    return issue_token(settings.secret_key, TokenClaims(kind, subject, role, town_id), now, timedelta(days=365))

"""Fixtures: a database per backend, the app on it, a small world of people and places."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.databases import TestDatabase, backend_params, postgres_reachable
from tests.world import World, build_world
from infra.settings import Settings


class MovableClock:
    """The app's clock; tests move it instead of waiting."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture(scope="session", params=backend_params())
def test_database(request, tmp_path_factory):
    if request.param == "postgres":
        why = postgres_reachable()
        if why:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is required in CI and is not reachable: {why}")
            pytest.skip(f"PostgreSQL not reachable: {why}")
    db = TestDatabase(request.param, tmp_path_factory.mktemp(request.param))
    yield db
    db.drop()


@pytest.fixture
def database(test_database):
    test_database.empty()
    return test_database.database


@pytest.fixture
def clock():
    return MovableClock()


@pytest.fixture
def settings(tmp_path, test_database):
    return Settings(
        _env_file=None,
        environment="development",
        data_dir=tmp_path,
        database_url=test_database.url,
        migrate_on_start=False,
        scheduler_enabled=False,
        wechat_api_base="http://127.0.0.1:9",
        wechat_appid="wx-test-app",
        wechat_secret="wx-test-secret",
        photo_max_bytes=64 * 1024,
    )


@pytest.fixture
def app(settings, clock, database):
    return create_app(settings, clock=clock, database=database)


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(database, settings, clock) -> World:
    return build_world(database, settings, clock())

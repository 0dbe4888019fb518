"""The FastAPI application and its lifespan."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, Field

from api.limits import BodyLimit
from api.observability import RequestContext
from api.problems import install_problem_handlers
from api.routes import (
    action_teams, admin, auth, board, lists, branch, dashboard, halls, households, inbox, me, notifications_admin, office, ops, orders,
    open311, photos, places, points, projects, public, reports, stats, tasks, visits, whistles,
)
from storage.engine import Database, create_db_engine
from storage.migrate import upgrade
from infra import __version__
from infra.clock import Clock, utc_now
from infra.metrics import worker_stopping
from infra.settings import Settings, get_settings
from infra.wechat import WeChatClient
from jobs.worker import Worker

log = logging.getLogger("wudan")

DESCRIPTION = """
五单闭环: 群众点单 → 网格领单 → 支部派单 → 党员晒单 → 群众评单.

Sign in with `/auth/staff` (phone + password) or, for residents, `/auth/wechat`
(or `/auth/dev/resident` in development), then press **Authorize** and paste the token.
Errors are RFC 9457 problem details (`application/problem+json`).
"""


class Problem(BaseModel):
    """An RFC 9457 problem document, written in the language Accept-Language prefers (Content-Language)."""

    type: str = Field(description="`urn:wudan:problem:<code>`, or `about:blank` for a plain HTTP error.")
    code: str = Field(
        description="A stable machine name: the code `type` ends with, or the plain HTTP error's (`not-found`,"
                    " `method-not-allowed`, …). On a 401, why the token failed.",
    )
    title: str = Field(description="Short and the same for every problem of the code; Chinese when preferred.")
    status: int
    detail: str | None = Field(None, description="This occurrence, for people; Chinese when preferred.")
    instance: str | None = None
    current_state: str | None = Field(None, description="409 on an order: the state it is in now.")
    current_state_label: str | None = Field(None, description="409 on an order: that state's Chinese label.")
    allowed_actions: list[str] | None = Field(
        None, description="409 on an order: what the caller may do to it now, as in the order's view.")
    request_id: str | None = Field(None, description="On a 500: the X-Request-ID of the answer, to quote")
    accepted: list[str] | None = Field(None, description="On a 415: the media types the operation takes")


def create_app(
    settings: Settings | None = None, *, clock: Clock = utc_now, database: Database | None = None
) -> FastAPI:
    """The app; `database` lets a caller (the tests) share one engine across apps."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owns_database = database is None
        app.state.db = database or Database(create_db_engine(settings.database_url, timeouts=settings.db_timeouts))
        if settings.migrate_on_start:
            upgrade(app.state.db.engine)
        if settings.demo:
            from workflows.demo import seed_demo_town

            seed_demo_town(app.state.db, now=clock(), photo_dir=settings.photo_dir)
        app.state.wechat = WeChatClient(
            settings.wechat_api_base, settings.wechat_appid, settings.wechat_secret,
            timeout=settings.wechat_timeout_seconds,
        )
        worker = scheduler = None
        if settings.scheduler_enabled:
            worker = Worker(settings, app.state.db, clock, app.state.wechat)
            scheduler = worker.scheduler()
            scheduler.start()
        try:
            yield
        finally:
            if scheduler:
                scheduler.shutdown(wait=True)
                worker.close()
            app.state.wechat.close()
            if owns_database:
                app.state.db.dispose()
            worker_stopping()

    # One spelling of each path: `/orders/` is a 404, not a redirect that turns a client's POST into a GET.
    app = FastAPI(title="wudan 五单", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  redirect_slashes=False)
    app.state.settings = settings
    app.state.clock = clock
    install_problem_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    # Outermost: every answer has an id, a log line, a count, and an unexpected error the app's 500 problem.
    app.add_middleware(RequestContext, on_error=app.exception_handlers[Exception])
    for module in (ops, auth, me, inbox, public, board, orders, photos, branch, admin, places, open311, households, office,
                   whistles, visits, halls, action_teams, points, tasks, projects, lists, reports, notifications_admin, stats, dashboard):
        app.include_router(module.router)

    _document_problem_schema(app)
    return app


def _document_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
        return schema

    app.openapi = openapi

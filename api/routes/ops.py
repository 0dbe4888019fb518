"""For the operator: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.problems import language_of, problem, problem_responses
from api.routing import api_router
from domain.messages import Message
from storage.migrate import current_revision, head_revision
from workflows.deliveries import backlog
from infra.metrics import REGISTRY, exposition

log = logging.getLogger("wudan.ops")
router = api_router(tags=["ops"])

# Set from the database by each scrape, in whichever worker answers it: the newest value is the one to show.
BACKLOG = Gauge("wudan_outbox_backlog", "Notices waiting: not fanned out, or deliveries not yet sent",
                ("what",), registry=REGISTRY, multiprocess_mode="mostrecent")
DEAD = Gauge("wudan_dead_letters", "Deliveries given up on, waiting for an admin", registry=REGISTRY,
             multiprocess_mode="mostrecent")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (it does not look at the database)."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_responses(503))
def readyz(request: Request):
    """The database answers and its schema is at the newest migration."""
    engine = request.app.state.db.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = current_revision(engine), head_revision(engine)
    except SQLAlchemyError as exc:
        log.warning("not ready: %s", exc.__class__.__name__)
        return problem(503, Message("ready.no-database"), language=language_of(request),
                       headers={"Retry-After": "5"})
    if current != head:
        return problem(503, Message("ready.schema-behind", current=current, head=head), language=language_of(request),
                       headers={"Retry-After": "5"}, schema_revision=current, code_revision=head)
    return {"status": "ready", "schema_revision": current}


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Requests, moves, sweeps, deliveries, the outbox backlog and dead letters."""
    try:
        with request.app.state.db.session() as db:
            now = backlog(db)
        BACKLOG.labels("outbox").set(now.outbox_waiting)
        BACKLOG.labels("deliveries").set(now.deliveries_waiting)
        DEAD.set(now.dead_letters)
    except SQLAlchemyError:
        log.warning("metrics: the database did not answer; backlog gauges not updated")
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

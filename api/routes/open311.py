"""Open311 GeoReport v2 at /open311: discovery, services, requests, tokens; JSON or XML by suffix.

The specification fixes these answers and their errors (a list of `{code, description}`,
in the format asked for), so this door answers in its shape rather than in problem
details. `POST requests` is form-encoded with `attribute[code]` fields, as the
specification says. Each call runs its database work in one hand-off to the thread pool,
with a session of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.deps import Admin, Db, Now, Paging, PathId
from api.open311_format import FORMATS, answer, errors
from api.problems import problem_responses
from api.routing import api_router
from domain.errors import DomainError
from storage.models import Open311Client
from workflows import open311, open311_clients
from workflows.open311 import Open311Error
from workflows.open311_clients import ClientCreate, ClientView, IssuedClient
from workflows.paging import Page
from workflows.placing import PlacementLimits

router = api_router(tags=["open311"])
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00Z"


def _split(name: str) -> tuple[str, str | None]:
    """`requests.json` → ("requests", "json"); the format is None where the suffix is neither."""
    stem, _, fmt = name.rpartition(".")
    return (stem, fmt) if fmt in FORMATS and stem else (name, None)


NO_FORMAT = "ask for .json or .xml"


async def _run(request: Request, fmt: str, root: str, item: str | None,
               work: Callable[[Session, datetime], Any], *, write: bool = False, status: int = 200) -> Response:
    database = request.app.state.db
    now = request.app.state.clock()

    def in_thread() -> Any:
        with database.session(write=write) if write else database.reader() as db:
            return work(db, now)

    try:
        return answer(fmt, root, item, await run_in_threadpool(in_thread), status=status)
    except Open311Error as refused:
        return errors(fmt, refused.status, refused.description)
    except DomainError as refused:
        failed = open311.as_open311(refused)
        return errors(fmt, failed.status, failed.description)


def _client(db: Session, key: str | None) -> Open311Client | None:
    return open311_clients.client_for_key(db, key) if key else None


@router.get("/open311/discovery.{fmt}", include_in_schema=False)
async def discovery(request: Request, fmt: str) -> Response:
    """Where the GeoReport v2 endpoint is, and what it speaks."""
    if fmt not in FORMATS:
        return errors("json", 404, NO_FORMAT)
    base = str(request.base_url).rstrip("/")
    return answer(fmt, "discovery", None, {
        "changeset": CHANGESET, "contact": "the town office (镇党委) that runs this service",
        "key_service": "api_key: issued by the town admin (POST /admin/open311-clients)",
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base}/open311/v2", "changeset": CHANGESET,
                       "type": "production", "formats": ["application/json", "text/xml"]}]})


@router.get("/open311/v2/services/{name}", include_in_schema=False)
async def service_definition(request: Request, name: str) -> Response:
    """services/{service_code}.json|xml: a service's attributes (the category's extra questions)."""
    code, fmt = _split(name)
    if fmt is None:
        return errors("json", 404, NO_FORMAT)
    jurisdiction = request.query_params.get("jurisdiction_id")
    return await _run(request, fmt, "service_definition", None, lambda db, now: open311.service_definition(
        db, open311.town_of(db, jurisdiction), code))


@router.get("/open311/v2/requests/{name}", include_in_schema=False)
async def one_request(request: Request, name: str) -> Response:
    """requests/{service_request_id}.json|xml: one request, as a list of one."""
    request_id, fmt = _split(name)
    if fmt is None:
        return errors("json", 404, NO_FORMAT)
    query, base = dict(request.query_params), str(request.base_url)
    return await _run(request, fmt, "service_requests", "request", lambda db, now: open311.one_request(
        db, open311.town_of(db, query.get("jurisdiction_id")), request_id,
        client=_client(db, query.get("api_key")), base_url=base))


@router.get("/open311/v2/tokens/{name}", include_in_schema=False)
async def token(request: Request, name: str) -> Response:
    """tokens/{token}.json|xml: the request a token was given for."""
    value, fmt = _split(name)
    if fmt is None:
        return errors("json", 404, NO_FORMAT)
    jurisdiction = request.query_params.get("jurisdiction_id")
    return await _run(request, fmt, "service_requests", "request", lambda db, now: open311.by_token(
        db, open311.town_of(db, jurisdiction), value))


@router.get("/open311/v2/{name}", include_in_schema=False)
async def listing(request: Request, name: str) -> Response:
    """services.json|xml, the town's services; requests.json|xml, its requests (filters of the specification)."""
    what, fmt = _split(name)
    if fmt is None:
        return errors("json", 404, NO_FORMAT)
    query, base = dict(request.query_params), str(request.base_url)
    if what == "services":
        return await _run(request, fmt, "services", "service", lambda db, now: open311.services(
            db, open311.town_of(db, query.get("jurisdiction_id"))))
    if what == "requests":
        return await _run(request, fmt, "service_requests", "request", lambda db, now: open311.find_requests(
            db, open311.town_of(db, query.get("jurisdiction_id")), query,
            client=_client(db, query.get("api_key")), now=now, base_url=base))
    return errors(fmt, 404, f"{what} is not a resource of GeoReport v2")


@router.post("/open311/v2/{name}", include_in_schema=False)
async def post_request(request: Request, name: str) -> Response:
    """requests.json|xml, form-encoded: a new service request, answered with its id and a token."""
    what, fmt = _split(name)
    if fmt is None:
        return errors("json", 404, NO_FORMAT)
    if what != "requests":
        return errors(fmt, 404, f"{what} does not take a POST")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return errors(fmt, 415, "send the request form-encoded (application/x-www-form-urlencoded)")
    form_data = await request.form()
    form = {k: v for k, v in {**request.query_params, **form_data}.items() if isinstance(v, str)}
    attributes = _attributes(form_data)
    settings = request.app.state.settings
    per_hour = settings.open311_requests_per_hour_per_client
    limits = PlacementLimits(per_resident=per_hour, per_staff=per_hour, per_address=per_hour,
                             address=request.client.host if request.client else "unknown")

    def work(db: Session, now: datetime) -> list[dict]:
        client = open311.require_client(_client(db, form.get("api_key")))
        town = open311.town_of(db, form.get("jurisdiction_id") or str(client.town_id))
        open311_clients.note_use(db, client, now)  # committed with the placement, or not at all
        posted = open311.post_request(db, client, town, form, attributes, now=now,
                                      photos_per_order=settings.photos_per_order, limits=limits)
        return [{"service_request_id": str(posted.order_id), "token": posted.token,
                 "service_notice": "已受理，将按所在网格派单办理", "account_id": form.get("account_id") or None}]

    return await _run(request, fmt, "service_requests", "request", work, write=True, status=201)


def _attributes(form_data) -> dict[str, str | list[str]]:
    """attribute[code]=value, and attribute[code][]=value for each value of a multivaluelist."""
    found: dict[str, str | list[str]] = {}
    for key, value in form_data.multi_items():
        if not (key.startswith("attribute[") and isinstance(value, str)):
            continue
        code = key[len("attribute["):].split("]", 1)[0]
        if key.endswith("[]"):
            listed = found.setdefault(code, [])
            if isinstance(listed, list):
                listed.append(value)
        else:
            found[code] = value
    return found


# The town admin's clients and keys.

@router.post("/admin/open311-clients", status_code=201, tags=["admin"],
             responses=problem_responses(401, 403, body=True))
def create_client(body: ClientCreate, user: Admin, db: Db, now: Now) -> IssuedClient:
    """A client system and its API key, shown this once."""
    return open311_clients.create_client(db, user, body, now=now)


@router.get("/admin/open311-clients", tags=["admin"], responses=problem_responses(401, 403, 422))
def list_clients(user: Admin, db: Db, page: Paging) -> Page[ClientView]:
    return open311_clients.list_clients(db, user, page)


@router.post("/admin/open311-clients/{client_id}/revoke", tags=["admin"],
             responses=problem_responses(401, 403, 404, 422))
def revoke_client(client_id: PathId, user: Admin, db: Db, now: Now) -> ClientView:
    """The key stops working at once; the orders it placed stay."""
    return open311_clients.revoke_client(db, user, client_id, now=now)

"""Open311 GeoReport v2: the town's categories as services, orders as service requests.

A city platform (a 12345 hotline, a city app) posts a request with its API key; the order
enters the loop like any other, by the channel `open311`, routed to the grid its location
is in. Anyone may read the requests of the categories the town made public, without
anything personal: no name, phone, email or address of a resident, and a location
rounded to about 10 m. A client reads its own requests in full.

Answers are plain dicts in the specification's fields and order; `api/open311_format.py`
writes them as JSON or XML.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlmodel import Session, col, select

from domain.errors import DomainError
from domain.roles import Role
from domain.states import OPEN_STATES, OrderState
from storage.models import Branch, Category, Household, Open311Client, Order, Town
from workflows.board import BOARD_STATES, evidence_photos
from workflows.inputs import OrderDraft
from workflows.placing import PlacementLimits, TakenAt, place_order
from workflows.principal import Principal

DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
PUBLIC_DECIMALS = 4  # about 11 m of latitude
PHONE = re.compile(r"^\+?[0-9]{5,15}$")


class Open311Error(Exception):
    """A refusal in the specification's shape: its HTTP status and one `{code, description}`."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def as_open311(refused: DomainError) -> Open311Error:
    status = {"not-found": 404, "not-permitted": 403, "too-many-orders": 429}.get(refused.code, 400)
    return Open311Error(status, refused.detail)


MAX_ID = 2**31 - 1


def as_id(value: str | None) -> int | None:
    """A row id given as text: ASCII digits within the columns' range, else None (not found)."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def w3c(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def parse_w3c(value: str, name: str) -> datetime:
    """A W3C datetime of the years the service keeps (1970–9998), in UTC."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise Open311Error(400, f"{name} must be a W3C datetime, e.g. 2026-01-01T00:00:00Z") from None
    if not 1970 <= moment.year <= 9998:
        raise Open311Error(400, f"{name} must be between 1970 and 9998")
    return moment


def town_of(db: Session, jurisdiction_id: str | None) -> Town:
    """The town a request is for: by `jurisdiction_id` (its id), which a service of one town may leave out."""
    if jurisdiction_id:
        town_id = as_id(jurisdiction_id)
        town = db.get(Town, town_id) if town_id else None
        if town is None:
            raise Open311Error(404, f"jurisdiction_id {jurisdiction_id} is not served here")
        return town
    towns = db.exec(select(Town).order_by(col(Town.id)).limit(2)).all()
    if len(towns) != 1:
        raise Open311Error(400, "jurisdiction_id is required: this service serves more than one town (see /towns)")
    return towns[0]


# Services.

def services(db: Session, town: Town) -> list[dict]:
    categories = db.exec(select(Category).where(Category.town_id == town.id, col(Category.active))
                         .order_by(col(Category.id))).all()
    return [{"service_code": str(c.id), "service_name": c.name, "description": c.description,
             "metadata": bool(c.attributes), "type": "realtime", "keywords": c.keywords, "group": c.group_name}
            for c in categories]


def _category(db: Session, town: Town, service_code: str | None) -> Category:
    category_id = as_id(service_code)
    category = db.get(Category, category_id) if category_id else None
    if category is None or category.town_id != town.id or not category.active:
        raise Open311Error(404, f"service_code {service_code} is not a service of this jurisdiction")
    return category


def service_definition(db: Session, town: Town, service_code: str) -> dict:
    category = _category(db, town, service_code)
    return {"service_code": str(category.id), "attributes": [
        {"variable": a.get("variable", True), "code": a["code"], "datatype": a["datatype"],
         "required": a.get("required", False), "datatype_description": a.get("datatype_description", ""),
         "order": a.get("order", 0), "description": a["description"],
         "values": [{"key": v["key"], "name": v["name"]} for v in a.get("values") or []]}
        for a in category.attributes]}


# Posting a request.

@dataclass(frozen=True)
class Posted:
    order_id: int
    token: str


def post_request(db: Session, client: Open311Client, town: Town, form: dict[str, str],
                 attributes: dict[str, str | list[str]], *, now: datetime, photos_per_order: int,
                 limits: PlacementLimits | None) -> Posted:
    """Place the order the form asks for, as the client; a refusal is an `Open311Error`."""
    if client.town_id != town.id:
        raise Open311Error(403, "this api_key is not for this jurisdiction")
    category = _category(db, town, form.get("service_code"))
    lat, lng = _location(form)
    description = (form.get("description") or "").strip()
    if not description:
        raise Open311Error(400, "description is required: what is the matter")
    taken_at = _household_at(db, town, form.get("address_id")) if form.get("address_id") else None
    if lat is None and taken_at is None and town.intake_grid_id is None:
        raise Open311Error(400, "lat and long (or address_id) are required to find the grid")
    phone = re.sub(r"[\s()-]", "", form.get("phone") or "") or None
    if phone and not PHONE.match(phone):
        raise Open311Error(400, "phone must be digits, 5 to 15 of them")
    name = " ".join(p for p in ((form.get("last_name") or "").strip(), (form.get("first_name") or "").strip()) if p)
    media_url = (form.get("media_url") or "").strip() or None
    if media_url and (len(media_url) > 500 or not re.match(r"^https?://", media_url)):
        raise Open311Error(400, "media_url must be an http(s) URL of at most 500 characters")
    try:
        draft = OrderDraft(
            category_id=category.id, description=description,
            address=(form.get("address_string") or "").strip() or None,
            latitude=lat, longitude=lng, attributes=attributes,
            grid_id=town.intake_grid_id if lat is None and taken_at is None else None,
            contact_name=name or None, contact_phone=phone)
    except ValidationError as invalid:
        raise Open311Error(400, _first_error(invalid)) from None
    token = secrets.token_urlsafe(18)
    actor = Principal(kind="client", id=client.id, role=Role.CITY_PLATFORM, name=client.name, town_id=town.id)
    try:
        placed = place_order(db, actor, draft, idempotency_key=None, photos_per_order=photos_per_order, now=now,
                             limits=limits, taken_at=taken_at,
                             order_fields={"open311_token": token, "media_url": media_url})
    except DomainError as refused:
        raise as_open311(refused) from None
    return Posted(placed.order.id, token)


# The form's fields as the order's: what a refusal names.
FIELDS = {"description": "description", "address": "address_string", "contact_name": "first_name/last_name",
          "contact_phone": "phone", "attributes": "attribute"}


def _first_error(invalid: ValidationError) -> str:
    error = invalid.errors()[0]
    where = [str(part) for part in error["loc"]]
    field = FIELDS.get(where[0], where[0]) if where else "the request"
    return f"{field}{'[' + where[1] + ']' if len(where) > 1 else ''}: {error['msg']}"


def _location(form: dict[str, str]) -> tuple[float | None, float | None]:
    raw_lat, raw_lng = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    if not raw_lat and not raw_lng:
        return None, None
    try:
        lat, lng = float(raw_lat), float(raw_lng)
    except ValueError:
        raise Open311Error(400, "lat and long must be decimal degrees, both of them") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Open311Error(400, "lat and long are out of range")
    return lat, lng


def _household_at(db: Session, town: Town, address_id: str) -> TakenAt:
    """`address_id` is a household's id (the town's 住户名单): it names the grid and the household."""
    household_id = as_id(address_id)
    household = db.get(Household, household_id) if household_id else None
    if household is None or household.town_id != town.id:
        raise Open311Error(404, f"address_id {address_id} is not an address of this jurisdiction")
    return TakenAt(grid_id=household.grid_id, household_id=household.id)


# Reading requests.

def request_views(db: Session, town: Town, orders: list[Order], *, client: Open311Client | None,
                  base_url: str) -> list[dict]:
    categories = {c.id: c for c in db.exec(select(Category).where(
        col(Category.id).in_({o.category_id for o in orders}))).all()} if orders else {}
    branches = dict(db.exec(select(Branch.id, Branch.name).where(
        col(Branch.id).in_({o.branch_id for o in orders}))).all()) if orders else {}
    evidence = _public_photos(db, town, orders)
    return [_request_view(o, categories[o.category_id], branches.get(o.branch_id, ""), evidence.get(o.id),
                          own=client is not None and o.open311_client_id == client.id, base_url=base_url)
            for o in orders]


def _public_photos(db: Session, town: Town, orders: list[Order]) -> dict[int, str]:
    """The public URL of the first photo of the work done, where the town's board shows it."""
    shown = [o.id for o in orders if OrderState(o.state) in BOARD_STATES]
    if not town.public_board_enabled:
        return {}
    return {order_id: photos[0].url for order_id, photos in evidence_photos(db, shown).items()}


def _request_view(order: Order, category: Category, branch: str, photo_url: str | None, *, own: bool,
                  base_url: str) -> dict:
    state = OrderState(order.state)
    is_open = state in OPEN_STATES
    notes = state.label + (f":{order.completion_note}" if order.completion_note and not is_open else "")
    rounded = (lambda v: v) if own else (lambda v: round(v, PUBLIC_DECIMALS) if v is not None else None)
    media = base_url.rstrip("/") + photo_url if photo_url else (order.media_url if own else None)
    return {
        "service_request_id": str(order.id), "status": "open" if is_open else "closed", "status_notes": notes,
        "service_name": category.name, "service_code": str(category.id), "description": order.description,
        "agency_responsible": branch, "service_notice": state.label,
        "requested_datetime": w3c(order.created_at), "updated_datetime": w3c(order.updated_at),
        "expected_datetime": w3c(order.stage_deadline) if is_open else None,
        # A resident's address is theirs: the client that sent it reads it back, nobody else.
        "address": order.address if own else None, "address_id": None, "zipcode": None,
        "lat": rounded(order.latitude), "long": rounded(order.longitude), "media_url": media,
    }


def _readable(town: Town, client: Open311Client | None):
    public = col(Order.category_id).in_(select(Category.id).where(
        Category.town_id == town.id, col(Category.public_requests)))
    return public | (col(Order.open311_client_id) == client.id) if client is not None else public


def find_requests(db: Session, town: Town, query: dict[str, str], *, client: Open311Client | None,
                  now: datetime, base_url: str) -> list[dict]:
    """GET requests: by ids (which overrides the rest), or by service, period and status, newest first."""
    where = [Order.town_id == town.id, _readable(town, client)]
    ids = [i.strip() for i in (query.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        if any(as_id(i) is None for i in ids):
            raise Open311Error(400, "service_request_id is a comma-separated list of request numbers")
        where.append(col(Order.id).in_([as_id(i) for i in ids][:MAX_REQUESTS]))
    else:
        end = parse_w3c(query["end_date"], "end_date") if query.get("end_date") else now
        start = parse_w3c(query["start_date"], "start_date") if query.get("start_date") else end - timedelta(
            days=DEFAULT_DAYS)
        if start > end:
            raise Open311Error(400, "start_date is after end_date")
        if end - start > timedelta(days=DEFAULT_DAYS):
            raise Open311Error(400, f"start_date to end_date may span {DEFAULT_DAYS} days at most")
        where += [col(Order.created_at) >= start, col(Order.created_at) <= end]
        codes = [c.strip() for c in (query.get("service_code") or "").split(",") if c.strip()]
        if codes:
            where.append(col(Order.category_id).in_([as_id(c) for c in codes if as_id(c) is not None]))
        statuses = {s.strip() for s in (query.get("status") or "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status is open, closed, or both comma-separated")
        if statuses == {"open"}:
            where.append(col(Order.state).in_([s.value for s in OPEN_STATES]))
        elif statuses == {"closed"}:
            where.append(col(Order.state).not_in([s.value for s in OPEN_STATES]))
    orders = db.exec(select(Order).where(*where).order_by(col(Order.id).desc()).limit(MAX_REQUESTS)).all()
    return request_views(db, town, list(orders), client=client, base_url=base_url)


def one_request(db: Session, town: Town, request_id: str, *, client: Open311Client | None, base_url: str) -> list[dict]:
    order_id = as_id(request_id)
    order = db.exec(select(Order).where(Order.id == order_id, Order.town_id == town.id,
                                        _readable(town, client))).first() if order_id else None
    if order is None:
        raise Open311Error(404, f"service request {request_id} not found")
    return request_views(db, town, [order], client=client, base_url=base_url)


def by_token(db: Session, town: Town, token: str) -> list[dict]:
    order_id = db.exec(select(Order.id).where(Order.open311_token == token, Order.town_id == town.id)).first()
    if order_id is None:
        raise Open311Error(404, f"token {token} not found")
    return [{"service_request_id": str(order_id), "token": token}]


def require_client(db_client: Open311Client | None) -> Open311Client:
    if db_client is None:
        raise Open311Error(403, "api_key is missing, wrong or revoked")
    return db_client

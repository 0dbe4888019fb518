"""Town admins: how notification delivery is going, dead letters, and retrying them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Response

from api.deps import Admin, Db, Now, Paging, PathId
from api.problems import problem_responses
from api.routing import api_router
from workflows import deliveries
from workflows.deliveries import DeliverySummary, DeliveryView
from workflows.paging import Page

router = api_router(prefix="/admin/notifications", tags=["admin"], responses=problem_responses(401, 403))

DeliveryStatus = Literal["pending", "sending", "sent", "retry", "dead", "refused", "skipped"]


@router.get("/summary")
def delivery_summary(user: Admin, db: Db, now: Now) -> DeliverySummary:
    """Deliveries by channel and status, notices not yet fanned out, and senders stuck past their lease."""
    return deliveries.summary(db, user, now)


@router.get("", responses=problem_responses(422))
def list_deliveries(
    user: Admin, db: Db, page: Paging,
    status: Annotated[DeliveryStatus | None, Query(description="e.g. dead for the dead letters")] = None,
    channel: Annotated[Literal["inapp", "wechat", "wecom", "webhook"] | None, Query()] = None,
) -> Page[DeliveryView]:
    return deliveries.list_deliveries(db, user, page, status=status, channel=channel)


@router.post("/{delivery_id}/retry", status_code=204, responses=problem_responses(404, 409, 422))
def retry_delivery(delivery_id: PathId, user: Admin, db: Db, now: Now) -> Response:
    deliveries.retry_delivery(db, user, delivery_id, now=now)
    return Response(status_code=204)

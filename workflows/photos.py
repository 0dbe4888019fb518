"""Photos: store an upload after sniffing its content; attach it to an order; serve it.

An upload lives on its own until an order takes it. Each person may hold only so many
of those at once and make only so many uploads an hour, and the worker deletes the ones
no order took in time (`remove_orphan_photos`), so uploads cannot fill the disk.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from domain.errors import NotFound, RuleViolation
from storage.engine import Database
from storage.models import Order, Photo, Project
from workflows.principal import Principal
from workflows.scope import visible_orders
from workflows.throttle import TooManyAttempts, count_hit, window_start
from infra.metrics import PHOTOS_REMOVED

log = logging.getLogger("wudan.photos")

UPLOAD_WINDOW_SECONDS = 3600

# The first bytes of each accepted format; the filename and the client's type are not trusted.
def sniff_image_type(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class UnsupportedImage(RuleViolation):
    code = "unsupported-media-type"


class ImageTooLarge(RuleViolation):
    code = "payload-too-large"


class TooManyUploads(TooManyAttempts):
    """429 with Retry-After, like a throttled sign-in."""

    code = "too-many-uploads"


def photo_path(photo_dir: Path, photo_id: str) -> Path:
    return photo_dir / photo_id[:2] / photo_id


def store_photo(
    db: Session, actor: Principal, content: bytes, *, photo_dir: Path, max_bytes: int, now: datetime,
    unattached_max: int | None = None, per_hour: int | None = None, orphan_age: timedelta | None = None,
) -> Photo:
    """Keep one upload, row and file, or neither.

    Uploads over the API are limited per person: `per_hour`, and `unattached_max` not yet
    on an order, of which those `orphan_age` old no longer count. Without limits (the demo
    seed, benchmarks) nothing is counted.
    """
    if unattached_max is not None and orphan_age is None:
        raise TypeError("unattached_max needs orphan_age")
    if len(content) > max_bytes:
        raise ImageTooLarge(key="photo.too-large", max_bytes=max_bytes)
    content_type = sniff_image_type(content[:16])
    if content_type is None:
        raise UnsupportedImage(key="photo.unsupported-type")
    photo = Photo(
        id=secrets.token_urlsafe(24),
        uploader_role=actor.role.value,
        uploader_id=actor.id,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=now,
    )
    path = photo_path(photo_dir, photo.id)
    try:
        if per_hour is not None:
            _count_upload(db, actor, now=now, per_hour=per_hour)
        if unattached_max is not None:
            _check_unattached(db, actor, now=now, unattached_max=unattached_max, orphan_age=orphan_age)
        db.add(photo)
        db.flush()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, path)
        db.commit()
    except BaseException:
        # Neither a row without its file nor a file without its row.
        db.rollback()
        path.unlink(missing_ok=True)
        path.with_suffix(".part").unlink(missing_ok=True)
        raise
    return photo


def _count_upload(db: Session, actor: Principal, *, now: datetime, per_hour: int) -> None:
    """Count the upload in the uploader's clock hour; refuse it over the limit (the count rolls back).

    The counter is a row of `rate_limit_hits`, as for sign-ins. Its upsert also queues
    one person's concurrent uploads on PostgreSQL until the first commits, so the count of
    unattached photos that follows sees every earlier upload; SQLite serialises writers
    anyway.
    """
    start = window_start(now, UPLOAD_WINDOW_SECONDS)
    if count_hit(db, f"photos:{actor.role.value}:{actor.id}", start) > per_hour:
        retry_after = _seconds_until(start + timedelta(seconds=UPLOAD_WINDOW_SECONDS), now)
        raise TooManyUploads(key="photo.per-hour", retry_after=retry_after, per_hour=per_hour)


def _check_unattached(
    db: Session, actor: Principal, *, now: datetime, unattached_max: int, orphan_age: timedelta
) -> None:
    # An upload `orphan_age` old no longer counts: the next cleanup deletes it.
    held, oldest = db.execute(select(func.count(), func.min(col(Photo.created_at))).where(
        col(Photo.uploader_role) == actor.role.value,
        col(Photo.uploader_id) == actor.id,
        col(Photo.order_id).is_(None),
        col(Photo.project_id).is_(None),
        col(Photo.created_at) > now - orphan_age,
    )).one()
    if held >= unattached_max:
        retry_after = _seconds_until(oldest + orphan_age, now)
        raise TooManyUploads(key="photo.unattached", retry_after=retry_after, unattached_max=unattached_max)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def attach_photos(
    db: Session, actor: Principal, order: Order, photo_ids: list[str], purpose: str, limit: int
) -> None:
    """Tie the actor's own unattached uploads to the order, or refuse the lot."""
    unique_ids = list(dict.fromkeys(photo_ids))
    if not unique_ids:
        return
    # Per step, not per order: evidence of a reopened round must never be refused.
    if len(unique_ids) > limit:
        raise RuleViolation(key="photo.too-many", limit=limit)
    # One conditional UPDATE: of two requests using one upload, only one can take it.
    taken = db.execute(
        update(Photo).where(
            col(Photo.id).in_(unique_ids),
            col(Photo.uploader_role) == actor.role.value,
            col(Photo.uploader_id) == actor.id,
            col(Photo.order_id).is_(None),
            col(Photo.project_id).is_(None),
        ).values(order_id=order.id, purpose=purpose).execution_options(synchronize_session=False)
    ).rowcount
    if taken != len(unique_ids):
        raise RuleViolation(key="photo.not-yours")


def attach_project_photos(db: Session, actor: Principal, project_id: int, milestone_id: int | None,
                          photo_ids: list[str], purpose: str, limit: int) -> None:
    """Tie the actor's own unattached uploads to a project (or one of its milestones), or refuse the lot."""
    unique_ids = list(dict.fromkeys(photo_ids))
    if not unique_ids:
        return
    if len(unique_ids) > limit:
        raise RuleViolation(key="photo.too-many", limit=limit)
    taken = db.execute(
        update(Photo).where(
            col(Photo.id).in_(unique_ids), col(Photo.uploader_role) == actor.role.value,
            col(Photo.uploader_id) == actor.id, col(Photo.order_id).is_(None), col(Photo.project_id).is_(None),
        ).values(project_id=project_id, milestone_id=milestone_id, purpose=purpose)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != len(unique_ids):
        raise RuleViolation(key="photo.not-yours")


def load_photo(db: Session, photo_id: str) -> Photo:
    """A photo by id, for one whose access was checked already (a signed URL)."""
    photo = db.get(Photo, photo_id)
    if photo is None:
        raise NotFound(key="photo.not-found")
    return photo


def load_visible_photo(db: Session, actor: Principal, photo_id: str) -> Photo:
    photo = db.get(Photo, photo_id)
    if photo is not None:
        if photo.project_id is not None:
            project = db.get(Project, photo.project_id)
            if actor.kind == "staff" and project is not None and project.town_id == actor.town_id:
                return photo  # a project's photos are its town's staff's to see
        elif photo.order_id is None:
            if photo.uploader_role == actor.role.value and photo.uploader_id == actor.id:
                return photo
        elif db.exec(
            select(Order.id).where(Order.id == photo.order_id, visible_orders(actor))
        ).first():
            return photo
    raise NotFound(key="photo.not-found")


@dataclass
class PhotoCleanupReport:
    removed: int = 0
    failed_files: int = 0
    seconds: float = 0.0


def remove_orphan_photos(
    database: Database, *, photo_dir: Path, now: datetime, orphan_age: timedelta, batch: int = 500,
    before_delete: Callable[[list[str]], None] | None = None,
) -> PhotoCleanupReport:
    """Delete the uploads no order took within `orphan_age`: rows, then their files.

    Each batch is one conditional DELETE that re-checks that no order or project has it, so a photo
    attached after it was picked keeps its row and file; an attach that comes after the
    DELETE finds the photo gone and is refused. Files go only for the rows the DELETE
    returned, and only after it committed: a crash in between leaves a file without a
    row (wasted space), never a row without its file. `before_delete` is handed each
    batch's picked ids just before its DELETE.
    """
    started = time.perf_counter()
    report = PhotoCleanupReport()
    cutoff = now - orphan_age
    unattached_and_old = (col(Photo.order_id).is_(None), col(Photo.project_id).is_(None),
                          col(Photo.created_at) < cutoff)
    while True:
        with database.session() as db:
            picked = list(db.exec(select(Photo.id).where(*unattached_and_old).limit(batch)).all())
        if not picked:
            break
        if before_delete:
            before_delete(picked)
        with database.session(write=True) as db:
            removed = list(db.execute(
                delete(Photo).where(col(Photo.id).in_(picked), *unattached_and_old).returning(col(Photo.id))
            ).scalars())
            db.commit()
        report.removed += len(removed)
        PHOTOS_REMOVED.inc(len(removed))
        for photo_id in removed:
            try:
                photo_path(photo_dir, photo_id).unlink(missing_ok=True)
            except OSError:  # one unreadable file must not stop the rest
                report.failed_files += 1
                log.exception("could not delete the file of removed photo %s", photo_id)
        if len(picked) < batch:
            break
    report.seconds = time.perf_counter() - started
    return report

"""Photos: store an upload after sniffing its content; attach it to an order; serve it."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from domain.errors import NotFound, RuleViolation
from storage.models import Order, Photo
from workflows.principal import Principal
from workflows.scope import visible_orders

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
    title = "Unsupported image type"


class ImageTooLarge(RuleViolation):
    code = "payload-too-large"
    title = "Image too large"


def photo_path(photo_dir: Path, photo_id: str) -> Path:
    return photo_dir / photo_id[:2] / photo_id


def store_photo(
    db: Session, actor: Principal, content: bytes, *, photo_dir: Path, max_bytes: int, now: datetime
) -> Photo:
    if len(content) > max_bytes:
        raise ImageTooLarge(f"an image may be at most {max_bytes} bytes")
    content_type = sniff_image_type(content[:16])
    if content_type is None:
        raise UnsupportedImage("only JPEG, PNG and WebP images are accepted")
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


def attach_photos(
    db: Session, actor: Principal, order: Order, photo_ids: list[str], purpose: str, limit: int
) -> None:
    """Tie the actor's own unattached uploads to the order, or refuse the lot."""
    unique_ids = list(dict.fromkeys(photo_ids))
    if not unique_ids:
        return
    # Per step, not per order: evidence of a reopened round must never be refused.
    if len(unique_ids) > limit:
        raise RuleViolation(f"at most {limit} photos at a time")
    # One conditional UPDATE: of two requests using one upload, only one can take it.
    taken = db.execute(
        update(Photo).where(
            col(Photo.id).in_(unique_ids),
            col(Photo.uploader_role) == actor.role.value,
            col(Photo.uploader_id) == actor.id,
            col(Photo.order_id).is_(None),
        ).values(order_id=order.id, purpose=purpose).execution_options(synchronize_session=False)
    ).rowcount
    if taken != len(unique_ids):
        raise RuleViolation("some photos are not among your unused uploads")


def load_visible_photo(db: Session, actor: Principal, photo_id: str) -> Photo:
    photo = db.get(Photo, photo_id)
    if photo is not None:
        if photo.order_id is None:
            if photo.uploader_role == actor.role.value and photo.uploader_id == actor.id:
                return photo
        elif db.exec(
            select(Order.id).where(Order.id == photo.order_id, visible_orders(actor))
        ).first():
            return photo
    raise NotFound("photo not found")

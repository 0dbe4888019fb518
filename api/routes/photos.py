"""Photo upload and download, only for those who may see the order.

A photo loads with a bearer header at `/photos/{id}`, or without one at the signed URL
an answer gives (`/photos/{id}/signed?…`), which is what a mini-program's `<image>` uses.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import Depends, File, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.deps import AppSettings, Db, Now, PathPhotoId, Person
from api.problems import problem_responses
from api.routing import api_router
from domain.errors import NotFound
from workflows.photo_links import PhotoLinks
from workflows.photos import ImageTooLarge, load_photo, load_visible_photo, photo_path, store_photo

log = logging.getLogger("wudan.photos")
router = api_router(prefix="/photos", tags=["photos"])


async def get_photo_links(settings: AppSettings) -> PhotoLinks:
    return PhotoLinks.from_secret(settings.secret_key, settings.photo_url_seconds)


Links = Annotated[PhotoLinks, Depends(get_photo_links)]
IMAGE_TYPES = {"image/jpeg": {}, "image/png": {}, "image/webp": {}}


class PhotoUploaded(BaseModel):
    id: str
    url: str = Field(description="Signed: loads without an Authorization header until `url_expires_at`.")
    url_expires_at: datetime
    content_type: str
    size: int


@router.post("", status_code=201, responses=problem_responses(401, 403, 415, 429, body=True))
def upload_photo(
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    user: Person, db: Db, now: Now, settings: AppSettings, links: Links,
) -> PhotoUploaded:
    """Upload one image; use its id in `photo_ids` when placing or completing an order.

    An upload no order uses within `PHOTO_ORPHAN_HOURS` is deleted. 429 (with
    `Retry-After`) when the caller already holds `PHOTO_UNATTACHED_MAX` unused uploads
    or has made `PHOTO_UPLOADS_PER_HOUR` this hour.
    """
    content = file.file.read(settings.photo_max_bytes + 1)
    if len(content) > settings.photo_max_bytes:
        raise ImageTooLarge(key="photo.too-large", max_bytes=settings.photo_max_bytes)
    photo = store_photo(
        db, user, content, photo_dir=settings.photo_dir, max_bytes=settings.photo_max_bytes, now=now,
        unattached_max=settings.photo_unattached_max, per_hour=settings.photo_uploads_per_hour,
        orphan_age=settings.photo_orphan_age,
    )
    signed = links.url(photo.id, now)
    return PhotoUploaded(id=photo.id, url=signed.url, url_expires_at=signed.expires_at,
                         content_type=photo.content_type, size=photo.size)


@router.get(
    "/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": IMAGE_TYPES}, **problem_responses(401, 403, 404, 422)},
)
def download_photo(photo_id: PathPhotoId, user: Person, db: Db, settings: AppSettings) -> FileResponse:
    return photo_file(load_visible_photo(db, user, photo_id), settings, cache="private, max-age=3600")


@router.get(
    "/{photo_id}/signed",
    response_class=FileResponse,
    responses={200: {"content": IMAGE_TYPES}, **problem_responses(403, 404, 422)},
)
def download_signed_photo(
    photo_id: PathPhotoId, db: Db, now: Now, settings: AppSettings, links: Links,
    expires: Annotated[str, Query(max_length=20, description="Unix time the URL stops working.")],
    signature: Annotated[str, Query(max_length=100)],
) -> FileResponse:
    """The photo a signed URL of an answer names, without an Authorization header, until it expires.

    403 `photo-link-invalid` for a URL that was not signed here as it is, 403
    `photo-link-expired` past `expires`: read the order again for a fresh URL.
    """
    seconds_left = links.check(photo_id, expires, signature, now)
    # Kept by the reader's own cache only, and never past the URL's expiry.
    return photo_file(load_photo(db, photo_id), settings, cache=f"private, max-age={seconds_left}")


def photo_file(photo, settings, *, cache: str) -> FileResponse:
    """The stored image of `photo`; a row whose file is gone is a logged 404, not a 500."""
    path = photo_path(settings.photo_dir, photo.id)
    if not path.is_file():
        log.error("photo %s is in the database but not in %s", photo.id, settings.photo_dir)
        raise NotFound(key="photo.file-missing")
    return FileResponse(
        path, media_type=photo.content_type,
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )

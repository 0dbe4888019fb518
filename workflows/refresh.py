"""Refresh tokens: long-lived, single use, rotated on every use, revoked as a family on reuse."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.engine import Database
from storage.models import RefreshToken
from workflows.errors import SignInFailed, SignInReason


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(database: Database, user_kind: str, user_id: int, *, now: datetime, days: int,
          family: str | None = None) -> str:
    with database.session(write=True) as db:
        raw = _add(db, user_kind, user_id, now=now, days=days, family=family)
        db.commit()
    return raw


def _add(db: Session, user_kind: str, user_id: int, *, now: datetime, days: int, family: str | None) -> str:
    raw = secrets.token_urlsafe(32)
    db.add(RefreshToken(token_hash=_digest(raw), family=family or uuid.uuid4().hex, user_kind=user_kind,
                        user_id=user_id, expires_at=now + timedelta(days=days), created_at=now))
    return raw


def rotate(database: Database, raw: str, *, now: datetime, days: int) -> tuple[str, int, str]:
    """Use a refresh token once: (user_kind, user_id, the next refresh token)."""
    with database.session(write=True) as db:
        row = db.exec(select(RefreshToken).where(RefreshToken.token_hash == _digest(raw))).first()
        if row is None:
            raise SignInFailed("the refresh token is not one of this service's; sign in again",
                               SignInReason.TOKEN_INVALID)
        if row.revoked_at is not None:
            raise SignInFailed("the session of this refresh token has ended; sign in again", SignInReason.SIGNED_OUT)
        if row.expires_at <= now:
            raise SignInFailed("the refresh token has expired; sign in again", SignInReason.TOKEN_EXPIRED)
        # Of two uses of one token, exactly one sets used_at; the other is a replay.
        taken = db.execute(
            update(RefreshToken).where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
            .values(used_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            _revoke(db, col(RefreshToken.family) == row.family, now)
            db.commit()
            raise SignInFailed("this refresh token was already used; every session it belongs to is ended",
                               SignInReason.SIGNED_OUT)
        following = _add(db, row.user_kind, row.user_id, now=now, days=days, family=row.family)
        db.commit()
        return row.user_kind, row.user_id, following


def end_family(database: Database, raw: str, *, now: datetime) -> None:
    """Sign out: the token's family can refresh no more."""
    with database.session(write=True) as db:
        row = db.exec(select(RefreshToken).where(RefreshToken.token_hash == _digest(raw))).first()
        if row is not None:
            _revoke(db, col(RefreshToken.family) == row.family, now)
            db.commit()


def revoke_user(db: Session, user_kind: str, user_id: int, now: datetime) -> None:
    """In the caller's transaction: a new password or a disabled account ends every session."""
    _revoke(db, (col(RefreshToken.user_kind) == user_kind) & (col(RefreshToken.user_id) == user_id), now)


def _revoke(db: Session, where, now: datetime) -> None:
    db.execute(update(RefreshToken).where(where, col(RefreshToken.revoked_at).is_(None))
               .values(revoked_at=now).execution_options(synchronize_session=False))

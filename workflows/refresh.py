"""Refresh tokens: long-lived, single use, rotated on every use, revoked as a family on reuse.

A token used a second time is either a copy in someone else's hands or the same client
asking twice: two tabs refreshing at once, or a retry after the first answer was lost.
Within a short grace window after the first use the second is answered with the very
same next refresh token (and a new access token), so the client ends up with one line
of tokens; later, it ends the family as a theft.

To answer the same next token again without keeping it, the next token is not random:
it is HMAC-SHA256, under the service's secret key, of the token it follows. Only its
hash is stored, like every other. Whoever presents the used token within the window
can be given it again; nothing in the database, read alone, yields it, since the
derivation needs both the key and the used token, which is never stored either. This
adds no new secret to guard (the key already signs every access token) and no column
to keep in step; encrypting the next token into the used row would have needed both.
The price is the grace window itself: a copy replayed within it gets the owner's next
token instead of ending the family, which is why the window is short.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def _successor(secret: str, raw: str) -> str:
    """The refresh token that follows `raw`: the same every time, for whoever holds `raw` and the key."""
    mac = hmac.new(secret.encode(), b"wudan refresh successor\0" + raw.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _add(db: Session, user_kind: str, user_id: int, *, now: datetime, days: int, family: str | None,
         raw: str | None = None) -> str:
    raw = raw or secrets.token_urlsafe(32)
    db.add(RefreshToken(token_hash=_digest(raw), family=family or uuid.uuid4().hex, user_kind=user_kind,
                        user_id=user_id, expires_at=now + timedelta(days=days), created_at=now))
    return raw


def rotate(database: Database, raw: str, *, now: datetime, days: int, secret: str,
           grace: timedelta) -> tuple[str, int, str]:
    """Use a refresh token once: (user_kind, user_id, the next refresh token).

    Used again within `grace` of its first use, it answers the next token that use made.
    """
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
        following = _successor(secret, raw)
        if taken == 1:
            _add(db, row.user_kind, row.user_id, now=now, days=days, family=row.family, raw=following)
            db.commit()
            return row.user_kind, row.user_id, following
        # The first use has committed (on PostgreSQL the update above waited for it): its time and its
        # next token are there to read.
        db.refresh(row)
        if now - row.used_at < grace and _live_successor(db, following, row.family):
            return row.user_kind, row.user_id, following
        _revoke(db, col(RefreshToken.family) == row.family, now)
        db.commit()
        raise SignInFailed("this refresh token was already used; every session it belongs to is ended",
                           SignInReason.SIGNED_OUT)


def _live_successor(db: Session, raw: str, family: str) -> bool:
    # Absent when the secret key changed since the first use; revoked when the family was ended meanwhile.
    row = db.exec(select(RefreshToken).where(RefreshToken.token_hash == _digest(raw))).first()
    return row is not None and row.family == family and row.revoked_at is None


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

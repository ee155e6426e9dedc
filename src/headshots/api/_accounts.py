"""Accounts, their credentials and their deletion.

Passwords are hashed with argon2id (argon2-cffi's defaults). API tokens and session cookies
are random values of 32 bytes; only their SHA-256 is stored. Ids are random (``acc_``,
``tok_``), never sequential. Deleting an account deletes every order of it through the order
deletion (blobs, rows, keys, receipts), then the account's own rows."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from headshots.errors import AuthError, ConflictError, InputError, NotFoundError
from headshots.orders import delete_order
from headshots.store import Store
from headshots.store._models import (
    AccountRow,
    ApiTokenRow,
    IdempotencyRow,
    OrderRow,
    SessionRow,
    WebhookDeliveryRow,
    WebhookRow,
)

__all__ = ["AccountService", "sha256"]

log = logging.getLogger("headshots.api")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
_hasher = PasswordHasher()
# a hash to verify against when the e-mail is unknown: same time either way
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InputError("that is not an e-mail address", "type it as name@example.com")
    return email


class AccountService:
    def __init__(self, store: Store, session_days: int = 14) -> None:
        self.store = store
        self.session_days = session_days

    # -- accounts --------------------------------------------------------------------------
    def create(self, *, email: str, password: str | None) -> AccountRow:
        email = normalise_email(email)
        if password is not None and len(password) < 10:
            raise InputError("the password is shorter than 10 characters",
                             "choose a longer one (a few words make a good one)")
        row = AccountRow(id="acc_" + secrets.token_hex(10), email=email,
                         password_hash=_hasher.hash(password) if password else None,
                         created_at=self.store.clock.now())
        try:
            with self.store.db.session() as s:
                s.add(row)
        except IntegrityError:
            raise ConflictError("an account with that e-mail already exists",
                                "sign in instead") from None
        return row

    def get(self, account_id: str) -> AccountRow:
        with self.store.db.session() as s:
            row = s.get(AccountRow, account_id)
        if row is None:
            raise AuthError("that account no longer exists", "sign up again")
        return row

    def by_email(self, email: str) -> AccountRow | None:
        with self.store.db.session() as s:
            return s.scalar(select(AccountRow).where(AccountRow.email == normalise_email(email)))

    def authenticate(self, *, email: str, password: str) -> AccountRow:
        try:
            row = self.by_email(email)
        except InputError:
            row = None
        try:
            _hasher.verify(row.password_hash if row and row.password_hash else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            row = None
        if row is None or row.password_hash is None:
            raise AuthError("the e-mail or password is wrong", "check both and try again")
        if _hasher.check_needs_rehash(row.password_hash):
            self._set_password(row.id, password)
        return row

    def change_password(self, *, account_id: str, current: str | None, new: str) -> None:
        row = self.get(account_id)
        if row.password_hash is not None:
            try:
                _hasher.verify(row.password_hash, current or "")
            except (VerificationError, InvalidHashError):
                raise AuthError("the current password is wrong", "type your current password "
                                "to change it") from None
        if len(new) < 10:
            raise InputError("the password is shorter than 10 characters", "choose a longer one")
        self._set_password(account_id, new)

    def _set_password(self, account_id: str, password: str) -> None:
        with self.store.db.session() as s:
            s.execute(update(AccountRow).where(AccountRow.id == account_id)
                      .values(password_hash=_hasher.hash(password)))

    # -- API tokens ------------------------------------------------------------------------
    def issue_token(self, *, account_id: str, name: str = "api") -> tuple[ApiTokenRow, str]:
        """A new token; the returned value is shown once and never stored."""
        token = "hs_" + secrets.token_urlsafe(32)
        row = ApiTokenRow(id="tok_" + secrets.token_hex(8), account_id=account_id,
                          name=name[:80], token_sha256=sha256(token),
                          created_at=self.store.clock.now())
        with self.store.db.session() as s:
            s.add(row)
        return row, token

    def tokens(self, account_id: str) -> list[ApiTokenRow]:
        with self.store.db.session() as s:
            return list(s.scalars(select(ApiTokenRow).where(
                ApiTokenRow.account_id == account_id).order_by(ApiTokenRow.created_at)))

    def revoke_token(self, *, account_id: str, token_id: str) -> None:
        with self.store.db.session() as s:
            gone = s.execute(delete(ApiTokenRow).where(
                ApiTokenRow.id == token_id, ApiTokenRow.account_id == account_id)).rowcount  # type: ignore[attr-defined]
        if not gone:
            raise NotFoundError(f"token {token_id} does not exist", "list your tokens first")

    def by_token(self, token: str) -> AccountRow | None:
        now = self.store.clock.now()
        with self.store.db.session() as s:
            row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == sha256(token)))
            if row is None:
                return None
            if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
                row.last_used_at = now
            return s.get(AccountRow, row.account_id)

    # -- sessions --------------------------------------------------------------------------
    def new_session(self, account_id: str) -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        now = self.store.clock.now()
        expires = now + timedelta(days=self.session_days)
        with self.store.db.session() as s:
            s.add(SessionRow(token_sha256=sha256(token), account_id=account_id, created_at=now,
                             expires_at=expires))
        return token, expires

    def by_session(self, token: str) -> AccountRow | None:
        now = self.store.clock.now()
        with self.store.db.session() as s:
            row = s.get(SessionRow, sha256(token))
            if row is None or row.expires_at <= now:
                return None
            return s.get(AccountRow, row.account_id)

    def end_session(self, token: str) -> None:
        with self.store.db.session() as s:
            s.execute(delete(SessionRow).where(SessionRow.token_sha256 == sha256(token)))

    # -- deletion --------------------------------------------------------------------------
    def delete(self, account_id: str) -> dict[str, Any]:
        """Every order of the account (through the order deletion, receipts kept), then the
        account's credentials, webhooks and idempotency records, then the account."""
        with self.store.db.session() as s:
            orders = list(s.scalars(select(OrderRow).where(OrderRow.owner == account_id)
                                    .order_by(OrderRow.created_at)))
        receipts = []
        for order in orders:
            if order.status != "deleted":
                receipts.append(delete_order(self.store, order.id, owner=account_id))
        with self.store.db.session() as s:
            hooks = list(s.scalars(select(WebhookRow.id).where(
                WebhookRow.account_id == account_id)))
            s.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id.in_(hooks)))
            s.execute(delete(WebhookRow).where(WebhookRow.account_id == account_id))
            s.execute(delete(ApiTokenRow).where(ApiTokenRow.account_id == account_id))
            s.execute(delete(SessionRow).where(SessionRow.account_id == account_id))
            s.execute(delete(IdempotencyRow).where(IdempotencyRow.account_id == account_id))
            s.execute(delete(AccountRow).where(AccountRow.id == account_id))
        self.store.db.scrub()
        log.info("account %s deleted with %d orders", account_id, len(orders))
        return {"account_id": account_id, "orders": [o.id for o in orders],
                "receipts": receipts}

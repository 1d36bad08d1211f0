"""Users, roles, API tokens, server-side sign-in sessions and failed sign-ins."""

import hashlib
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.db import UTCDateTime, utcnow
from portal.extensions import db

ROLES = ("doctor", "trainer", "admin", "superadmin")


def hash_secret(raw):
    """Tokens are random 256-bit strings, so a fast hash is enough (no salt needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret():
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_oidc_subject", "oidc_subject", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    position: Mapped[str | None] = mapped_column(String(120))
    specialty: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str | None] = mapped_column(String(5))
    # The city identity provider's `sub` once the user has signed in there (stable, unlike the e-mail).
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Secret part of the private iCalendar feed URL (hashed; revocable by replacing it).
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Which notification kinds also reach the user by e-mail; None means all of them.
    email_opt_out: Mapped[str] = mapped_column(String(400), default="", nullable=False)

    clinic = relationship("Clinic", lazy="joined")
    role_rows = relationship("UserRole", lazy="selectin", cascade="all, delete-orphan", back_populates="user")

    @property
    def roles(self):
        return sorted(row.role for row in self.role_rows)

    def has_role(self, *roles):
        return any(row.role in roles for row in self.role_rows)

    def set_roles(self, roles):
        wanted = set(roles)
        self.role_rows = [row for row in self.role_rows if row.role in wanted] + [
            UserRole(role=role) for role in sorted(wanted - {row.role for row in self.role_rows})
        ]

    @property
    def is_superadmin(self):
        return self.has_role("superadmin")

    @property
    def is_active(self):
        return self.active

    @property
    def is_authenticated(self):
        # Flask-Login's default reads is_active, a column: after the request's commit or rollback that would
        # reload the user. Only active users are ever loaded as the caller (sessions and tokens check it).
        return True

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def timezone(self):
        return self.clinic.timezone if self.clinic else "Europe/Moscow"

    def wants_email(self, kind):
        return kind not in self.email_opt_out.split()


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user = relationship("User", back_populates="role_rows")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @classmethod
    def issue(cls, user, name=""):
        """Create a token; the raw value is returned once and only its hash is kept."""
        raw = new_secret()
        token = cls(user=user, token_hash=hash_secret(raw), name=name)
        db.session.add(token)
        return token, raw


class SignInSession(db.Model):
    """One row per signed-in browser: deleting it ends that session on every server."""

    __tablename__ = "signin_sessions"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    # The ID token of a sign-in through the city provider: the hint its end-session endpoint asks for.
    id_token: Mapped[str | None] = mapped_column(Text)


class FailedSignIn(db.Model):
    """Failed attempts per account, shared by all workers when Redis is not configured."""

    __tablename__ = "failed_signins"
    __table_args__ = (Index("ix_failed_signins_account_at", "account", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(254), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

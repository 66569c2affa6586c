"""Organizations, users, children, care teams and login sessions."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeprogram.models.base import Base, utcnow


class OrgRole(StrEnum):
    ADMIN = "admin"
    THERAPIST = "therapist"


class CareRole(StrEnum):
    THERAPIST = "therapist"
    CAREGIVER = "caregiver"
    TEACHER = "teacher"


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Staff sign-in: "none", "second_factor" (password then passkey) or "required" (passkey only).
    passkey_policy: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    # When to suggest a level change: "hard" on `level_hard_count` of the last
    # `level_hard_window` sessions (step down), "easy" on `level_easy_streak` in a row (up).
    level_hard_count: Mapped[int] = mapped_column(default=3, server_default="3")
    level_hard_window: Mapped[int] = mapped_column(default=4, server_default="4")
    level_easy_streak: Mapped[int] = mapped_column(default=5, server_default="5")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["OrgMembership"]] = relationship(back_populates="user")


class OrgMembership(Base):
    """A staff member of an organization (therapist or admin)."""

    __tablename__ = "org_membership"
    __table_args__ = (UniqueConstraint("user_id"),)  # staff belong to one organization

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship()


class Child(Base):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(60))
    birth_year: Mapped[int]
    birth_month: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    # The family's preferred language (a configured locale, e.g. "es"); None: not recorded.
    # Invites, handouts and the child's screen open in it.
    family_language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    care_team: Mapped[list["CareTeamMember"]] = relationship(
        back_populates="child", cascade="all, delete-orphan", passive_deletes=True
    )


class CareTeamMember(Base):
    __tablename__ = "care_team_member"
    __table_args__ = (UniqueConstraint("child_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship(back_populates="care_team")
    user: Mapped[User] = relationship()


class UserSession(Base):
    """A server-side login session; ending it logs that browser out at once."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # A staff member's first sign-in from this browser (see ``KnownDevice``).
    new_device: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User] = relationship()

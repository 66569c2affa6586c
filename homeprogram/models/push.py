"""Push subscriptions, reminder plans, claimed deliveries, the staff inbox and sent alerts.

Every "send once" rests on a unique row written *before* sending: a reminder delivery per
(user, child, local date, slot), an inbox message per (user, dedupe key), an alert record
per (child, flag, ISO week). Whoever inserts the row sends; everyone else skips.
"""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeprogram.models.base import Base, utcnow
from homeprogram.models.people import Child, User


class PushSubscription(Base):
    """One browser or phone of one user, as the Push API gave it."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    device_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()

    def info(self) -> dict[str, object]:
        """The subscription in the shape pywebpush (and ``PushSubscription.toJSON()``) use."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class ReminderPlan(Base):
    """When one caregiver wants reminders for one child. Times are local "HH:MM" strings."""

    __tablename__ = "reminder_plan"
    __table_args__ = (UniqueConstraint("user_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    times: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["17:00"])
    # Monday=0 … Sunday=6, as Python's date.weekday().
    days_of_week: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4, 5, 6])
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    morning_nudge: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    child: Mapped[Child] = relationship()
    user: Mapped[User] = relationship()


class ReminderDelivery(Base):
    """One reminder: planned once (the unique row), then leased by one scheduler to send.

    ``pending`` rows wait for ``not_before`` (the due time plus jitter); a scheduler takes
    a batch by setting ``claimed`` with ``lease_owner`` and ``lease_until``; a lease that
    runs out unsent is taken over by another scheduler while the reminder is still useful.
    """

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint("user_id", "child_id", "local_date", "slot"),
        Index("ix_reminder_delivery_status_not_before", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    local_date: Mapped[date] = mapped_column(index=True)
    slot: Mapped[str] = mapped_column(String(16))  # "17:00", or "nudge"
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # pending → claimed → sent | failed | no_device | expired (lease ran out past the TTL)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    devices: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(255))
    not_before: Mapped[datetime | None]  # due_at plus this reminder's jitter
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")  # leases taken
    activities: Mapped[int] = mapped_column(default=0, server_default="0")  # for the message


class ReminderPlanning(Base):
    """One range of reminder plans planned for one minute: written in the same transaction
    as that range's delivery rows, so each range is planned once a minute whatever the
    number of schedulers, and again by another one if the planner died before committing."""

    __tablename__ = "reminder_planning"

    minute: Mapped[datetime] = mapped_column(primary_key=True)
    range_start: Mapped[int] = mapped_column(primary_key=True)
    planned: Mapped[int] = mapped_column(default=0)


class InboxMessage(Base):
    """A message for a staff member in the app. ``dedupe_key`` makes a summary a claim."""

    __tablename__ = "inbox_message"
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "summary" | "alert"
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    pushed_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class AdherenceAlert(Base):
    """A low-adherence alert that went out: at most one per child, flag and ISO week."""

    __tablename__ = "adherence_alert"
    __table_args__ = (UniqueConstraint("child_id", "flag", "iso_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(32))
    iso_week: Mapped[str] = mapped_column(String(8))  # "2026-W48"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

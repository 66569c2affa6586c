"""The activity library, assignments (prescriptions) and completion logs."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeprogram.models.base import Base, utcnow
from homeprogram.models.people import Child


class FocusArea(StrEnum):
    FINE_MOTOR = "fine_motor"
    VISUAL_MOTOR = "visual_motor"
    SELF_CARE = "self_care"
    SENSORY = "sensory"
    GROSS_MOTOR = "gross_motor"
    PLAY_SOCIAL = "play_social"
    EXECUTIVE_FUNCTION = "executive_function"


class Supervision(StrEnum):
    """How close an adult stays, from closest to furthest."""

    HANDS_ON = "hands_on"  # the adult does it with the child
    ARMS_REACH = "arms_reach"  # within arm's reach the whole time
    NEARBY = "nearby"  # in the same room
    CHECK_IN = "check_in"  # the child works alone; the adult checks after


class Setting(StrEnum):
    HOME = "home"
    CLASSROOM = "classroom"
    BOTH = "both"


class Level(StrEnum):
    """How hard an assignment is done: the activity's easier variation, as written, or harder."""

    EASIER = "easier"
    STANDARD = "standard"
    HARDER = "harder"


class Response(StrEnum):
    EASY = "easy"
    JUST_RIGHT = "just_right"
    HARD = "hard"


class Activity(Base):
    """A library item: built-in (``organization_id`` is None) or custom to an organization."""

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("slug", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    # Built-in activities carry a stable slug so the data files can update them in place.
    slug: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8), default="en")
    title: Mapped[str] = mapped_column(String(120))
    focus_area: Mapped[str] = mapped_column(String(24), index=True)
    age_min: Mapped[int] = mapped_column(default=3)
    age_max: Mapped[int] = mapped_column(default=12)
    summary: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    easier: Mapped[str] = mapped_column(Text, default="")
    harder: Mapped[str] = mapped_column(Text, default="")
    default_dose: Mapped[str] = mapped_column(String(120), default="")
    default_minutes: Mapped[int] = mapped_column(default=5)
    classroom_ok: Mapped[bool] = mapped_column(default=False)
    # Structured safety (services.library.Safety reads and writes it): small_parts,
    # balloons, supervision, show_first, stop_if, notes. Empty: the defaults.
    safety: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The teacher's wording, shown instead of the parent text (classroom_ok activities).
    classroom_summary: Mapped[str] = mapped_column(Text, default="")
    classroom_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    # For therapists: clinical rationale and grading in professional terms.
    rationale: Mapped[str] = mapped_column(Text, default="")
    picture: Mapped[str | None] = mapped_column(String(80))
    # Built-ins: the library illustration's version (a hash of its SVG files, so its URL
    # changes with it), its text alternative, and one per step when it has step pictures.
    illustration: Mapped[str | None] = mapped_column(String(16))
    picture_alt: Mapped[str] = mapped_column(Text, default="")
    step_picture_alts: Mapped[list[str]] = mapped_column(JSON, default=list)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    translations: Mapped[list["ActivityTranslation"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ActivityTranslation.language"
    )


class ActivityTranslation(Base):
    """The family-facing text of an activity in another language than its own.

    Written by people (the library's data files, or the therapist for a custom activity);
    never machine translated. Everything else (ages, safety flags, picture) is the
    activity's own.
    """

    __tablename__ = "activity_translation"
    __table_args__ = (UniqueConstraint("activity_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    easier: Mapped[str] = mapped_column(Text, default="")
    harder: Mapped[str] = mapped_column(Text, default="")
    default_dose: Mapped[str] = mapped_column(String(120), default="")
    stop_if: Mapped[list[str]] = mapped_column(JSON, default=list)
    safety_notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    classroom_summary: Mapped[str] = mapped_column(Text, default="")
    classroom_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    picture_alt: Mapped[str] = mapped_column(Text, default="")
    step_picture_alts: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Assignment(Base):
    """An activity prescribed to a child.

    A change of dose or schedule ends this row and starts a new one with ``previous_id``
    pointing back, so past days keep the prescription that was in force on them.
    """

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignment.id", ondelete="SET NULL")
    )
    dose_amount: Mapped[int | None]
    dose_unit: Mapped[str] = mapped_column(String(16), default="minutes")  # reps|minutes|text
    dose_text: Mapped[str] = mapped_column(String(120), default="")
    minutes_per_session: Mapped[int] = mapped_column(default=5)
    # Monday=0 … Sunday=6, as Python's date.weekday().
    days_of_week: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4, 5, 6])
    times_per_day: Mapped[int] = mapped_column(default=1)
    start_date: Mapped[date]
    end_date: Mapped[date | None]  # last day in force, inclusive
    setting: Mapped[str] = mapped_column(String(16), default=Setting.HOME)
    anchor: Mapped[str] = mapped_column(String(60), default="")
    caregiver_note: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(
        String(16), default=Level.STANDARD, server_default="standard"
    )
    measure_name: Mapped[str | None] = mapped_column(String(80))
    measure_unit: Mapped[str | None] = mapped_column(String(30))
    measure_higher_is_better: Mapped[bool | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship()
    activity: Mapped[Activity] = relationship()
    pauses: Mapped[list["AssignmentPause"]] = relationship(
        back_populates="assignment",
        cascade="all, delete-orphan",
        order_by="AssignmentPause.start_date",
    )


class AssignmentPause(Base):
    """Days on which an assignment expects nothing (``end_date`` None: still paused)."""

    __tablename__ = "assignment_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date]
    end_date: Mapped[date | None]  # last paused day, inclusive

    assignment: Mapped[Assignment] = relationship(back_populates="pauses")


class CompletionLog(Base):
    """One practice session, written idempotently under a client-chosen UUID."""

    __tablename__ = "completion_log"
    __table_args__ = (Index("ix_completion_log_child_date", "child_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE")
    )  # indexed by ix_completion_log_recent (models/adherence.py)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    logged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime]
    local_date: Mapped[date]
    minutes: Mapped[int | None]
    response: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    measure_value: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    assignment: Mapped[Assignment] = relationship()


class CoachingNote(Base):
    """A short note from the therapist to the family, shown on "today" until dismissed."""

    __tablename__ = "coaching_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None]
    dismissed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

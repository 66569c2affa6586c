"""Goals with measurements over time, and the barriers caregivers report."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeprogram.models.base import Base, utcnow
from homeprogram.models.outcomes import AssessmentResult, GasRating
from homeprogram.models.programs import Assignment

goal_assignment = Table(
    "goal_assignment",
    Base.metadata,
    Column("goal_id", ForeignKey("goal.id", ondelete="CASCADE"), primary_key=True),
    Column("assignment_id", ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True),
)


class Goal(Base):
    """A functional, measurable goal (IEP-aligned when school-based)."""

    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(30), default="")
    baseline: Mapped[float]
    target: Mapped[float]
    target_date: Mapped[date | None]
    # Goal Attainment Scaling: the five levels written out (-2 first), the level at baseline,
    # and an optional weight (None: 1). Follow-up ratings are GasRating rows.
    gas_levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    gas_baseline: Mapped[int | None]
    gas_weight: Mapped[float | None]
    # A standardised assessment result chosen as the goal's baseline.
    baseline_result_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_result.id", ondelete="SET NULL")
    )
    shared_with_school: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    assignments: Mapped[list[Assignment]] = relationship(secondary=goal_assignment)
    measurements: Mapped[list["GoalMeasurement"]] = relationship(
        back_populates="goal",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(GoalMeasurement.measured_on, GoalMeasurement.id)",
    )

    gas_ratings: Mapped[list[GasRating]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(GasRating.rated_on, GasRating.id)",
    )
    baseline_result: Mapped[AssessmentResult | None] = relationship()

    @property
    def gas_scaled(self) -> bool:
        """The five levels are written and the baseline level marked: the goal counts in the
        child's GAS T-score."""
        return self.gas_baseline is not None and len(self.gas_levels or []) == 5

    @property
    def gas_latest(self) -> GasRating | None:
        return max(self.gas_ratings, key=lambda r: r.rated_on, default=None)

    @property
    def higher_is_better(self) -> bool:
        return self.target >= self.baseline


class GoalMeasurement(Base):
    __tablename__ = "goal_measurement"
    __table_args__ = (Index("ix_goal_measurement_goal_day", "goal_id", "measured_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    value: Mapped[float]
    measured_on: Mapped[date]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="measurements")


class BarrierReason(StrEnum):
    NO_TIME = "no_time"
    RESISTED = "resisted"
    UNSURE = "unsure"
    UNWELL = "unwell"
    OTHER = "other"


class Barrier(Base):
    """A caregiver's answer to "what got in the way?" (reason None: they chose to skip)."""

    __tablename__ = "barrier"
    __table_args__ = (Index("ix_barrier_child_day", "child_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[str] = mapped_column(String(80), default="")  # the flags that asked
    local_date: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Outcome records: GAS follow-up ratings, COPM problems and scores, standardised assessment
results. Scores only: the app never stores an instrument's content."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homeprogram.models.base import Base, utcnow


class GasRating(Base):
    """A goal's attainment level on one follow-up day (one rating per goal and day)."""

    __tablename__ = "gas_rating"
    __table_args__ = (UniqueConstraint("goal_id", "rated_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    level: Mapped[int]  # -2..+2
    rated_on: Mapped[date]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CopmProblem(Base):
    """An occupational performance problem the family named, with its importance (1-10)."""

    __tablename__ = "copm_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    importance: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]


class CopmAssessment(Base):
    """One COPM assessment (the first, or a reassessment) of a child: a date and scores."""

    __tablename__ = "copm_assessment"
    __table_args__ = (Index("ix_copm_assessment_child_day", "child_id", "assessed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    assessed_on: Mapped[date]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scores: Mapped[list["CopmScore"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CopmScore.problem_id"
    )


class CopmScore(Base):
    """Performance and satisfaction (1-10) of one problem at one assessment."""

    __tablename__ = "copm_score"

    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("copm_assessment.id", ondelete="CASCADE"), primary_key=True
    )
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("copm_problem.id", ondelete="CASCADE"), primary_key=True
    )
    performance: Mapped[int]
    satisfaction: Mapped[int]


class Instrument(Base):
    """A standardised assessment in the organisation's list: a name, nothing of its content."""

    __tablename__ = "assessment_instrument"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    archived_at: Mapped[datetime | None]


class ScoreType(StrEnum):
    STANDARD = "standard"
    SCALED = "scaled"
    PERCENTILE = "percentile"
    AGE_EQUIVALENT = "age_equivalent"  # the value is in months
    RAW = "raw"


class AssessmentResult(Base):
    """One score of a standardised assessment (optionally of a subtest) on a date."""

    __tablename__ = "assessment_result"
    __table_args__ = (Index("ix_assessment_result_child_day", "child_id", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("assessment_instrument.id"))
    taken_on: Mapped[date]
    score_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[float]
    subtest: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = relationship(lazy="joined")

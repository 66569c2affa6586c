"""The child's "My turn" screen: rewards the family sets up, and dismissed level suggestions."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from homeprogram.models.base import Base, utcnow


class Reward(Base):
    """A jar of stars towards something the family chose ("5 stars = park trip").

    Stars are the child's sessions logged since ``started_at``; the jar is full at
    ``stars_needed``. One open jar per child (``ended_at`` None); a new one ends the old."""

    __tablename__ = "reward"
    __table_args__ = (Index("ix_reward_child_open", "child_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    prize: Mapped[str] = mapped_column(String(80))
    stars_needed: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class LevelSuggestionDismissal(Base):
    """A therapist dismissed a level suggestion of an assignment's chain until a day."""

    __tablename__ = "level_suggestion_dismissal"
    __table_args__ = (Index("ix_level_dismissal_assignment", "assignment_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The assignment in force when it was dismissed (a new version starts afresh).
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "easier" | "harder"
    until: Mapped[date]  # silent up to and including this day
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

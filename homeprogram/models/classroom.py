"""Classroom use: a teacher's "used today" mark on a classroom strategy."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from homeprogram.models.base import Base, utcnow


class ClassroomUse(Base):
    """One mark per strategy, teacher and local school day; undo deletes it."""

    __tablename__ = "classroom_use"
    __table_args__ = (UniqueConstraint("assignment_id", "teacher_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    local_date: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

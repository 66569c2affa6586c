"""Per-day adherence figures kept for the dashboard (a cache of ``services.adherence``)."""

from datetime import date

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from homeprogram.models.base import Base
from homeprogram.models.programs import CompletionLog


class AdherenceDay(Base):
    """The engine's expected / done / extra for one child on one complete local day.

    Derived data, never edited by hand: database triggers (migration 0008) delete a child's
    row for a day when a log of that day is written, undone or moved, and all of the child's
    rows when an assignment or a pause of theirs changes; the dashboard computes the missing
    rows again with the one adherence engine.
    """

    __tablename__ = "adherence_day"

    child_id: Mapped[int] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), primary_key=True
    )
    local_date: Mapped[date] = mapped_column(primary_key=True)
    expected: Mapped[int]
    done: Mapped[int]
    extra: Mapped[int]


# Counting a caseload's logs per (child, day, assignment): an index that covers the query
# answers it without reading the table.
Index(
    "ix_completion_log_adherence",
    CompletionLog.child_id,
    CompletionLog.local_date,
    CompletionLog.assignment_id,
    CompletionLog.deleted_at,
    CompletionLog.response,
    CompletionLog.occurred_at,
)
# "Often hard": the latest sessions of each assignment, newest first, without a sort. It
# leads with assignment_id, so it also serves the foreign key.
Index(
    "ix_completion_log_recent",
    CompletionLog.assignment_id,
    CompletionLog.occurred_at,
    CompletionLog.id,
    CompletionLog.deleted_at,
    CompletionLog.local_date,
    CompletionLog.response,
)

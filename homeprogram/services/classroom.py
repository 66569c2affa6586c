"""The classroom view: strategies a teacher uses with a student, and "used today" marks.

Teachers see only what the classroom needs: the child's display name and the assignments
whose setting is classroom or both, in force on the day. Nothing about home.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from homeprogram.models import Assignment, Child, ClassroomUse, Goal, Setting, User
from homeprogram.services import access, audit, goals, schedule
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

CLASSROOM_SETTINGS = (Setting.CLASSROOM.value, Setting.BOTH.value)
NOTE_MAX = 200


@dataclass
class Strategy:
    assignment: Assignment
    used: ClassroomUse | None = None

    @property
    def title(self) -> str:
        return self.assignment.activity.title

    @property
    def summary(self) -> str:
        """The teacher's wording ("the student"); empty when the activity has none."""
        return self.assignment.activity.classroom_summary or ""

    @property
    def steps(self) -> list[str]:
        """The classroom steps when the activity has them, else the parent steps."""
        activity = self.assignment.activity
        return list(activity.classroom_steps or activity.steps or [])

    @property
    def materials(self) -> list[str]:
        return list(self.assignment.activity.materials or [])


@dataclass
class Student:
    child: Child
    today: date
    strategies: list[Strategy] = field(default_factory=list)
    # Only the goals the therapist shared with school: statement and target, no measurements.
    goals: list[Goal] = field(default_factory=list)


def today_for(child: Child, now: datetime) -> date:
    return schedule.local_date(now, child.timezone)


def strategies(session: Session, child: Child, day: date) -> list[Assignment]:
    """Classroom strategies in force on ``day`` (the child's local date)."""
    rows = session.scalars(
        select(Assignment)
        .where(Assignment.child_id == child.id, Assignment.setting.in_(CLASSROOM_SETTINGS))
        .options(selectinload(Assignment.activity), selectinload(Assignment.pauses))
        .order_by(Assignment.id)
    )
    return [a for a in rows if schedule.in_force(a, day)]


def students(session: Session, teacher_id: int, now: datetime) -> list[Student]:
    """Every child the teacher is invited for, with today's strategies and marks."""
    result = []
    for child in access.children_for(session, teacher_id, "teacher"):
        result.append(student(session, teacher_id, child, now))
    return result


def student(session: Session, teacher_id: int, child: Child, now: datetime) -> Student:
    day = today_for(child, now)
    assignments = strategies(session, child, day)
    marks = {
        use.assignment_id: use
        for use in session.scalars(
            select(ClassroomUse).where(
                ClassroomUse.child_id == child.id,
                ClassroomUse.teacher_id == teacher_id,
                ClassroomUse.local_date == day,
            )
        )
    }
    return Student(
        child=child,
        today=day,
        strategies=[Strategy(a, marks.get(a.id)) for a in assignments],
        goals=goals.goals_for(session, child.id, school_only=True),
    )


def _classroom_assignment(
    session: Session, child: Child, assignment_id: int, day: date
) -> Assignment:
    for assignment in strategies(session, child, day):
        if assignment.id == assignment_id:
            return assignment
    raise NotFound()


def mark_used(
    session: Session,
    actor: Actor,
    *,
    child: Child,
    teacher_id: int,
    assignment_id: int,
    note: str,
    now: datetime,
) -> ClassroomUse:
    """Mark a strategy used today (or change today's note); one mark per teacher and day."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"note": gettext("Use at most %(num)d characters.", num=NOTE_MAX)})
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in note):
        raise ValidationFailed({"note": gettext("Remove the control characters.")})
    day = today_for(child, now)
    assignment = _classroom_assignment(session, child, assignment_id, day)
    use = session.scalar(
        select(ClassroomUse).where(
            ClassroomUse.assignment_id == assignment.id,
            ClassroomUse.teacher_id == teacher_id,
            ClassroomUse.local_date == day,
        )
    )
    if use is None:
        use = ClassroomUse(
            assignment_id=assignment.id,
            child_id=child.id,
            teacher_id=teacher_id,
            local_date=day,
            note=note,
        )
        session.add(use)
        session.flush()
        action = "classroom.used"
    else:
        use.note = note
        action = "classroom.note_changed"
    audit.record(
        session,
        actor,
        action,
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="assignment",
        target_id=assignment.id,
    )
    return use


def unmark_used(
    session: Session,
    actor: Actor,
    *,
    child: Child,
    teacher_id: int,
    assignment_id: int,
    now: datetime,
) -> None:
    """Undo today's mark (idempotent: nothing to undo is fine)."""
    day = today_for(child, now)
    assignment = _classroom_assignment(session, child, assignment_id, day)
    result = session.execute(
        delete(ClassroomUse).where(
            ClassroomUse.assignment_id == assignment.id,
            ClassroomUse.teacher_id == teacher_id,
            ClassroomUse.local_date == day,
        )
    )
    if result.rowcount:
        audit.record(
            session,
            actor,
            "classroom.unused",
            organization_id=child.organization_id,
            child_id=child.id,
            target_type="assignment",
            target_id=assignment.id,
        )


@dataclass(frozen=True)
class UseSummaryRow:
    title: str
    days_used: int
    last_used: date | None
    recent_notes: list[tuple[date, str, str]]  # (day, teacher name, note)


def use_summary(session: Session, child: Child, today: date, days: int = 14) -> list[UseSummaryRow]:
    """Classroom use over the last ``days`` local days, per strategy, for the therapist."""
    since = today - timedelta(days=days - 1)
    rows = []
    for assignment in session.scalars(
        select(Assignment)
        .where(Assignment.child_id == child.id, Assignment.setting.in_(CLASSROOM_SETTINGS))
        .options(selectinload(Assignment.activity), selectinload(Assignment.pauses))
        .order_by(Assignment.id)
    ):
        if assignment.start_date > today or (
            assignment.end_date is not None and assignment.end_date < since
        ):
            continue  # not in force during the window
        uses = session.execute(
            select(ClassroomUse, User.name)
            .join(User, User.id == ClassroomUse.teacher_id)
            .where(
                ClassroomUse.assignment_id == assignment.id,
                ClassroomUse.local_date >= since,
                ClassroomUse.local_date <= today,
            )
            .order_by(ClassroomUse.local_date.desc())
        ).all()
        days_used = len({use.local_date for use, _ in uses})
        last = session.scalar(
            select(func.max(ClassroomUse.local_date)).where(
                ClassroomUse.assignment_id == assignment.id
            )
        )
        notes = [(use.local_date, name, use.note) for use, name in uses if use.note][:3]
        rows.append(UseSummaryRow(assignment.activity.title, days_used, last, notes))
    return rows

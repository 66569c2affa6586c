"""Home programs: prescribing activities to a child, versioning, pauses, load estimate, notes.

Versioning rule (DESIGN.md: past days keep the prescription that was in force on them):

- The *prescription* fields are dose (amount, unit, text), minutes per session, days of
  week, times per day, setting and level (easier / standard / harder, drawn from the
  activity's variations; ``services/levels.py`` suggests changes). A change to any of
  them that takes effect on a day after the assignment's first day ends the old row on
  the day before the change (``end_date = effective - 1``) and starts a new row on
  ``effective`` with ``previous_id`` pointing back. The old row is otherwise left exactly as it was.
  Logs already written for days from ``effective`` on move to the new row (they were
  done under the new prescription's days). Open or later pauses carry over.
- A change taking effect on or before the assignment's first day rewrites it in place:
  no day has been counted under it yet.
- Caregiver note, routine anchor and measure (name, unit, direction) never affect what
  is expected on a day: they are updated in place, like a later end date.
- A change may not take effect before today (child's local date), so history is never
  rewritten from the editor. Only the newest version of an assignment can be changed,
  paused, resumed or ended.
- Pause from a day: an ``AssignmentPause`` row from that day, open-ended. Resume on a
  day closes it on the day before (a pause that would cover no day is removed).
- End on a day: ``end_date`` = that day (the last day in force, inclusive). Ending an
  assignment that has not started yet removes it, since nothing was ever expected of it.

Services take ``today`` (the child's local date) from the caller, so tests and jobs can
pass any day.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from homeprogram.models import (
    Activity,
    Assignment,
    AssignmentPause,
    Child,
    CoachingNote,
    CompletionLog,
    Level,
    Setting,
)
from homeprogram.models.base import utcnow
from homeprogram.services import adherence, audit, library, media, safety, schedule
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

DOSE_UNITS = ("reps", "minutes", "text")
MAX_REPS = 500
MAX_MINUTES = 120
MAX_TIMES_PER_DAY = 10
MAX_NOTE = 1000
MAX_COACHING_NOTE = 500
# Preset routine anchors, in the order of a day; anything else is free text.
ANCHORS = ("morning", "after_school", "after_dinner", "bath_time", "bedtime")
# Warning thresholds for one day of practice (research: adherence falls as programs grow).
MAX_ACTIVITIES_PER_DAY = 4
MAX_MINUTES_PER_DAY = 30

PRESCRIPTION_FIELDS = (
    "dose_amount",
    "dose_unit",
    "dose_text",
    "minutes_per_session",
    "days_of_week",
    "times_per_day",
    "setting",
    "level",
)
LEVELS = tuple(level.value for level in Level)
IN_PLACE_FIELDS = (
    "anchor",
    "caregiver_note",
    "measure_name",
    "measure_unit",
    "measure_higher_is_better",
)


@dataclass
class Prescription:
    """What a therapist fills in for one activity (plain values, validated by ``validate``)."""

    dose_unit: str = "reps"
    dose_amount: int | None = None
    dose_text: str = ""
    minutes_per_session: int | None = 5
    days_of_week: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])
    times_per_day: int | None = 1
    start_date: date | None = None
    end_date: date | None = None
    setting: str = Setting.HOME.value
    anchor: str = ""
    caregiver_note: str = ""
    measure_name: str = ""
    measure_unit: str = ""
    measure_higher_is_better: bool | None = True
    # None: standard for a new assignment, unchanged for a change.
    level: str | None = None

    @classmethod
    def of(cls, assignment: Assignment) -> "Prescription":
        return cls(
            dose_unit=assignment.dose_unit,
            dose_amount=assignment.dose_amount,
            dose_text=assignment.dose_text,
            minutes_per_session=assignment.minutes_per_session,
            days_of_week=list(assignment.days_of_week),
            times_per_day=assignment.times_per_day,
            start_date=assignment.start_date,
            end_date=assignment.end_date,
            setting=assignment.setting,
            anchor=assignment.anchor,
            caregiver_note=assignment.caregiver_note,
            measure_name=assignment.measure_name or "",
            measure_unit=assignment.measure_unit or "",
            measure_higher_is_better=assignment.measure_higher_is_better,
            level=assignment.level,
        )

    def columns(self) -> dict[str, object]:
        """The assignment column values, normalized (blank measure is NULL, etc.)."""
        has_measure = bool(self.measure_name.strip())
        amount = self.dose_amount if self.dose_unit in ("reps", "minutes") else None
        level = {} if self.level is None else {"level": self.level}
        return {
            **level,
            "dose_unit": self.dose_unit,
            "dose_amount": amount,
            "dose_text": self.dose_text.strip() if self.dose_unit == "text" else "",
            "minutes_per_session": self.minutes_per_session,
            "days_of_week": sorted(set(self.days_of_week)),
            "times_per_day": self.times_per_day,
            "setting": self.setting,
            "anchor": self.anchor.strip(),
            "caregiver_note": self.caregiver_note.strip(),
            "measure_name": self.measure_name.strip() if has_measure else None,
            "measure_unit": (self.measure_unit.strip() or None) if has_measure else None,
            "measure_higher_is_better": (
                bool(self.measure_higher_is_better) if has_measure else None
            ),
        }


def validate(p: Prescription, *, earliest_start: date | None) -> dict[str, str]:
    """Field messages for a prescription; empty when it can be saved.

    ``earliest_start`` is the first allowed start (today for a new assignment), or None
    when the start date is not being chosen (a change keeps its own effective date).
    """
    errors: dict[str, str] = {}
    if p.dose_unit not in DOSE_UNITS:
        errors["dose_unit"] = gettext("Choose repetitions, minutes or a written dose.")
    elif p.dose_unit == "text":
        if not p.dose_text.strip():
            errors["dose_text"] = gettext(
                "Describe the dose, for example “until the jar is empty”."
            )
        elif len(p.dose_text.strip()) > 120:
            errors["dose_text"] = gettext("Use at most %(num)d characters.", num=120)
    else:
        limit = MAX_REPS if p.dose_unit == "reps" else MAX_MINUTES
        if p.dose_amount is None:
            errors["dose_amount"] = gettext("Enter how many.")
        elif not 1 <= p.dose_amount <= limit:
            errors["dose_amount"] = gettext("Enter a number from 1 to %(num)d.", num=limit)
    if p.minutes_per_session is None:
        errors["minutes_per_session"] = gettext("Enter the minutes one session takes.")
    elif not 1 <= p.minutes_per_session <= MAX_MINUTES:
        errors["minutes_per_session"] = gettext(
            "Enter a number of minutes from 1 to %(num)d.", num=MAX_MINUTES
        )
    if not p.days_of_week:
        errors["days_of_week"] = gettext("Choose at least one day.")
    elif any(not isinstance(d, int) or not 0 <= d <= 6 for d in p.days_of_week):
        errors["days_of_week"] = gettext("Choose days from Monday to Sunday.")
    if p.times_per_day is None or not 1 <= p.times_per_day <= MAX_TIMES_PER_DAY:
        errors["times_per_day"] = gettext(
            "Enter a number from 1 to %(num)d.", num=MAX_TIMES_PER_DAY
        )
    if earliest_start is not None:
        if p.start_date is None:
            errors["start_date"] = gettext("Choose the first day.")
        elif p.start_date < earliest_start:
            errors["start_date"] = gettext("Start today or later: past days cannot be planned.")
        elif p.start_date > earliest_start + timedelta(days=366):
            errors["start_date"] = gettext("Start within the next year.")
    if p.end_date is not None and p.start_date is not None and p.end_date < p.start_date:
        errors["end_date"] = gettext("The end date must be on or after the start date.")
    if p.setting not in {s.value for s in Setting}:
        errors["setting"] = gettext("Choose home, classroom or both.")
    if p.level is not None and p.level not in LEVELS:
        errors["level"] = gettext("Choose easier, standard or harder.")
    if len(p.anchor.strip()) > 60:
        errors["anchor"] = gettext("Use at most %(num)d characters.", num=60)
    if len(p.caregiver_note.strip()) > MAX_NOTE:
        errors["caregiver_note"] = gettext("Use at most %(num)d characters.", num=MAX_NOTE)
    if len(p.measure_name.strip()) > 80:
        errors["measure_name"] = gettext("Use at most %(num)d characters.", num=80)
    if len(p.measure_unit.strip()) > 30:
        errors["measure_unit"] = gettext("Use at most %(num)d characters.", num=30)
    elif p.measure_unit.strip() and not p.measure_name.strip():
        errors["measure_name"] = gettext("Name the measure, or leave its unit empty.")
    return errors


def level_errors(level: str | None, activity: Activity) -> dict[str, str]:
    """Easier and harder need the activity's variation (the family's text for that level)."""
    if level == Level.EASIER and not (activity.easier or "").strip():
        return {
            "level": gettext(
                "This activity has no easier variation written down: keep the standard level."
            )
        }
    if level == Level.HARDER and not (activity.harder or "").strip():
        return {
            "level": gettext(
                "This activity has no harder variation written down: keep the standard level."
            )
        }
    return {}


def _usable_activity(session: Session, child: Child, activity_id: int | None) -> Activity:
    if activity_id is None:
        raise ValidationFailed({"activity_id": gettext("Choose an activity from the library.")})
    try:
        activity = library.get_visible(session, child.organization_id, activity_id)
    except NotFound:
        raise ValidationFailed(
            {"activity_id": gettext("Choose an activity from the library.")}
        ) from None
    if activity.archived_at is not None:
        raise ValidationFailed(
            {"activity_id": gettext("This activity is archived; choose another.")}
        )
    return activity


def create_assignment(
    session: Session,
    actor: Actor,
    child: Child,
    activity_id: int | None,
    prescription: Prescription,
    *,
    today: date,
    warnings_confirmed: bool | None = None,
) -> Assignment:
    """Prescribe an activity to a child from ``prescription.start_date`` (today or later).

    ``warnings_confirmed`` False: refuse an activity that does not suit the child's age
    (safety.warnings_for) until the therapist confirms (True). None: not checked.
    """
    errors = validate(prescription, earliest_start=today)
    warnings: list[safety.AgeWarning] = []
    try:
        activity = _usable_activity(session, child, activity_id)
    except ValidationFailed as failed:
        errors = {**failed.errors, **errors}
    else:
        warnings = safety.warnings_for(activity, child, today)
        if "level" not in errors:
            errors.update(level_errors(prescription.level, activity))
        if warnings_confirmed is False and warnings:
            errors["confirm_suitability"] = gettext(
                "Read the warning about this child's age, then tick the box to add it anyway."
            )
    if errors:
        raise ValidationFailed(errors)
    assert prescription.start_date is not None
    assignment = Assignment(
        child_id=child.id,
        activity_id=activity.id,
        start_date=prescription.start_date,
        end_date=prescription.end_date,
        created_by_id=actor.user_id,
        **prescription.columns(),
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        actor,
        "assignment.created",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="assignment",
        target_id=assignment.id,
        activity_id=activity.id,
        # What the therapist confirmed despite the picker's warning (empty: nothing).
        **({"confirmed_warnings": [w.value for w in warnings]} if warnings else {}),
    )
    return assignment


def get_assignment(session: Session, child_id: int, assignment_id: int) -> Assignment:
    """An assignment of this child, or NotFound (the view has already checked the child)."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.child_id != child_id:
        raise NotFound()
    return assignment


def _has_successor(session: Session, assignment: Assignment) -> bool:
    return (
        session.scalar(select(Assignment.id).where(Assignment.previous_id == assignment.id))
        is not None
    )


def _require_newest(session: Session, assignment: Assignment, today: date) -> None:
    if _has_successor(session, assignment):
        raise ValidationFailed(
            {"form": gettext("This is an earlier version; change the current one.")}
        )
    if assignment.end_date is not None and assignment.end_date < today:
        raise ValidationFailed({"form": gettext("This activity has ended; add it again instead.")})


def change_assignment(
    session: Session,
    actor: Actor,
    assignment: Assignment,
    prescription: Prescription,
    *,
    effective: date,
    today: date,
) -> Assignment:
    """Apply a therapist's edit; returns the row now current (a new version or the same row).

    See the module docstring for when a new version starts. ``prescription.start_date``
    is ignored: the assignment keeps its start, the change takes effect on ``effective``.
    """
    _require_newest(session, assignment, today)
    prescription.start_date = max(effective, assignment.start_date)
    errors = validate(prescription, earliest_start=None)
    if effective < today:
        errors["effective_date"] = gettext("A change takes effect today or later.")
    elif effective > today + timedelta(days=366):
        errors["effective_date"] = gettext("Choose a day within the next year.")
    elif assignment.end_date is not None and effective > assignment.end_date:
        errors["effective_date"] = gettext("The activity ends before that day.")
    if prescription.end_date is not None and prescription.end_date < today - timedelta(days=1):
        errors.setdefault("end_date", gettext("The end date cannot be before yesterday."))
    if "level" not in errors and prescription.level not in (None, assignment.level):
        errors.update(level_errors(prescription.level, assignment.activity))
    if errors:
        raise ValidationFailed(errors)

    new_values = prescription.columns()
    new_values.setdefault("level", assignment.level)
    new_values["end_date"] = prescription.end_date
    return _apply_change(session, actor, assignment, new_values, effective)


def change_level(
    session: Session, actor: Actor, assignment: Assignment, level: str, *, today: date
) -> Assignment:
    """The same assignment at another level from ``today``: a new version, like a dose
    change (in place when it starts today or later). Nothing else of it is checked again."""
    _require_newest(session, assignment, today)
    errors = (
        {"level": gettext("Choose easier, standard or harder.")}
        if level not in LEVELS
        else level_errors(level, assignment.activity)
    )
    if errors:
        raise ValidationFailed(errors)
    new_values: dict[str, object] = {
        name: getattr(assignment, name) for name in (*PRESCRIPTION_FIELDS, *IN_PLACE_FIELDS)
    }
    new_values.update(
        days_of_week=list(assignment.days_of_week), level=level, end_date=assignment.end_date
    )
    return _apply_change(session, actor, assignment, new_values, today)


def _apply_change(
    session: Session,
    actor: Actor,
    assignment: Assignment,
    new_values: dict[str, object],
    effective: date,
) -> Assignment:
    """Write checked column values: in place, or as a new version from ``effective``."""
    changed = [
        name
        for name, value in new_values.items()
        if (
            list(getattr(assignment, name)) if name == "days_of_week" else getattr(assignment, name)
        )
        != value
    ]
    versioned = [name for name in changed if name in PRESCRIPTION_FIELDS]
    if not changed:
        return assignment
    if not versioned or effective <= assignment.start_date:
        for name in changed:
            setattr(assignment, name, new_values[name])
        audit.record(
            session,
            actor,
            "assignment.changed",
            child_id=assignment.child_id,
            target_type="assignment",
            target_id=assignment.id,
            fields=changed,
            in_place=True,
        )
        return assignment

    successor = Assignment(
        child_id=assignment.child_id,
        activity_id=assignment.activity_id,
        previous_id=assignment.id,
        start_date=effective,
        created_by_id=actor.user_id,
        **new_values,
    )
    for pause in assignment.pauses:
        if pause.end_date is None or pause.end_date >= effective:
            successor.pauses.append(
                AssignmentPause(
                    start_date=max(pause.start_date, effective), end_date=pause.end_date
                )
            )
    assignment.end_date = effective - timedelta(days=1)
    session.add(successor)
    session.flush()
    session.execute(
        update(CompletionLog)
        .where(CompletionLog.assignment_id == assignment.id, CompletionLog.local_date >= effective)
        .values(assignment_id=successor.id)
    )
    audit.record(
        session,
        actor,
        "assignment.changed",
        child_id=assignment.child_id,
        target_type="assignment",
        target_id=successor.id,
        previous_id=assignment.id,
        fields=changed,
        effective=effective.isoformat(),
        in_place=False,
    )
    return successor


def pause_assignment(
    session: Session, actor: Actor, assignment: Assignment, *, from_day: date, today: date
) -> AssignmentPause:
    _require_newest(session, assignment, today)
    if from_day < today:
        raise ValidationFailed({"from_date": gettext("A pause starts today or later.")})
    if assignment.end_date is not None and from_day > assignment.end_date:
        raise ValidationFailed({"from_date": gettext("The activity ends before that day.")})
    if any(p.end_date is None or p.end_date >= from_day for p in assignment.pauses):
        raise ValidationFailed({"from_date": gettext("The activity is already paused then.")})
    pause = AssignmentPause(start_date=max(from_day, assignment.start_date))
    assignment.pauses.append(pause)
    session.flush()
    audit.record(
        session,
        actor,
        "assignment.paused",
        child_id=assignment.child_id,
        target_type="assignment",
        target_id=assignment.id,
        from_date=pause.start_date.isoformat(),
    )
    return pause


def open_pause(assignment: Assignment) -> AssignmentPause | None:
    return next((p for p in assignment.pauses if p.end_date is None), None)


def resume_assignment(
    session: Session, actor: Actor, assignment: Assignment, *, on: date, today: date
) -> None:
    """Practice is expected again from ``on``: the open pause ends the day before."""
    _require_newest(session, assignment, today)
    pause = open_pause(assignment)
    if pause is None:
        raise ValidationFailed({"form": gettext("The activity is not paused.")})
    if on < today:
        raise ValidationFailed({"form": gettext("Resume today or later.")})
    if on <= pause.start_date:
        assignment.pauses.remove(pause)  # it would cover no day
    else:
        pause.end_date = on - timedelta(days=1)
    audit.record(
        session,
        actor,
        "assignment.resumed",
        child_id=assignment.child_id,
        target_type="assignment",
        target_id=assignment.id,
        on=on.isoformat(),
    )


def end_assignment(
    session: Session, actor: Actor, assignment: Assignment, *, last_day: date, today: date
) -> Assignment | None:
    """End after ``last_day`` (inclusive); an assignment not started yet is removed (None)."""
    _require_newest(session, assignment, today)
    if last_day < today - timedelta(days=1):
        raise ValidationFailed({"last_day": gettext("The last day cannot be before yesterday.")})
    removed = assignment.start_date > last_day and not _has_logs(session, assignment)
    audit.record(
        session,
        actor,
        "assignment.ended",
        child_id=assignment.child_id,
        target_type="assignment",
        target_id=assignment.id,
        last_day=last_day.isoformat(),
        removed=removed,
    )
    if not removed:
        assignment.end_date = max(last_day, assignment.start_date)
        return assignment
    previous = session.get(Assignment, assignment.previous_id) if assignment.previous_id else None
    child_id, activity_id = assignment.child_id, assignment.activity_id
    session.delete(assignment)
    session.flush()
    # Its videos go with it, unless the activity is still in the program another way.
    media.delete_for_activity_of_child(session, child_id, activity_id)
    # Ending an upcoming change ends the activity, not only the change.
    if previous is not None and previous.start_date <= last_day:
        previous.end_date = min(previous.end_date or last_day, last_day)
    return None


def _has_logs(session: Session, assignment: Assignment) -> bool:
    return (
        session.scalar(
            select(CompletionLog.id).where(CompletionLog.assignment_id == assignment.id).limit(1)
        )
        is not None
    )


# Reading a program -----------------------------------------------------------------------


def child_assignments(session: Session, child_id: int) -> list[Assignment]:
    """Every assignment of the child (all versions), with activity and pauses loaded."""
    return list(
        session.scalars(
            select(Assignment)
            .where(Assignment.child_id == child_id)
            .options(joinedload(Assignment.activity), selectinload(Assignment.pauses))
            .order_by(Assignment.start_date, Assignment.id)
        ).unique()
    )


def in_force_on(session: Session, child_id: int, day: date) -> list[Assignment]:
    """The prescriptions in force on a local day (what adherence counts that day)."""
    return [a for a in child_assignments(session, child_id) if schedule.in_force(a, day)]


@dataclass
class ProgramItem:
    """One activity of the current program: its newest version and its history."""

    assignment: Assignment
    versions: list[Assignment]  # oldest first, ending with ``assignment``
    paused: bool
    upcoming: bool  # starts after today
    in_force_today: Assignment | None  # the version in force today, if another one


@dataclass
class HistoryEntry:
    day: date
    kind: str  # started | changed | paused | resumed | ended
    before: Assignment | None = None
    after: Assignment | None = None
    changes: list[str] = field(default_factory=list)  # dose, minutes, days, times, setting, level
    until: date | None = None


@dataclass
class Program:
    current: list[ProgramItem]
    ended: list[ProgramItem]

    def by_anchor(self) -> list[tuple[str, list[ProgramItem]]]:
        """Current items grouped by routine anchor: presets in the order of a day first."""
        groups: dict[str, list[ProgramItem]] = defaultdict(list)
        for item in self.current:
            groups[item.assignment.anchor].append(item)

        def order(anchor: str) -> tuple[int, str]:
            if anchor in ANCHORS:
                return (ANCHORS.index(anchor), "")
            return (len(ANCHORS) + (1 if anchor == "" else 0), anchor.lower())

        return [(anchor, groups[anchor]) for anchor in sorted(groups, key=order)]


def _chains(assignments: Sequence[Assignment]) -> list[list[Assignment]]:
    by_previous = {a.previous_id: a for a in assignments if a.previous_id is not None}
    ids = {a.id for a in assignments}
    chains = []
    for a in assignments:
        if a.previous_id is not None and a.previous_id in ids:
            continue  # not the first version
        chain = [a]
        while chain[-1].id in by_previous:
            chain.append(by_previous[chain[-1].id])
        chains.append(chain)
    return chains


def program(session: Session, child_id: int, today: date) -> Program:
    current, ended = [], []
    for chain in _chains(child_assignments(session, child_id)):
        newest = chain[-1]
        in_force = next((a for a in chain if schedule.in_force(a, today)), None)
        item = ProgramItem(
            assignment=newest,
            versions=chain,
            paused=schedule.is_paused(newest, max(today, newest.start_date)),
            upcoming=newest.start_date > today,
            in_force_today=in_force if in_force is not newest else None,
        )
        if newest.end_date is not None and newest.end_date < today:
            ended.append(item)
        else:
            current.append(item)
    current.sort(key=lambda i: (i.assignment.activity.title.lower(), i.assignment.id))
    ended.sort(key=lambda i: i.assignment.end_date or today, reverse=True)
    return Program(current=current, ended=ended)


_CHANGE_GROUPS = {
    "dose": ("dose_amount", "dose_unit", "dose_text"),
    "minutes": ("minutes_per_session",),
    "days": ("days_of_week",),
    "times": ("times_per_day",),
    "setting": ("setting",),
    "level": ("level",),
}


def changes_between(before: Assignment, after: Assignment) -> list[str]:
    """Which parts of the prescription differ: dose, minutes, days, times, setting, level."""
    return [
        group
        for group, names in _CHANGE_GROUPS.items()
        if any(getattr(before, n) != getattr(after, n) for n in names)
    ]


def history(item: ProgramItem) -> list[HistoryEntry]:
    """What happened to one activity, newest first: started, changes, pauses, end."""
    entries: list[HistoryEntry] = []
    first = item.versions[0]
    entries.append(HistoryEntry(day=first.start_date, kind="started", after=first))
    for before, after in zip(item.versions, item.versions[1:], strict=False):
        entries.append(
            HistoryEntry(
                day=after.start_date,
                kind="changed",
                before=before,
                after=after,
                changes=changes_between(before, after),
            )
        )
    continuing: HistoryEntry | None = None  # a pause running into the next version
    for version in item.versions:
        carried, continuing = continuing, None
        for pause in version.pauses:
            if version.end_date is not None and pause.start_date > version.end_date:
                continue  # never took effect on this version
            if carried is not None and pause.start_date == version.start_date:
                entry = carried  # the same pause, carried over by a change
                entry.until = pause.end_date
            else:
                entry = HistoryEntry(day=pause.start_date, kind="paused", until=pause.end_date)
                entries.append(entry)
            if version.end_date is not None and (
                pause.end_date is None or pause.end_date >= version.end_date
            ):
                continuing = entry
    newest = item.assignment
    if newest.end_date is not None:
        entries.append(HistoryEntry(day=newest.end_date, kind="ended", before=newest))
    order = {"started": 0, "changed": 1, "paused": 2, "ended": 3}
    return sorted(entries, key=lambda e: (e.day, order[e.kind]), reverse=True)


# The load a program puts on a family -------------------------------------------------------


@dataclass(frozen=True)
class DayLoad:
    day: date
    activities: int
    sessions: int
    minutes: int

    @property
    def too_many_activities(self) -> bool:
        return self.activities > MAX_ACTIVITIES_PER_DAY

    @property
    def too_many_minutes(self) -> bool:
        return self.minutes > MAX_MINUTES_PER_DAY


@dataclass(frozen=True)
class Estimate:
    """Minutes a program asks of the family over the seven days from ``days[0].day``."""

    days: tuple[DayLoad, ...]

    @property
    def minutes_per_week(self) -> int:
        return sum(d.minutes for d in self.days)

    @property
    def minutes_per_day(self) -> int:
        """Average over the seven days, rounded to the nearest minute."""
        return round(self.minutes_per_week / 7)

    @property
    def busiest(self) -> DayLoad:
        return max(self.days, key=lambda d: (d.minutes, d.activities))

    @property
    def heavy_days(self) -> list[DayLoad]:
        return [d for d in self.days if d.too_many_activities or d.too_many_minutes]


def estimate(assignments: Iterable[Assignment], first_day: date) -> Estimate:
    """Minutes and activities per day for a typical week, through ``schedule``.

    Classroom-only activities are done at school, so they ask nothing of the family.
    """
    rows = [a for a in assignments if a.setting != Setting.CLASSROOM]
    days = []
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        activities = sessions = minutes = 0
        for a in rows:
            n = schedule.expected_sessions(a, day)
            if n:
                activities += 1
                sessions += n
                minutes += n * a.minutes_per_session
        days.append(DayLoad(day=day, activities=activities, sessions=sessions, minutes=minutes))
    return Estimate(days=tuple(days))


def program_estimate(
    session: Session,
    child_id: int,
    today: date,
    *,
    candidate: Assignment | None = None,
    replacing: int | None = None,
) -> Estimate:
    """The current program's load for the week from today (or from the candidate's start).

    ``candidate`` is an unsaved assignment from the editor (a preview of adding it, or of
    replacing assignment ``replacing`` with it).
    """
    rows = [a for a in child_assignments(session, child_id) if a.id != replacing]
    first_day = today
    if candidate is not None:
        rows.append(candidate)
        first_day = max(today, candidate.start_date)
    return estimate(rows, first_day)


def preview_assignment(child: Child, activity_id: int | None, p: Prescription) -> Assignment:
    """An unsaved assignment for the estimate preview (never added to the session)."""
    values = p.columns()
    return Assignment(
        child_id=child.id,
        activity_id=activity_id,
        start_date=p.start_date,
        end_date=p.end_date,
        pauses=[],
        **values,
    )


# Caseload --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadStats:
    active: int
    last_log: date | None


def caseload_stats(
    session: Session, kids: Sequence[Child], now: datetime | None = None
) -> dict[int, CaseloadStats]:
    """Active activities and last log date per child, in two queries whatever the count.

    Active: the newest version, not ended and not paused on the child's local today (it
    may start later). The last log ignores undone (soft-deleted) logs.
    """
    if not kids:
        return {}
    now = now or utcnow()
    today = {c.id: schedule.local_date(now, c.timezone) for c in kids}
    ids = list(today)
    later = aliased(Assignment)
    newer = select(later.id).where(later.previous_id == Assignment.id).exists()
    rows = session.scalars(
        select(Assignment)
        .where(
            Assignment.child_id.in_(ids),
            ~newer,
            (Assignment.end_date.is_(None)) | (Assignment.end_date >= min(today.values())),
        )
        .options(joinedload(Assignment.pauses))
    ).unique()
    active: dict[int, int] = defaultdict(int)
    for a in rows:
        if schedule.is_active(a, today[a.child_id]):
            active[a.child_id] += 1
    last_logs = adherence.last_log_dates(session, ids)
    return {cid: CaseloadStats(active=active[cid], last_log=last_logs.get(cid)) for cid in ids}


# Coaching notes --------------------------------------------------------------------------


def create_note(session: Session, actor: Actor, child_id: int, body: str) -> CoachingNote:
    body = body.strip()
    if not body:
        raise ValidationFailed({"body": gettext("Write a short note for the family.")})
    if len(body) > MAX_COACHING_NOTE:
        raise ValidationFailed(
            {"body": gettext("Keep it short: at most %(num)d characters.", num=MAX_COACHING_NOTE)}
        )
    note = CoachingNote(child_id=child_id, author_id=actor.user_id, body=body)
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor,
        "coaching_note.created",
        child_id=child_id,
        target_type="coaching_note",
        target_id=note.id,
    )
    return note


def open_notes(session: Session, child_id: int) -> list[CoachingNote]:
    """Notes the family has not dismissed yet, newest first (for the caregiver's today page)."""
    return list(
        session.scalars(
            select(CoachingNote)
            .where(CoachingNote.child_id == child_id, CoachingNote.dismissed_at.is_(None))
            .order_by(CoachingNote.created_at.desc(), CoachingNote.id.desc())
        )
    )


def recent_notes(session: Session, child_id: int, limit: int = 20) -> list[CoachingNote]:
    """Every note, dismissed or not, newest first (for the therapist)."""
    return list(
        session.scalars(
            select(CoachingNote)
            .where(CoachingNote.child_id == child_id)
            .order_by(CoachingNote.created_at.desc(), CoachingNote.id.desc())
            .limit(limit)
        )
    )


def dismiss_note(session: Session, actor: Actor, note_id: int, child_id: int) -> CoachingNote:
    """Mark a note read; dismissing it twice changes nothing. NotFound for another child."""
    note = session.get(CoachingNote, note_id)
    if note is None or note.child_id != child_id:
        raise NotFound()
    if note.dismissed_at is None:
        note.dismissed_at = utcnow()
        note.dismissed_by_id = actor.user_id
        audit.record(
            session,
            actor,
            "coaching_note.dismissed",
            child_id=child_id,
            target_type="coaching_note",
            target_id=note.id,
        )
    return note

"""What a family sees: the sessions due on a day, the week at a glance, stars and streak.

Counting follows DESIGN.md's adherence definition: per assignment and local day, done is
the number of logged sessions up to the scheduled number; anything beyond is extra and
never raises done above what was planned. Schedules are read through ``services.schedule``.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from homeprogram.models import (
    Activity,
    Assignment,
    CareTeamMember,
    Child,
    CompletionLog,
    Setting,
)
from homeprogram.services import access, adherence
from homeprogram.services.errors import NotFound
from homeprogram.services.schedule import expected_sessions

# Activities a family does at home; classroom-only ones belong to the teacher's view.
HOME_SETTINGS = (Setting.HOME.value, Setting.BOTH.value)
# Routine anchors in the order of a day; free-text anchors follow, "any time" comes last.
ANCHOR_ORDER = ("morning", "after school", "after dinner", "bath time", "bedtime")
STREAK_LOOKBACK_DAYS = 90


def anchor_key(anchor: str) -> str:
    return " ".join(anchor.replace("_", " ").lower().split())


@dataclass
class Card:
    """One assignment on one day."""

    assignment: Assignment
    expected: int
    count: int  # live sessions logged by anyone in the family or team
    my_logs: list[CompletionLog] = field(default_factory=list)  # the caller's, oldest first

    @property
    def done(self) -> int:
        return min(self.count, self.expected)

    @property
    def extra(self) -> int:
        return max(0, self.count - self.expected)

    @property
    def complete(self) -> bool:
        return self.count >= self.expected


@dataclass
class AnchorGroup:
    key: str  # normalised anchor ("" for any time)
    anchor: str  # as the therapist wrote it
    cards: list[Card]


@dataclass
class DayPlan:
    child: Child
    day: date
    groups: list[AnchorGroup]

    @property
    def cards(self) -> list[Card]:
        return [card for group in self.groups for card in group.cards]

    @property
    def expected(self) -> int:
        return sum(card.expected for card in self.cards)

    @property
    def done(self) -> int:
        return sum(card.done for card in self.cards)

    @property
    def complete(self) -> bool:
        return self.expected > 0 and self.done >= self.expected


def children_of(session: Session, user_id: int) -> list[tuple[Child, str]]:
    """The children on whose care team the user is, with the role they hold for each."""
    members = session.scalars(
        select(Child)
        .join(CareTeamMember)
        .where(CareTeamMember.user_id == user_id)
        .order_by(Child.display_name, Child.id)
    )
    result = []
    for child in members:
        role = access.child_role(session, user_id, child)
        if role is not None:
            result.append((child, role))
    return result


def home_assignments(session: Session, child_id: int, start: date, end: date) -> list[Assignment]:
    """The child's home assignments that may be in force somewhere in [start, end]."""
    return list(
        session.scalars(
            select(Assignment)
            .where(
                Assignment.child_id == child_id,
                Assignment.setting.in_(HOME_SETTINGS),
                Assignment.start_date <= end,
                or_(Assignment.end_date.is_(None), Assignment.end_date >= start),
            )
            .options(
                selectinload(Assignment.pauses),
                # With the activity's versions in other languages (a family may read one).
                joinedload(Assignment.activity, innerjoin=True).selectinload(Activity.translations),
            )
            .order_by(Assignment.id)
        )
    )


def live_logs(session: Session, child_id: int, start: date, end: date) -> list[CompletionLog]:
    """Logs of the child in [start, end] that were not undone, oldest first."""
    return list(
        session.scalars(
            select(CompletionLog)
            .where(
                CompletionLog.child_id == child_id,
                CompletionLog.local_date >= start,
                CompletionLog.local_date <= end,
                CompletionLog.deleted_at.is_(None),
            )
            .order_by(CompletionLog.occurred_at, CompletionLog.id)
        )
    )


def _counts(logs: Iterable[CompletionLog]) -> dict[tuple[int, date], int]:
    counts: dict[tuple[int, date], int] = defaultdict(int)
    for log in logs:
        counts[(log.assignment_id, log.local_date)] += 1
    return counts


def _group(cards: list[Card]) -> list[AnchorGroup]:
    groups: dict[str, AnchorGroup] = {}
    for card in cards:
        key = anchor_key(card.assignment.anchor)
        if key not in groups:
            groups[key] = AnchorGroup(key=key, anchor=card.assignment.anchor.strip(), cards=[])
        groups[key].cards.append(card)

    def order(key: str) -> tuple[int, str]:
        if key in ANCHOR_ORDER:
            return (0, f"{ANCHOR_ORDER.index(key):02d}")
        return (2, "") if key == "" else (1, key)

    return [groups[key] for key in sorted(groups, key=order)]


def day_plan(session: Session, child: Child, day: date, *, user_id: int) -> DayPlan:
    """The sessions due for ``child`` on the local ``day``, grouped by routine anchor.

    An assignment not due that day still shows when someone logged it (as extra).
    """
    assignments = home_assignments(session, child.id, day, day)
    return _plan_of(child, day, assignments, live_logs(session, child.id, day, day), user_id)


def _plan_of(
    child: Child,
    day: date,
    assignments: list[Assignment],
    logs: list[CompletionLog],
    user_id: int,
) -> DayPlan:
    counts = _counts(logs)
    cards = []
    for assignment in assignments:
        expected = expected_sessions(assignment, day)
        count = counts.get((assignment.id, day), 0)
        if expected == 0 and count == 0:
            continue
        mine = [
            log
            for log in logs
            if log.assignment_id == assignment.id and log.logged_by_id == user_id
        ]
        cards.append(Card(assignment=assignment, expected=expected, count=count, my_logs=mine))
    return DayPlan(child=child, day=day, groups=_group(cards))


def counted_assignments(session: Session, child_id: int) -> list[Assignment]:
    """Every assignment of the child that counts at home (all versions, ordered by id),
    with its activity and pauses, in one statement: what both the day plan and the
    adherence engine read."""
    return list(
        session.scalars(
            select(Assignment)
            .where(Assignment.child_id == child_id, Assignment.setting.in_(HOME_SETTINGS))
            .options(joinedload(Assignment.activity, innerjoin=True), joinedload(Assignment.pauses))
            .order_by(Assignment.id)
        ).unique()
    )


@dataclass
class TodayPage:
    """Everything the caregiver's Today shows for one child, each figure computed once."""

    plan: DayPlan
    week: "Week"
    streak: int
    flags: list[str]  # adherence flags behind the "what got in the way?" prompt


def today_page(session: Session, child: Child, day: date, *, user_id: int) -> TodayPage:
    """The day plan, this week, the streak and the adherence flags of ``child`` on its local
    ``day``: the assignments and their pauses read once, the engine run once."""
    assignments = counted_assignments(session, child.id)
    due = [
        a for a in assignments if a.start_date <= day and (a.end_date is None or a.end_date >= day)
    ]
    plan = _plan_of(child, day, due, live_logs(session, child.id, day, day), user_id)
    start = week_start(day)
    first = day - timedelta(days=STREAK_LOOKBACK_DAYS)
    data = adherence.adherence_of(
        session,
        {child.id: child.timezone},
        [adherence.schedule_row(a) for a in assignments],
        first,
        start + timedelta(days=6),
    )[child.id]
    return TodayPage(
        plan=plan,
        week=_week_of(child, start, day, data),
        streak=_streak_of(data, day),
        flags=adherence.adherence_flags_from(session, data, day),
    )


def card_for(
    session: Session, child: Child, assignment_id: int, day: date, *, user_id: int
) -> Card:
    """One card of the day plan (for refreshing a single card), or NotFound."""
    for card in day_plan(session, child, day, user_id=user_id).cards:
        if card.assignment.id == assignment_id:
            return card
    raise NotFound()


# Week ------------------------------------------------------------------------------------


@dataclass
class WeekCell:
    day: date
    expected: int
    done: int
    extra: int
    state: str  # done | partly | missed | to_do | upcoming | not_scheduled | extra


@dataclass
class WeekRow:
    activity_id: int
    title: str
    cells: list[WeekCell]


@dataclass
class WeekDay:
    day: date
    expected: int
    done: int

    @property
    def star(self) -> bool:
        return self.expected > 0 and self.done >= self.expected


@dataclass
class Week:
    child: Child
    start: date  # Monday
    today: date
    rows: list[WeekRow]
    days: list[WeekDay]
    extra: int

    @property
    def expected_so_far(self) -> int:
        """Planned sessions up to today (later days are not due yet)."""
        return sum(d.expected for d in self.days if d.day <= self.today)

    @property
    def done_so_far(self) -> int:
        return sum(d.done for d in self.days if d.day <= self.today)

    @property
    def stars(self) -> int:
        return sum(1 for d in self.days if d.star)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _cell_state(day: date, today: date, expected: int, done: int, extra: int) -> str:
    if expected == 0:
        return "extra" if extra else "not_scheduled"
    if done >= expected:
        return "done"
    if day > today:
        return "upcoming"
    if day == today:
        return "to_do" if done == 0 else "partly"
    return "partly" if done else "missed"


def week_and_streak(
    session: Session, child: Child, any_day: date, *, today: date
) -> tuple[Week, int]:
    """The week of ``any_day`` and the current streak: one read of the adherence engine
    when the week lies within the streak's lookback (the usual case: this week)."""
    start = week_start(any_day)
    first = today - timedelta(days=STREAK_LOOKBACK_DAYS)
    if start < first or start > today:
        return week(session, child, any_day, today=today), current_streak(session, child, today)
    last = max(start + timedelta(days=6), today)
    data = adherence.adherence_for(session, [child.id], first, last)[child.id]
    return _week_of(child, start, today, data), _streak_of(data, today)


def week(session: Session, child: Child, any_day: date, *, today: date) -> Week:
    """Each day of the week (Monday first) × activity, counted by the adherence engine."""
    start = week_start(any_day)
    data = adherence.adherence_for(session, [child.id], start, start + timedelta(days=6))
    return _week_of(child, start, today, data[child.id])


def _week_of(child: Child, start: date, today: date, result: adherence.ChildAdherence) -> Week:
    days = [start + timedelta(days=i) for i in range(7)]
    by_activity: dict[int, list[adherence.ChainAdherence]] = defaultdict(list)
    for chain in result.chains:
        by_activity[chain.activity_id].append(chain)
    rows: list[WeekRow] = []
    for activity_id, chains in by_activity.items():
        cells = []
        for d in days:
            tally = sum((chain.day(d) for chain in chains), adherence.Tally())
            state = _cell_state(d, today, tally.expected, tally.done, tally.extra)
            cells.append(WeekCell(d, tally.expected, tally.done, tally.extra, state))
        if any(cell.state != "not_scheduled" for cell in cells):
            rows.append(WeekRow(activity_id, chains[-1].activity_title, cells))
    rows.sort(key=lambda row: row.title.lower())
    return Week(
        child=child,
        start=start,
        today=today,
        rows=rows,
        days=[WeekDay(d, result.day(d).expected, result.day(d).done) for d in days],
        extra=result.between(days[0], days[-1]).extra,
    )


def current_streak(session: Session, child: Child, today: date) -> int:
    """Completed days in a row up to today.

    Today counts once it is complete, and an unfinished today breaks nothing (the day is
    not over). Days with nothing planned neither count nor break the streak.
    """
    start = today - timedelta(days=STREAK_LOOKBACK_DAYS)
    return _streak_of(adherence.adherence_for(session, [child.id], start, today)[child.id], today)


def _streak_of(result: adherence.ChildAdherence, today: date) -> int:
    start = max(result.start, today - timedelta(days=STREAK_LOOKBACK_DAYS))
    streak = 0
    day = today
    while day >= start:
        tally = result.day(day)
        if tally.expected > 0:
            if tally.done >= tally.expected:
                streak += 1
            elif day != today:
                break
        day -= timedelta(days=1)
    return streak

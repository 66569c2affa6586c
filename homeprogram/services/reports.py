"""What the child progress page and the progress report show, computed in one place."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeprogram.models import (
    Activity,
    AssessmentResult,
    Assignment,
    Child,
    CompletionLog,
    GasRating,
    Goal,
    User,
)
from homeprogram.services import adherence, assessments, audit, copm, gas
from homeprogram.services import goals as goal_service
from homeprogram.services.adherence import ChainAdherence, ChildAdherence, Tally
from homeprogram.services.audit import Actor
from homeprogram.services.goals import Progress

HEATMAP_WEEKS = 8
MEASURE_DAYS = 182
NOTES_SHOWN = 20
RESPONSES = ("easy", "just_right", "hard")


@dataclass(frozen=True)
class Cell:
    day: date
    state: str  # done | partial | missed | today | extra | none
    expected: int
    done: int
    extra: int


@dataclass
class ActivityProgress:
    chain: ChainAdherence
    tally: Tally
    weeks: list[list[Cell]]  # Monday-first weeks, oldest first
    responses: dict[str, int]
    measure_name: str | None
    measure_unit: str | None
    measures: list[tuple[date, float]]


@dataclass
class Note:
    day: date
    activity: str
    author: str
    body: str
    response: str | None


@dataclass
class ChildProgress:
    child: Child
    today: date
    start: date
    tally: Tally
    activities: list[ActivityProgress]
    responses: dict[str, int]
    notes: list[Note]
    goals: list[tuple[Goal, Progress]] = field(default_factory=list)
    t_scores: list[gas.TScore] = field(default_factory=list)


def _cell(chain: ChainAdherence, day: date, today: date) -> Cell:
    t = chain.day(day)
    if t.expected == 0:
        state = "extra" if t.extra else "none"
    elif t.done >= t.expected:
        state = "done"
    elif day == today:
        state = "today"
    elif t.done:
        state = "partial"
    else:
        state = "missed"
    return Cell(day, state, t.expected, t.done, t.extra)


def _responses(
    session: Session, child_id: int, start: date, end: date
) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(CompletionLog.assignment_id, CompletionLog.response, func.count())
        .where(
            CompletionLog.child_id == child_id,
            CompletionLog.deleted_at.is_(None),
            CompletionLog.local_date >= start,
            CompletionLog.local_date <= end,
            CompletionLog.response.is_not(None),
        )
        .group_by(CompletionLog.assignment_id, CompletionLog.response)
    )
    out: dict[int, dict[str, int]] = {}
    for assignment_id, response, n in rows:
        out.setdefault(assignment_id, {})[response] = n
    return out


def _measures(session: Session, child_id: int, since: date) -> dict[int, list[tuple[date, float]]]:
    rows = session.execute(
        select(CompletionLog.assignment_id, CompletionLog.local_date, CompletionLog.measure_value)
        .where(
            CompletionLog.child_id == child_id,
            CompletionLog.deleted_at.is_(None),
            CompletionLog.local_date >= since,
            CompletionLog.measure_value.is_not(None),
        )
        .order_by(CompletionLog.local_date, CompletionLog.occurred_at)
    )
    out: dict[int, list[tuple[date, float]]] = {}
    for assignment_id, day, value in rows:
        out.setdefault(assignment_id, []).append((day, value))
    return out


def notes_feed(session: Session, child_id: int, limit: int = NOTES_SHOWN) -> list[Note]:
    rows = session.execute(
        select(CompletionLog, Activity.title, User.name)
        .join(Assignment, Assignment.id == CompletionLog.assignment_id)
        .join(Activity, Activity.id == Assignment.activity_id)
        .outerjoin(User, User.id == CompletionLog.logged_by_id)
        .where(
            CompletionLog.child_id == child_id,
            CompletionLog.deleted_at.is_(None),
            CompletionLog.note.is_not(None),
            CompletionLog.note != "",
        )
        .order_by(CompletionLog.occurred_at.desc(), CompletionLog.id.desc())
        .limit(limit)
    )
    return [
        Note(log.local_date, title, name or "", log.note or "", log.response)
        for log, title, name in rows
    ]


def child_progress(session: Session, child: Child, now: datetime) -> ChildProgress:
    today = adherence.local_today(child.timezone, now)
    # Whole Monday-first weeks, the last one holding today.
    start = today - timedelta(days=today.weekday() + 7 * (HEATMAP_WEEKS - 1))
    data = adherence.child_adherence(session, child.id, start, today)
    responses = _responses(session, child.id, start, today)
    measures = _measures(session, child.id, today - timedelta(days=MEASURE_DAYS))
    child_goals = goal_service.goals_for(session, child.id)
    total_responses: Counter[str] = Counter()
    activities = []
    yesterday = today - timedelta(days=1)
    for chain in data.chains:
        tally = chain.between(start, yesterday)
        chain_measures = sorted(m for aid in chain.assignment_ids for m in measures.get(aid, []))
        if not (tally.expected or tally.extra or chain.day(today).expected or chain_measures):
            continue
        spread: Counter[str] = Counter()
        for aid in chain.assignment_ids:
            spread.update(responses.get(aid, {}))
        total_responses.update(spread)
        cells = [_cell(chain, start + timedelta(days=i), today) for i in range(7 * HEATMAP_WEEKS)]
        activities.append(
            ActivityProgress(
                chain=chain,
                tally=tally,
                weeks=[cells[i : i + 7] for i in range(0, len(cells), 7)],
                responses={r: spread.get(r, 0) for r in RESPONSES},
                measure_name=chain.measure_name,
                measure_unit=chain.measure_unit,
                measures=chain_measures,
            )
        )
    return ChildProgress(
        child=child,
        today=today,
        start=start,
        tally=data.between(start, yesterday),
        activities=activities,
        responses={r: total_responses.get(r, 0) for r in RESPONSES},
        notes=notes_feed(session, child.id),
        goals=[(g, goal_service.progress(g)) for g in child_goals],
        t_scores=gas.t_scores(child_goals),
    )


REPORT_DAYS = 90


def default_report_range(today: date) -> tuple[date, date]:
    """The report's suggested range: the last ``REPORT_DAYS`` whole days, ending yesterday.

    Today is not over, so its sessions still to do are not missed (the dashboard and the
    progress page end at yesterday too).
    """
    end = today - timedelta(days=1)
    return end - timedelta(days=REPORT_DAYS - 1), end


@dataclass
class Report:
    child: Child
    start: date
    end: date
    adherence: ChildAdherence
    activities: list[ChainAdherence]
    goals: list[tuple[Goal, Progress, GasRating | None]]  # the latest rating up to the end
    comment: str
    t_scores: list[gas.TScore]
    copm: copm.ReportSummary | None
    results: list[AssessmentResult]  # oldest first, by instrument, subtest and score type


def progress_report(
    session: Session, actor: Actor, child: Child, start: date, end: date, comment: str
) -> Report:
    data = adherence.child_adherence(session, child.id, start, end)
    audit.record(
        session,
        actor,
        "report.viewed",
        child_id=child.id,
        start=start.isoformat(),
        end=end.isoformat(),
    )
    child_goals = goal_service.goals_for(session, child.id)
    results = [r for r in assessments.results_of(session, child.id) if r.taken_on <= end]
    results.sort(key=lambda r: (r.instrument.name, r.subtest, r.score_type, r.taken_on, r.id))
    return Report(
        child=child,
        start=start,
        end=end,
        adherence=data,
        activities=data.active_chains(),
        goals=[
            (g, goal_service.progress(g, until=end), gas.rating_on(g, end)) for g in child_goals
        ],
        comment=comment.strip(),
        t_scores=gas.t_scores(child_goals, until=end),
        copm=copm.copm_summary_for_report(session, child.id, until=end),
        results=results,
    )

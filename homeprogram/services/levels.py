"""Levels that step up and down: suggestions from what families report, applied by therapists.

An assignment is done at a level (easier, standard, harder: ``models.Level``). From the
responses families give when they log a session, the therapist is offered one step:

- **Step down** ("easier"): "hard" on ``level_hard_count`` of the last ``level_hard_window``
  sessions. With fewer sessions than the window so far, those there are count: 3 "hard" of
  3 is already 3 "hard".
- **Step up** ("harder"): "easy" on each of the last ``level_easy_streak`` sessions.

A *session* here is a logged (not undone) session **with a response**: sessions the family
did not rate are skipped, so they neither count towards the window nor break a streak of
"easy" (they say nothing about how hard it was). A "just right" or "hard" does break it.

Only the sessions of the assignment's current prescription version count, so a level (or
dose) change starts afresh, and only those of the last ``LOOKBACK_DAYS`` days: old evidence
suggests nothing. Step down comes first when both rules hold (a struggling child matters
more). Nothing is suggested beyond the ends (already easier: no step down) or towards a
level the activity has no variation for. Nothing changes for the family until a therapist
applies the suggestion (:func:`apply`, a new prescription version from today); dismissing it
(:func:`dismiss`) silences that kind for that version for ``DISMISS_DAYS`` days.

Each organisation sets the three thresholds (:func:`update_settings`).
"""

from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Protocol

from flask_babel import gettext, ngettext
from sqlalchemy import Exists, Row, func, or_, select
from sqlalchemy.orm import Session, aliased

from homeprogram.formatting import format_when
from homeprogram.models import (
    Activity,
    Assignment,
    Child,
    CompletionLog,
    Level,
    LevelSuggestionDismissal,
    Organization,
    Response,
)
from homeprogram.services import audit, programs
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed

STEP_DOWN = "easier"
STEP_UP = "harder"
KINDS = (STEP_DOWN, STEP_UP)
ORDER = (Level.EASIER.value, Level.STANDARD.value, Level.HARDER.value)
DISMISS_DAYS = 14
LOOKBACK_DAYS = 42  # sessions older than six weeks suggest nothing
# Bounds of the organisation settings; MAX_SESSIONS is also how many sessions are read.
HARD_COUNT_RANGE = (1, 10)
MAX_SESSIONS = 20
EASY_STREAK_RANGE = (2, MAX_SESSIONS)


class Thresholds(Protocol):
    """An organisation's settings (``Organization`` has these columns)."""

    level_hard_count: int
    level_hard_window: int
    level_easy_streak: int


@dataclass(frozen=True)
class Settings:
    level_hard_count: int = 3
    level_hard_window: int = 4
    level_easy_streak: int = 5


@dataclass(frozen=True)
class Rated:
    """One session as the rules see it: its local day and the family's response."""

    local_date: date
    response: str | None  # easy | just_right | hard | None (not rated)


@dataclass(frozen=True)
class Suggestion:
    kind: str  # STEP_DOWN | STEP_UP
    to_level: str  # the level applying it sets
    count: int  # sessions that said "hard" (step down) or "easy" (step up)
    of: int  # sessions looked at
    since: date  # the local day of the oldest session looked at
    assignment_id: int | None = None
    child_id: int | None = None
    title: str = ""

    @property
    def headline(self) -> str:
        if self.kind == STEP_DOWN:
            if self.to_level == Level.EASIER:
                return gettext("Suggest: step down to easier")
            return gettext("Suggest: step down to the standard level")
        if self.to_level == Level.HARDER:
            return gettext("Ready for harder?")
        return gettext("Ready for the standard level?")

    @property
    def evidence(self) -> str:
        """The counts and the oldest session's day: "hard on 3 of the last 4 sessions since
        Thu, Mar 12"."""
        day = format_when(self.since, "day_short")
        if self.kind == STEP_DOWN:
            return ngettext(
                "hard on %(count)d of the last %(num)d session since %(day)s",
                "hard on %(count)d of the last %(num)d sessions since %(day)s",
                self.of,
                count=self.count,
                day=day,
            )
        return ngettext(
            "easy on the last %(num)d session in a row since %(day)s",
            "easy on the last %(num)d sessions in a row since %(day)s",
            self.of,
            day=day,
        )


def step(level: str, kind: str) -> str | None:
    """The level one step down (STEP_DOWN) or up (STEP_UP) from ``level``; None at the end."""
    if level not in ORDER or kind not in KINDS:
        return None
    i = ORDER.index(level) + (-1 if kind == STEP_DOWN else 1)
    return ORDER[i] if 0 <= i < len(ORDER) else None


def available_levels(activity: Activity) -> frozenset[str]:
    """The levels an activity can be done at: standard, and each variation it has."""
    found = {Level.STANDARD.value}
    if (activity.easier or "").strip():
        found.add(Level.EASIER.value)
    if (activity.harder or "").strip():
        found.add(Level.HARDER.value)
    return frozenset(found)


def suggestion_for(
    sessions: Sequence[Rated],
    org: Thresholds,
    *,
    level: str = Level.STANDARD.value,
    available: Container[str] = ORDER,
) -> Suggestion | None:
    """The rules of the module docstring over one version's latest sessions, newest first.

    ``level``: the assignment's level now; ``available``: the levels its activity has.
    """
    rated = [s for s in sessions if s.response is not None]
    down, up = step(level, STEP_DOWN), step(level, STEP_UP)
    window = rated[: org.level_hard_window]
    hard = sum(1 for s in window if s.response == Response.HARD)
    if down in available and window and hard >= org.level_hard_count:
        return Suggestion(STEP_DOWN, down, hard, len(window), window[-1].local_date)
    streak = rated[: org.level_easy_streak]
    if (
        up in available
        and len(streak) == org.level_easy_streak
        and all(s.response == Response.EASY for s in streak)
    ):
        return Suggestion(STEP_UP, up, len(streak), len(streak), streak[-1].local_date)
    return None


# --- a caseload's suggestions ------------------------------------------------------------


@dataclass
class _Chain:
    assignment_id: int
    child_id: int
    title: str
    level: str
    available: frozenset[str]
    thresholds: Settings
    dismissed: set[str]
    sessions: list[Rated]


def _latest_sessions(session: Session, child_ids: list[int], today: date) -> Sequence[Row[Any]]:
    """The rated sessions of the children's current versions, newest first, at most
    MAX_SESSIONS per assignment, with what the rules need beside them (one query)."""
    newer = aliased(Assignment)
    ranked = (
        select(
            CompletionLog.assignment_id.label("assignment_id"),
            CompletionLog.local_date.label("local_date"),
            CompletionLog.response.label("response"),
            func.row_number()
            .over(
                partition_by=CompletionLog.assignment_id,
                order_by=(CompletionLog.occurred_at.desc(), CompletionLog.id.desc()),
            )
            .label("n"),
        )
        .join(Assignment, Assignment.id == CompletionLog.assignment_id)
        .where(
            Assignment.child_id.in_(child_ids),
            Assignment.start_date <= today,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= today),
            ~select(newer.id).where(newer.previous_id == Assignment.id).exists(),
            CompletionLog.deleted_at.is_(None),
            CompletionLog.response.is_not(None),
            CompletionLog.local_date >= today - timedelta(days=LOOKBACK_DAYS),
        )
        .subquery()
    )

    def dismissed(kind: str) -> Exists:
        return (
            select(LevelSuggestionDismissal.id)
            .where(
                LevelSuggestionDismissal.assignment_id == ranked.c.assignment_id,
                LevelSuggestionDismissal.kind == kind,
                LevelSuggestionDismissal.until >= today,
            )
            .exists()
        )

    return session.execute(
        select(
            ranked.c.assignment_id,
            Assignment.child_id,
            Assignment.level,
            Activity.title,
            Activity.easier,
            Activity.harder,
            Organization.level_hard_count,
            Organization.level_hard_window,
            Organization.level_easy_streak,
            dismissed(STEP_DOWN),
            dismissed(STEP_UP),
            ranked.c.local_date,
            ranked.c.response,
        )
        .join(Assignment, Assignment.id == ranked.c.assignment_id)
        .join(Activity, Activity.id == Assignment.activity_id)
        .join(Child, Child.id == Assignment.child_id)
        .join(Organization, Organization.id == Child.organization_id)
        .where(ranked.c.n <= MAX_SESSIONS)
        .order_by(ranked.c.assignment_id, ranked.c.n)
    ).all()


def suggestions(
    session: Session, child_ids: Iterable[int], today: date
) -> dict[int, list[Suggestion]]:
    """Per child, the suggestions of its current assignments not dismissed on ``today``
    (one query for the whole caseload); children without any are left out."""
    ids = sorted(set(child_ids))
    if not ids:
        return {}
    chains: dict[int, _Chain] = {}
    for row in _latest_sessions(session, ids, today):
        (aid, child_id, level, title, easier, harder, count, window, streak) = row[:9]
        chain = chains.get(aid)
        if chain is None:
            variations = {Level.EASIER.value: easier, Level.HARDER.value: harder}
            chain = chains[aid] = _Chain(
                assignment_id=aid,
                child_id=child_id,
                title=title,
                level=level,
                available=frozenset(
                    {Level.STANDARD.value} | {k for k, v in variations.items() if v.strip()}
                ),
                thresholds=Settings(count, window, streak),
                dismissed={k for k, gone in zip(KINDS, row[9:11], strict=True) if gone},
                sessions=[],
            )
        chain.sessions.append(Rated(row.local_date, row.response))
    found: dict[int, list[Suggestion]] = defaultdict(list)
    for chain in chains.values():
        s = suggestion_for(
            chain.sessions, chain.thresholds, level=chain.level, available=chain.available
        )
        if s is not None and s.kind not in chain.dismissed:
            found[chain.child_id].append(
                replace(
                    s, assignment_id=chain.assignment_id, child_id=chain.child_id, title=chain.title
                )
            )
    for items in found.values():
        items.sort(key=lambda s: (s.title.lower(), s.assignment_id or 0))
    return dict(found)


# --- acting on a suggestion --------------------------------------------------------------


def _kind_or_error(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed({"kind": gettext("Choose a step down or a step up.")})
    return kind


def apply(
    session: Session, actor: Actor, assignment: Assignment, kind: str, today: date
) -> Assignment:
    """One step down or up as a new prescription version from ``today``; days before keep
    the old level (the versioning of ``services/programs.py``). Returns the current row."""
    target = step(assignment.level, _kind_or_error(kind))
    if target is None:
        message = (
            gettext("It is already at the easier level.")
            if kind == STEP_DOWN
            else gettext("It is already at the harder level.")
        )
        raise ValidationFailed({"kind": message})
    before = assignment.level
    current = programs.change_level(session, actor, assignment, target, today=today)
    audit.record(
        session,
        actor,
        "assignment.level_changed",
        child_id=current.child_id,
        target_type="assignment",
        target_id=current.id,
        previous_id=assignment.id if current.id != assignment.id else None,
        before=before,
        after=target,
        effective=today.isoformat(),
    )
    return current


def dismiss(
    session: Session, actor: Actor, assignment: Assignment, kind: str, today: date
) -> LevelSuggestionDismissal:
    """Silence this kind of suggestion for this version from ``today`` for DISMISS_DAYS days."""
    row = LevelSuggestionDismissal(
        assignment_id=assignment.id,
        kind=_kind_or_error(kind),
        until=today + timedelta(days=DISMISS_DAYS - 1),
        by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "assignment.level_suggestion_dismissed",
        child_id=assignment.child_id,
        target_type="assignment",
        target_id=assignment.id,
        kind=kind,
        until=row.until.isoformat(),
    )
    return row


# --- the organisation's thresholds -------------------------------------------------------


def validate_settings(
    hard_count: int | None, hard_window: int | None, easy_streak: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    low, high = HARD_COUNT_RANGE
    if hard_count is None or not low <= hard_count <= high:
        errors["level_hard_count"] = gettext(
            "Enter a number from %(min)d to %(max)d.", min=low, max=high
        )
    smallest = hard_count if "level_hard_count" not in errors and hard_count else low
    if hard_window is None or not smallest <= hard_window <= MAX_SESSIONS:
        errors["level_hard_window"] = gettext(
            "Enter a number from %(min)d to %(max)d: at least the number of “hard” sessions.",
            min=smallest,
            max=MAX_SESSIONS,
        )
    low, high = EASY_STREAK_RANGE
    if easy_streak is None or not low <= easy_streak <= high:
        errors["level_easy_streak"] = gettext(
            "Enter a number from %(min)d to %(max)d.", min=low, max=high
        )
    return errors


def update_settings(
    session: Session,
    actor: Actor,
    org: Organization,
    *,
    hard_count: int | None,
    hard_window: int | None,
    easy_streak: int | None,
) -> None:
    errors = validate_settings(hard_count, hard_window, easy_streak)
    if errors:
        raise ValidationFailed(errors)
    assert hard_count is not None and hard_window is not None and easy_streak is not None
    before = (org.level_hard_count, org.level_hard_window, org.level_easy_streak)
    after = (hard_count, hard_window, easy_streak)
    if before == after:
        return
    org.level_hard_count, org.level_hard_window, org.level_easy_streak = after
    audit.record(
        session,
        actor,
        "organization.level_settings_changed",
        organization_id=org.id,
        target_type="organization",
        target_id=org.id,
        before=list(before),
        after=list(after),
    )

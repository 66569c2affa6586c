"""Reminder plans, and which reminders are due: selected, claimed, then sent.

Plain functions with the clock passed in. A slot (a local time on a local day in the
child's time zone) is due from its instant until the catch-up window (the push TTL) has
passed: a scheduler that was down sends what is still useful and skips what is stale.
A slot is skipped inside quiet hours, on days the plan leaves out, and when the day's
home sessions are all logged already. Each reminder is planned as its unique
``ReminderDelivery`` row before anything is sent, then leased and sent by one scheduler
process (``reminder_dispatch``), whatever the number of them.
"""

import asyncio
import contextvars
import logging
import re
from collections import defaultdict
from collections.abc import Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, selectinload

from homeprogram.db import Transaction
from homeprogram.models import (
    Assignment,
    CareRole,
    CareTeamMember,
    Child,
    CompletionLog,
    PushSubscription,
    ReminderDelivery,
    ReminderPlan,
    Setting,
    User,
)
from homeprogram.services import claims, jobs, push
from homeprogram.services.audit import Actor, record
from homeprogram.services.errors import ValidationFailed
from homeprogram.services.schedule import expected_sessions

# Written to people whose language is not known (and the catalogs' source language).
DEFAULT_LANGUAGE = "en"

if TYPE_CHECKING:
    from homeprogram.services.push_async import AsyncPushSender
    from homeprogram.services.reminder_dispatch import DispatchOptions, DispatchRun

log = logging.getLogger(__name__)
REMINDER_JOB = "reminders"

DEFAULT_TIMES = ["17:00"]
ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]
MAX_TIMES = 4
NUDGE_SLOT = "nudge"
NUDGE_TIME = time(8, 0)
CATCH_UP_WINDOW = timedelta(seconds=push.REMINDER_TTL_SECONDS)
HOME_SETTINGS = (Setting.HOME.value, Setting.BOTH.value)
DELIVERY_KEY = ("user_id", "child_id", "local_date", "slot")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def today_path(child_id: int) -> str:
    """The caregiver's today page for one child: where a tap on a reminder leads, online
    or offline (the service worker keeps each child's page under this address)."""
    return f"/children/{child_id}/today"


def parse_hhmm(value: str) -> time:
    match = _HHMM.match(value.strip())
    if match is None:
        raise ValueError(value)
    return time(int(match.group(1)), int(match.group(2)))


def in_quiet_hours(moment: time, start: time | None, end: time | None) -> bool:
    """Quiet hours may wrap midnight (21:00–07:00); equal start and end means none."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def slot_instant(day: date, moment: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    zoneinfo resolves the DST edges: a time skipped in spring maps to the instant an
    hour later on the wall clock, a repeated time in autumn to its first occurrence.
    """
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


# --- plans ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    times: list[str]
    days_of_week: list[int]
    quiet_start: str | None
    quiet_end: str | None
    morning_nudge: bool
    enabled: bool


def validate_plan(data: PlanInput) -> PlanInput:
    errors: dict[str, str] = {}
    times: list[str] = []
    for raw in data.times:
        raw = raw.strip()
        if not raw:
            continue
        try:
            times.append(parse_hhmm(raw).strftime("%H:%M"))
        except ValueError:
            errors["times"] = gettext("Use times like 17:00 (24-hour clock).")
    times = sorted(set(times))
    if not errors and not times:
        errors["times"] = gettext("Choose at least one time.")
    if len(times) > MAX_TIMES:
        errors["times"] = gettext("At most %(n)d reminder times a day.", n=MAX_TIMES)
    days = sorted(set(data.days_of_week))
    if not days or any(d not in ALL_DAYS for d in days):
        errors["days_of_week"] = gettext("Choose at least one day.")
    quiet: list[str | None] = []
    for name, raw in (("quiet_start", data.quiet_start), ("quiet_end", data.quiet_end)):
        raw = (raw or "").strip()
        if not raw:
            quiet.append(None)
            continue
        try:
            quiet.append(parse_hhmm(raw).strftime("%H:%M"))
        except ValueError:
            quiet.append(None)
            errors[name] = gettext("Use a time like 21:00 (24-hour clock).")
    if (quiet[0] is None) != (quiet[1] is None) and not {
        "quiet_start",
        "quiet_end",
    } & errors.keys():
        errors["quiet_end" if quiet[1] is None else "quiet_start"] = gettext(
            "Give both the start and the end of quiet hours, or neither."
        )
    if not errors and quiet[0] is not None:
        start, end = parse_hhmm(quiet[0]), parse_hhmm(quiet[1] or "")
        if start == end:
            errors["quiet_end"] = gettext("Quiet hours must end at a different time.")
        elif all(in_quiet_hours(parse_hhmm(t), start, end) for t in times):
            errors["times"] = gettext("Every reminder time falls inside quiet hours.")
    if errors:
        raise ValidationFailed(errors)
    return PlanInput(times, days, quiet[0], quiet[1], data.morning_nudge, data.enabled)


def plan_for(session: Session, user_id: int, child_id: int) -> ReminderPlan | None:
    return session.scalar(
        select(ReminderPlan).where(
            ReminderPlan.user_id == user_id, ReminderPlan.child_id == child_id
        )
    )


def default_plan(user_id: int, child_id: int) -> ReminderPlan:
    return ReminderPlan(
        user_id=user_id,
        child_id=child_id,
        times=list(DEFAULT_TIMES),
        days_of_week=list(ALL_DAYS),
        morning_nudge=False,
        enabled=True,
    )


def save_plan(
    session: Session, actor: Actor, user_id: int, child: Child, data: PlanInput
) -> ReminderPlan:
    clean = validate_plan(data)
    plan = plan_for(session, user_id, child.id)
    if plan is None:
        plan = default_plan(user_id, child.id)
        session.add(plan)
    plan.times, plan.days_of_week = clean.times, clean.days_of_week
    plan.quiet_start, plan.quiet_end = clean.quiet_start, clean.quiet_end
    plan.morning_nudge, plan.enabled = clean.morning_nudge, clean.enabled
    session.flush()
    record(
        session,
        actor,
        "reminders.plan_saved",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="reminder_plan",
        target_id=plan.id,
        enabled=clean.enabled,
    )
    return plan


def ensure_default_plans(session: Session, user_id: int) -> int:
    """Give a caregiver the default plan (17:00 local, every day) for children without one."""
    children = session.scalars(
        select(CareTeamMember.child_id).where(
            CareTeamMember.user_id == user_id,
            CareTeamMember.role == CareRole.CAREGIVER,
            ~exists().where(
                ReminderPlan.user_id == user_id, ReminderPlan.child_id == CareTeamMember.child_id
            ),
        )
    ).all()
    for child_id in children:
        session.add(default_plan(user_id, child_id))
    session.flush()
    return len(children)


# --- what is due ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    user_id: int
    child_id: int
    child_name: str
    local_date: date
    slot: str
    due_at: datetime
    activities: int  # activities with sessions still to do that day
    language: str = DEFAULT_LANGUAGE  # the recipient's: the notification is written in it

    @property
    def key(self) -> tuple[int, int, date, str]:
        return (self.user_id, self.child_id, self.local_date, self.slot)

    def message(self, now: datetime, window: timedelta = CATCH_UP_WINDOW) -> push.PushMessage:
        """The notification, in the recipient's language: a first name and a count, nothing
        about health."""
        with force_locale(self.language):
            title, body = self._words()
        # Still useful until the window closes: a caught-up reminder lives that much less.
        ttl = max(60, round((self.due_at + window - now).total_seconds()))
        topic = f"c{self.child_id}-{self.local_date:%Y%m%d}"
        return push.PushMessage(
            title=title,
            body=body,
            url=today_path(self.child_id),
            ttl=ttl,
            urgency="low" if self.slot == NUDGE_SLOT else "normal",
            topic=topic,
            tag=topic,
        )

    def _words(self) -> tuple[str, str]:
        if self.slot == NUDGE_SLOT:
            title = gettext("A new day")
            body = ngettext(
                "Ready to practise with %(name)s today? (%(num)d activity)",
                "Ready to practise with %(name)s today? (%(num)d activities)",
                self.activities,
                name=self.child_name,
            )
        else:
            title = gettext("Practice time")
            body = ngettext(
                "Time to practise with %(name)s (%(num)d activity)",
                "Time to practise with %(name)s (%(num)d activities)",
                self.activities,
                name=self.child_name,
            )
        return title, body


@dataclass(frozen=True)
class _Slot:
    plan: ReminderPlan
    child: Child
    local_date: date
    slot: str
    due_at: datetime


def _plan_slots(plan: ReminderPlan, child: Child, now: datetime, window: timedelta) -> list[_Slot]:
    tz = ZoneInfo(child.timezone)
    quiet_start = parse_hhmm(plan.quiet_start) if plan.quiet_start else None
    quiet_end = parse_hhmm(plan.quiet_end) if plan.quiet_end else None
    local_now = now.astimezone(tz)
    if in_quiet_hours(local_now.time(), quiet_start, quiet_end):
        return []  # a caught-up reminder waits for no one inside quiet hours: it is skipped
    moments: list[tuple[str, time]] = []
    for raw in plan.times:
        try:
            moments.append((raw, parse_hhmm(raw)))
        except ValueError:
            log.warning("reminder plan %s has a bad time %r", plan.id, raw)
    if plan.morning_nudge:
        nudge = NUDGE_TIME
        if in_quiet_hours(nudge, quiet_start, quiet_end) and quiet_end is not None:
            nudge = quiet_end
        moments.append((NUDGE_SLOT, nudge))
    found = []
    # Yesterday too: a 23:00 reminder is still useful at 00:30 within the window.
    for day in (local_now.date() - timedelta(days=1), local_now.date()):
        if day.weekday() not in plan.days_of_week:
            continue
        for slot, moment in moments:
            if in_quiet_hours(moment, quiet_start, quiet_end):
                continue
            due = slot_instant(day, moment, tz)
            if due <= now < due + window:
                found.append(_Slot(plan, child, day, slot, due))
    return found


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _DayProgress:
    expected: int = 0
    logged_any: bool = False
    remaining_activities: int = 0


def _progress(
    session: Session, child_days: set[tuple[int, date]]
) -> dict[tuple[int, date], _DayProgress]:
    """Expected and logged home sessions per (child, local day), deleted logs excluded."""
    child_ids = sorted({child_id for child_id, _ in child_days})
    days = sorted({day for _, day in child_days})
    assignments: dict[int, list[Assignment]] = defaultdict(list)
    counts: dict[tuple[int, date], int] = {}
    logged: set[tuple[int, date]] = set()
    for ids in _chunks(child_ids):
        for assignment in session.scalars(
            select(Assignment)
            .where(Assignment.child_id.in_(ids), Assignment.setting.in_(HOME_SETTINGS))
            .options(selectinload(Assignment.pauses))
        ):
            assignments[assignment.child_id].append(assignment)
        rows = session.execute(
            select(
                CompletionLog.child_id,
                CompletionLog.assignment_id,
                CompletionLog.local_date,
                func.count(),
            )
            .where(
                CompletionLog.child_id.in_(ids),
                CompletionLog.local_date.in_(days),
                CompletionLog.deleted_at.is_(None),
            )
            .group_by(CompletionLog.child_id, CompletionLog.assignment_id, CompletionLog.local_date)
        )
        for child_id, assignment_id, day, count in rows:
            counts[(assignment_id, day)] = count
            logged.add((child_id, day))

    def day_progress(child_day: tuple[int, date]) -> _DayProgress:
        child_id, day = child_day
        state = _DayProgress(logged_any=child_day in logged)
        for assignment in assignments.get(child_id, []):
            expected = expected_sessions(assignment, day)
            if expected:
                state.expected += expected
                if counts.get((assignment.id, day), 0) < expected:
                    state.remaining_activities += 1
        return state

    # A child whose program cannot be read is left out (logged); find_due skips it.
    return dict(
        jobs.each(
            child_days,
            day_progress,
            job=REMINDER_JOB,
            label=lambda child_day: f"child {child_day[0]} ({child_day[1]})",
        )
    )


def find_due(
    session: Session,
    now: datetime,
    window: timedelta = CATCH_UP_WINDOW,
    *,
    plan_ids: tuple[int, int] | None = None,
) -> list[DueReminder]:
    """Reminders due at ``now`` and not yet claimed, for caregivers with a device (of the
    plans whose id is in ``[start, stop)`` when ``plan_ids`` is given)."""
    ids = (
        and_(ReminderPlan.id >= plan_ids[0], ReminderPlan.id < plan_ids[1])
        if plan_ids is not None
        else True
    )
    plans = session.execute(
        select(ReminderPlan, Child)
        .join(Child, Child.id == ReminderPlan.child_id)
        .join(User, User.id == ReminderPlan.user_id)
        .join(
            CareTeamMember,
            and_(
                CareTeamMember.child_id == ReminderPlan.child_id,
                CareTeamMember.user_id == ReminderPlan.user_id,
                CareTeamMember.role == CareRole.CAREGIVER,
            ),
        )
        .where(
            ReminderPlan.enabled,
            User.active,
            exists().where(PushSubscription.user_id == ReminderPlan.user_id),
            ids,
        )
    ).all()
    # One plan or child the job cannot use (a time zone zoneinfo cannot load) is logged
    # with its ids and skipped; every other caregiver is reminded.
    found = jobs.each(
        plans,
        lambda row: _plan_slots(row[0], row[1], now, window),
        job=REMINDER_JOB,
        label=lambda row: f"child {row[1].id} (reminder plan {row[0].id})",
    )
    slots = [s for _, plan_slots in found for s in plan_slots]
    if not slots:
        return []
    days = sorted({s.local_date for s in slots})
    claimed: set[tuple[Any, ...]] = set()
    for children in _chunks(sorted({s.child.id for s in slots})):
        claimed.update(
            tuple(row)
            for row in session.execute(
                select(
                    ReminderDelivery.user_id,
                    ReminderDelivery.child_id,
                    ReminderDelivery.local_date,
                    ReminderDelivery.slot,
                ).where(
                    ReminderDelivery.local_date.in_(days),
                    ReminderDelivery.child_id.in_(children),
                )
            )
        )
    slots = [s for s in slots if (s.plan.user_id, s.child.id, s.local_date, s.slot) not in claimed]
    child_days = {(s.child.id, s.local_date) for s in slots}
    child_days |= {
        (s.child.id, s.local_date - timedelta(days=1)) for s in slots if s.slot == NUDGE_SLOT
    }
    progress = _progress(session, child_days)
    locales = languages_of(session, {s.plan.user_id for s in slots})
    due = []
    for s in slots:
        today = progress.get((s.child.id, s.local_date))
        if today is None or today.remaining_activities == 0:
            continue  # nothing planned that day, all logged already, or skipped (logged)
        if s.slot == NUDGE_SLOT:
            yesterday = progress.get((s.child.id, s.local_date - timedelta(days=1)))
            if yesterday is None or yesterday.expected == 0 or yesterday.logged_any:
                continue
        due.append(
            DueReminder(
                user_id=s.plan.user_id,
                child_id=s.child.id,
                child_name=s.child.display_name,
                local_date=s.local_date,
                slot=s.slot,
                due_at=s.due_at,
                activities=today.remaining_activities,
                language=locales.get(s.plan.user_id, DEFAULT_LANGUAGE),
            )
        )
    return due


def languages_of(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Each user's language, for what is written to them."""
    if not user_ids:
        return {}
    return dict(
        session.execute(select(User.id, User.locale).where(User.id.in_(sorted(user_ids)))).all()
    )


def claim_due(session: Session, due: list[DueReminder], now: datetime) -> dict[int, DueReminder]:
    """Insert the delivery rows; return the ones this caller won, by delivery id."""
    by_key = {d.key: d for d in due}
    rows = [
        {
            "user_id": d.user_id,
            "child_id": d.child_id,
            "local_date": d.local_date,
            "slot": d.slot,
            "due_at": d.due_at,
            "claimed_at": now,
            "status": "claimed",
            "devices": 0,
        }
        for d in by_key.values()
    ]
    won = claims.claim(session, ReminderDelivery, rows, DELIVERY_KEY)
    return {row[0]: by_key[tuple(row[1:])] for row in won}  # type: ignore[index]


_T = TypeVar("_T")


def run_to_end(work: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to its end on an event loop of its own: in a thread of its own when
    the caller already runs a loop (an async host, a browser-driving test), where
    ``asyncio.run`` refuses."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    # The caller's context goes along: the app (and so the catalogs the messages are
    # written from) lives in context variables.
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reminders") as pool:
        return pool.submit(context.run, asyncio.run, work).result()


def run_due_reminders(
    transaction: Transaction,
    sender: "push.PushSender | AsyncPushSender",
    now: datetime,
    window: timedelta = CATCH_UP_WINDOW,
    options: "DispatchOptions | None" = None,
) -> "DispatchRun":
    """Plan, claim (leased, committed before any send), send concurrently, record the
    outcome: ``reminder_dispatch`` does it, safe in any number of processes at once."""
    from homeprogram.services.push_async import AsyncPushSender
    from homeprogram.services.reminder_dispatch import DispatchOptions, dispatch

    options = options or DispatchOptions()
    if not isinstance(sender, AsyncPushSender):
        sender = AsyncPushSender.like(sender, options.in_flight)
    run = run_to_end(dispatch(transaction, sender, now, window, options))
    if run.failed:
        log.warning("reminders: %d of %d could not be delivered", run.failed, run.claimed)
    return run

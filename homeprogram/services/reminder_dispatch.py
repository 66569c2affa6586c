"""Sending the due reminders from any number of scheduler processes, with no coordinator.

Three steps, each safe to run in several processes at once:

1. **Plan**: the due reminders are written as ``pending`` delivery rows (the unique row per
   user, child, local day and slot: a second planner inserts nothing), each with
   ``not_before`` = its due time plus jitter, so one slot's herd is spread over the minute.
   Plans are planned in id ranges; on PostgreSQL a range is planned by whoever holds its
   advisory lock (``pg_try_advisory_xact_lock``), and the others move on to the next range,
   so planning is shared too.
2. **Claim**: a process leases a batch of rows that are ``pending`` and past ``not_before``,
   or ``claimed`` by someone whose lease ran out (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serializes the claims). A lease runs out only
   while the reminder is still useful (the push TTL); after that the row is ``expired``.
3. **Send and record**: many sends in flight (``push_async``); each outcome is written only
   if the lease is still this process's, in small batches, so a process killed mid-batch
   leaves at most its in-flight sends unrecorded. Those are sent again by whoever takes the
   lease over, with the same ``Topic`` (and notification tag): the push service replaces an
   undelivered copy, and the phone replaces a shown one.

Each run logs its delay from due time to send (p50, p95, max).
"""

import asyncio
import contextlib
import functools
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from homeprogram.db import Transaction
from homeprogram.models import Child, ReminderDelivery, ReminderPlan, ReminderPlanning
from homeprogram.services import claims, jobs, push, reminders
from homeprogram.services.push_async import ABANDONED, AsyncPushSender

log = logging.getLogger(__name__)

LEASE_SECONDS = 120  # longer than a send with its retries (3 x 10 s timeout, waits < 30 s)
CLAIM_BATCH = 200
PLAN_RANGE = 5000  # plan ids per planning transaction
RECORD_EVERY_SECONDS = 0.1
# A process stops sending a reminder when 80 % of its lease has gone by without renewal:
# the rest covers a request already under way and clocks a little apart between hosts.
LEASE_SAFETY = 0.8
_PLAN_LOCK_CLASS = 0x7265  # "re": the advisory lock space of reminder planning
_TABLE = ReminderDelivery.__table__
_OPEN = ("pending", "claimed")


def default_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{random.getrandbits(24):06x}"


@dataclass(frozen=True)
class DispatchOptions:
    """How one process dispatches: ``linger`` waits for other processes' leases to end
    (and takes them over) instead of leaving them to the next run."""

    in_flight: int = 200
    batch: int = CLAIM_BATCH
    lease_seconds: float = LEASE_SECONDS
    spread_seconds: float = 0.0
    linger: bool = False
    plan: bool = True
    owner: str = field(default_factory=default_owner)

    @classmethod
    def from_config(cls, config: Any) -> "DispatchOptions":
        return cls(
            in_flight=int(config.get("PUSH_IN_FLIGHT", 200)),
            lease_seconds=float(config.get("REMINDER_LEASE_SECONDS", LEASE_SECONDS)),
            spread_seconds=float(config.get("REMINDER_SPREAD_SECONDS", 50)),
        )


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    user_id: int
    child_id: int
    child_name: str
    local_date: date
    slot: str
    due_at: datetime
    activities: int
    taken_over: bool  # claimed before: a lease that ran out (or put back by Retry-After)
    language: str = reminders.DEFAULT_LANGUAGE  # the recipient's

    def reminder(self) -> reminders.DueReminder:
        return reminders.DueReminder(
            self.user_id,
            self.child_id,
            self.child_name,
            self.local_date,
            self.slot,
            self.due_at,
            self.activities,
            self.language,
        )


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(fraction * len(ordered) + 0.999999) - 1))]


# --- 1. plan --------------------------------------------------------------------------------


def _jitter(spread: float) -> timedelta:
    return timedelta(seconds=random.uniform(0, spread)) if spread > 0 else timedelta(0)


def plan_range(
    session: Session, now: datetime, window: timedelta, spread: float, ids: tuple[int, int]
) -> int | None:
    """Write the pending rows of the plans with ids in ``ids`` for this minute; None when
    another process is planning the range (PostgreSQL) or has planned it already."""
    if session.get_bind().dialect.name == "postgresql":
        got = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:space, :range)"),
            {"space": _PLAN_LOCK_CLASS, "range": ids[0] // PLAN_RANGE},
        ).scalar()
        if not got:
            return None
    minute = now.replace(second=0, microsecond=0)
    marker = {"minute": minute, "range_start": ids[0], "planned": 0}
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.get_bind().dialect.name
    ]
    table = ReminderPlanning.__table__
    statement = insert(table).on_conflict_do_nothing().returning(table.c.range_start)
    if session.execute(statement, [marker]).first() is None:
        return None  # planned this minute already (and committed)
    due = reminders.find_due(session, now, window, plan_ids=ids)
    rows = [
        {
            "user_id": d.user_id,
            "child_id": d.child_id,
            "local_date": d.local_date,
            "slot": d.slot,
            "due_at": d.due_at,
            "claimed_at": now,
            "status": "pending",
            "devices": 0,
            "not_before": max(d.due_at, now) + _jitter(spread),
            "attempts": 0,
            "activities": d.activities,
        }
        for d in {d.key: d for d in due}.values()
    ]
    claims.claim(session, ReminderDelivery, rows, reminders.DELIVERY_KEY, returning=False)
    t = ReminderPlanning.__table__
    session.execute(
        update(t).where(t.c.minute == minute, t.c.range_start == ids[0]).values(planned=len(rows))
    )
    return len(rows)


def plan(
    transaction: Transaction,
    now: datetime,
    window: timedelta,
    spread: float,
    retry_wait: float = 0.2,
) -> int:
    """Plan every range of plans not planned yet this minute; ranges another process is
    planning are tried again until they are done (by it, or by us if it died)."""
    with transaction() as session:
        top = session.scalar(select(func.max(ReminderPlan.id))) or 0
        old = now - timedelta(days=1)
        session.execute(delete(ReminderPlanning).where(ReminderPlanning.minute < old))
    found = 0
    todo = list(range(0, top + 1, PLAN_RANGE))
    while todo:
        busy = []
        for start in todo:
            try:
                with transaction() as session:
                    ids = (start, start + PLAN_RANGE)
                    planned = plan_range(session, now, window, spread, ids)
                    if planned is None and _being_planned(session, now, start):
                        busy.append(start)
            except Exception as error:  # one range failing must not stop the others
                jobs.skipped(
                    reminders.REMINDER_JOB, f"plans {start}-{start + PLAN_RANGE - 1}", error
                )
                continue
            found += planned or 0
        todo = busy
        if todo:
            time.sleep(retry_wait)
    return found


def _being_planned(session: Session, now: datetime, start: int) -> bool:
    """Whether the range still lacks its committed marker (its planner is at work)."""
    minute = now.replace(second=0, microsecond=0)
    return (
        session.get(ReminderPlanning, (minute, start)) is None
        and session.get_bind().dialect.name == "postgresql"
    )


# --- 2. claim -------------------------------------------------------------------------------


def expire_stale(session: Session, now: datetime, window: timedelta) -> None:
    """Rows past their usefulness that nobody holds any more become ``expired``."""
    t = _TABLE
    session.execute(
        update(t)
        .where(
            t.c.status.in_(_OPEN),
            t.c.due_at <= now - window,
            or_(t.c.status == "pending", t.c.lease_until < now),
        )
        .values(status="expired", lease_owner=None, lease_until=None)
    )


def claim_batch(
    session: Session,
    owner: str,
    now: datetime,
    window: timedelta,
    lease: timedelta,
    limit: int,
) -> list[Claimed]:
    """Lease up to ``limit`` rows ready to send: first those claimed by someone whose lease
    ran out, then pending ones past their jitter, earliest first. Two statements, so each
    uses the (status, not_before) index instead of sorting every open row."""
    stale = now - window
    t = _TABLE
    ready = [
        select(t.c.id)
        .where(t.c.status == "claimed", t.c.lease_until < now, t.c.due_at > stale)
        .order_by(t.c.lease_until),
        select(t.c.id)
        .where(t.c.status == "pending", t.c.not_before <= now, t.c.due_at > stale)
        .order_by(t.c.not_before),
    ]
    rows: list[Any] = []
    for query in ready:
        if len(rows) >= limit:
            break
        rows += session.execute(
            update(t)
            .where(
                t.c.id.in_(
                    query.limit(limit - len(rows))
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
            )
            .values(
                status="claimed",
                lease_owner=owner,
                lease_until=now + lease,
                claimed_at=now,
                attempts=t.c.attempts + 1,
            )
            .returning(
                t.c.id,
                t.c.user_id,
                t.c.child_id,
                t.c.local_date,
                t.c.slot,
                t.c.due_at,
                t.c.activities,
                t.c.attempts,
            )
        ).all()
    if not rows:
        return []
    names = dict(
        session.execute(
            select(Child.id, Child.display_name).where(Child.id.in_({r.child_id for r in rows}))
        ).all()
    )
    languages = reminders.languages_of(session, {r.user_id for r in rows})
    return [
        Claimed(
            r.id,
            r.user_id,
            r.child_id,
            names.get(r.child_id, ""),
            r.local_date,
            r.slot,
            r.due_at,
            r.activities,
            r.attempts > 1,
            languages.get(r.user_id, reminders.DEFAULT_LANGUAGE),
        )
        for r in rows
    ]


def still_open(
    session: Session, owner: str, now: datetime, window: timedelta, horizon: timedelta
) -> tuple[int, int]:
    """(pending rows due to be sent within ``horizon``, rows leased by other processes).
    Rows put back for later (a long Retry-After) are left to the run of their minute."""
    t = _TABLE
    stale = now - window
    pending = session.scalar(
        select(func.count()).where(
            t.c.status == "pending", t.c.due_at > stale, t.c.not_before <= now + horizon
        )
    )
    leased = session.scalar(
        select(func.count()).where(
            t.c.status == "claimed", t.c.due_at > stale, t.c.lease_owner != owner
        )
    )
    return pending or 0, leased or 0


def renew(session: Session, owner: str, now: datetime, lease: timedelta) -> None:
    """Extend this process's leases that have not run out."""
    t = _TABLE
    session.execute(
        update(t)
        .where(t.c.status == "claimed", t.c.lease_owner == owner, t.c.lease_until > now)
        .values(lease_until=now + lease)
    )


# --- 3. record ------------------------------------------------------------------------------


@dataclass
class Outcome:
    delivery_id: int
    status: str
    devices: int
    sent_at: datetime | None
    error: str | None
    results: list[push.SendResult]
    not_before: datetime | None = None  # when a deferred reminder may be sent again


def record(session: Session, owner: str, outcomes: list[Outcome], now: datetime) -> None:
    """Write the outcomes whose lease is still ours (a lease taken over is the other
    process's to record), and what the push services said about each device."""
    t = _TABLE
    session.connection().execute(
        update(t)
        .where(
            t.c.id == bindparam("delivery_id"),
            t.c.lease_owner == owner,
            t.c.status == "claimed",
        )
        .values(
            status=bindparam("new_status"),
            devices=bindparam("new_devices"),
            sent_at=bindparam("new_sent_at"),
            error=bindparam("new_error"),
            not_before=func.coalesce(
                bindparam("new_not_before", type_=t.c.not_before.type), t.c.not_before
            ),
            lease_until=None,
        ),
        [
            {
                "delivery_id": o.delivery_id,
                "new_status": o.status,
                "new_devices": o.devices,
                "new_sent_at": o.sent_at,
                "new_error": o.error,
                "new_not_before": o.not_before,
            }
            for o in outcomes
        ],
    )
    push.record_results(session, (r for o in outcomes for r in o.results), now)


def outcome_of(
    claimed: "Claimed", results: list[push.SendResult], now: datetime, window: timedelta
) -> Outcome:
    """Sent when one device got it; when every push service asked to come back later
    (Retry-After), pending again from then on, if the reminder is still useful then."""
    delivered = sum(1 for r in results if r.ok)
    if not results:
        return Outcome(claimed.delivery_id, "no_device", 0, None, None, results)
    if delivered:
        return Outcome(claimed.delivery_id, "sent", delivered, now, None, results)
    error = "; ".join(sorted({r.error or "failed" for r in results}))[:255]
    waits = [r.retry_in for r in results]
    if all(w is not None for w in waits):
        retry_at = now + timedelta(seconds=max(w or 0.0 for w in waits))
        if retry_at < claimed.due_at + window:
            return Outcome(claimed.delivery_id, "pending", 0, None, error, [], retry_at)
    return Outcome(claimed.delivery_id, "failed", 0, None, error, results)


# --- the run --------------------------------------------------------------------------------


@dataclass
class DispatchRun:
    due: int = 0  # planned by this process
    claimed: int = 0
    taken_over: int = 0
    sent: int = 0
    failed: int = 0
    no_device: int = 0
    deferred: int = 0  # a push service said to come back later (Retry-After): pending again
    abandoned: int = 0  # our lease ran out before sending: left to the process taking it over
    pushes: int = 0
    delays: list[float] = field(default_factory=list, repr=False)

    def delay_summary(self) -> str:
        d = self.delays
        return (
            f"delay from due time p50 {percentile(d, 0.5):.1f} s, p95 {percentile(d, 0.95):.1f} s, "
            f"max {max(d, default=0.0):.1f} s"
        )


class Dispatcher:
    """One process's run: plan (in the background), claim, send, record, until done."""

    def __init__(
        self,
        transaction: Transaction,
        sender: AsyncPushSender,
        now: datetime,
        window: timedelta,
        options: DispatchOptions,
    ) -> None:
        self.transaction, self.sender, self.window, self.options = (
            transaction,
            sender,
            window,
            options,
        )
        self.start, self._t0 = now, time.monotonic()
        self.run = DispatchRun()
        self._done: list[Outcome] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._renewed = float("-inf")  # when the last renewal of our leases began

    def now(self) -> datetime:
        """The run's clock: the tick's instant plus the time since (the app's clock)."""
        return self.start + timedelta(seconds=time.monotonic() - self._t0)

    def _in_db(self, work: Callable[[Session], Any]) -> Any:
        with self.transaction() as session:
            return work(session)

    async def _send(
        self, claimed: Claimed, subscriptions: list[dict[str, Any]], claimed_at: float
    ) -> None:
        now = self.now()
        try:
            message = claimed.reminder().message(now, self.window)
        except Exception as error:  # claimed already: recorded as failed, the rest goes on
            jobs.skipped(
                reminders.REMINDER_JOB,
                f"child {claimed.child_id} (delivery {claimed.delivery_id})",
                error,
            )
            self._done.append(
                Outcome(
                    claimed.delivery_id,
                    "failed",
                    0,
                    None,
                    "the notification could not be built (see the log)",
                    [],
                )
            )
            return
        lease = self.options.lease_seconds * LEASE_SAFETY

        def still_ours() -> bool:
            return time.monotonic() < max(claimed_at, self._renewed) + lease

        if len(subscriptions) == 1:  # the common case: no task per device
            results = [await self.sender.send(subscriptions[0], message, still_ours)]
        else:
            results = await asyncio.gather(
                *(self.sender.send(s, message, still_ours) for s in subscriptions)
            )
        if any(r.error == ABANDONED for r in results):
            self.run.abandoned += 1  # another process takes the lease over and sends it
            return
        self.run.pushes += len(results)
        sent_at = self.now()
        outcome = outcome_of(claimed, list(results), sent_at, self.window)
        if outcome.status == "sent":
            self.run.delays.append((sent_at - claimed.due_at).total_seconds())
        self._done.append(outcome)

    async def _record(self) -> None:
        if not self._done:
            return
        batch, self._done = self._done, []
        now = self.now()
        owner = self.options.owner
        try:
            await asyncio.to_thread(self._in_db, lambda s: record(s, owner, batch, now))
        except BaseException:
            self._done[:0] = batch  # written by the next flush
            raise
        for outcome in batch:
            if outcome.status == "sent":
                self.run.sent += 1
            elif outcome.status == "no_device":
                self.run.no_device += 1
            elif outcome.status == "pending":
                self.run.deferred += 1
            else:
                self.run.failed += 1

    async def _recorder(self, stop: asyncio.Event) -> None:
        """Writes the outcomes every ``RECORD_EVERY_SECONDS`` until told to stop; a flush
        is never interrupted half-way."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):  # the interval passed: flush
                await asyncio.wait_for(stop.wait(), RECORD_EVERY_SECONDS)
            try:
                await self._record()
            except Exception:  # kept for the next flush
                log.exception("reminders: recording outcomes failed")

    async def _renewer(self, stop: asyncio.Event) -> None:
        """Extends the leases this process still holds, every quarter of a lease: only a
        process that stopped (killed, hung) lets its leases run out."""
        every = self.options.lease_seconds / 4
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            began, now = time.monotonic(), self.now()
            lease = timedelta(seconds=self.options.lease_seconds)
            owner = self.options.owner
            try:
                work = functools.partial(renew, owner=owner, now=now, lease=lease)
                await asyncio.to_thread(self._in_db, work)
            except Exception:  # the leases run on; sends stop when they are near the end
                log.exception("reminders: renewing leases failed")
            else:
                self._renewed = began

    def _claim(
        self, session: Session, limit: int
    ) -> tuple[list[Claimed], dict[int, list[dict[str, Any]]]]:
        lease = timedelta(seconds=self.options.lease_seconds)
        batch = claim_batch(session, self.options.owner, self.now(), self.window, lease, limit)
        subscriptions = push.subscriptions_by_user(session, {c.user_id for c in batch})
        return batch, subscriptions

    async def __call__(self) -> DispatchRun:
        options = self.options
        planner = None
        if options.plan:
            planner = asyncio.create_task(
                asyncio.to_thread(
                    plan, self.transaction, self.start, self.window, options.spread_seconds
                )
            )
        await asyncio.to_thread(self._in_db, lambda s: expire_stale(s, self.start, self.window))
        stop = asyncio.Event()
        recorder = asyncio.create_task(self._recorder(stop))
        renewer = asyncio.create_task(self._renewer(stop))
        try:
            await self._loop(planner)
            if planner is not None:
                self.run.due = await planner
        finally:
            for task in list(self._tasks):
                await asyncio.gather(task, return_exceptions=True)
            stop.set()
            await recorder
            await renewer
            await self._record()
        return self.run

    async def _loop(self, planner: asyncio.Task[int] | None) -> None:
        options = self.options
        horizon = timedelta(seconds=options.spread_seconds + 1)  # this run's jittered rows
        while True:
            active = len(self._tasks) - self.sender.waiting
            free = options.in_flight * 2 - active
            batch: list[Claimed] = []
            if free >= min(options.batch, options.in_flight):
                limit = min(options.batch, free)
                claimed_at = time.monotonic()  # before the lease starts in the database
                batch, subscriptions = await asyncio.to_thread(
                    self._in_db, lambda s, limit=limit: self._claim(s, limit)
                )
                for claimed in batch:
                    self.run.claimed += 1
                    self.run.taken_over += claimed.taken_over
                    task = asyncio.create_task(
                        self._send(claimed, subscriptions.get(claimed.user_id, []), claimed_at)
                    )
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            if batch:
                await asyncio.sleep(0)
                continue
            if self._tasks:
                await asyncio.wait(
                    set(self._tasks), timeout=0.05, return_when=asyncio.FIRST_COMPLETED
                )
                continue
            if planner is not None and not planner.done():
                await asyncio.sleep(0.05)
                continue
            pending, leased = await asyncio.to_thread(
                self._in_db,
                lambda s: still_open(s, options.owner, self.now(), self.window, horizon),
            )
            if not pending and not (options.linger and leased):
                return
            await asyncio.sleep(0.2)


async def dispatch(
    transaction: Transaction,
    sender: AsyncPushSender,
    now: datetime,
    window: timedelta,
    options: DispatchOptions,
) -> DispatchRun:
    async with sender:
        run = await Dispatcher(transaction, sender, now, window, options)()
    if run.claimed:
        log.info(
            "reminders: claimed %d (%d taken over), sent %d, failed %d, no device %d, "
            "deferred %d; %s",
            run.claimed,
            run.taken_over,
            run.sent,
            run.failed,
            run.no_device,
            run.deferred,
            run.delay_summary(),
        )
    return run

"""The herd dispatch (issue 26): schedulers in parallel, leases taken over, backpressure per
push service, the same Topic on a retry, jitter over the minute, the delay logged."""

import asyncio
import logging
import statistics
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from homeprogram.db import Database
from homeprogram.extensions import db
from homeprogram.models import ReminderDelivery
from homeprogram.services import push, reminder_dispatch, reminders
from homeprogram.services.push_async import AsyncPushSender
from homeprogram.services.reminder_dispatch import DispatchOptions
from homeprogram.services.vapid import load_keys
from tests.push_service import LocalPushService
from tests.skips import postgres_only
from tests.test_reminders import CONTACT, at, family

DUE = at("America/New_York", 2026, 6, 10, 17)


@pytest.fixture
def service():
    with LocalPushService() as running:
        yield running


@pytest.fixture
def keys(tmp_path):
    return load_keys(tmp_path / "vapid", {})


@pytest.fixture
def sender(keys):
    return push.PushSender(
        keys=keys,
        contact=CONTACT,
        sleep=lambda _s: None,
        policy=push.EndpointPolicy(allow_insecure=True),  # the local http push service
    )


def async_sender(keys, **kwargs):
    """A sender that really waits (Retry-After, backoff), as in production."""
    return AsyncPushSender(
        keys=keys, contact=CONTACT, policy=push.EndpointPolicy(allow_insecure=True), **kwargs
    )


def statuses(session):
    session.expire_all()
    return dict(
        session.execute(
            select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)
        ).all()
    )


def _dispatchers_in_parallel(app, session, factory, service, sender, database_url):
    devices = [family(factory, session, service)[3] for _ in range(60)]
    barrier = threading.Barrier(3)
    runs = []

    def scheduler() -> None:
        own = Database()  # a separate engine and pool, as in another process
        own.configure(database_url)
        try:
            with app.app_context():
                barrier.wait()
                options = DispatchOptions(batch=4, in_flight=4)  # many small claims interleave
                runs.append(
                    reminders.run_due_reminders(own.transaction, sender, DUE, options=options)
                )
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(runs) == 3
    assert sum(r.claimed for r in runs) == 60
    assert sum(r.sent for r in runs) == 60
    assert [len(service.received_by(d)) for d in devices] == [1] * 60
    assert statuses(session) == {"sent": 60}
    return runs


def test_dispatchers_in_parallel_send_each_reminder_once(
    app, session, factory, service, sender, database_url
):
    """Three schedulers claiming small batches at once: every device gets its reminder
    exactly once and every delivery row ends "sent"."""
    _dispatchers_in_parallel(app, session, factory, service, sender, database_url)


@pytest.mark.postgres
@postgres_only
def test_dispatchers_on_postgres_share_the_herd_and_send_each_once(
    app, session, factory, service, sender, database_url
):
    """On PostgreSQL (SKIP LOCKED claims, planning shared by range), three schedulers
    running at once never send one reminder twice and leave none."""
    assert database_url.startswith("postgresql")
    runs = _dispatchers_in_parallel(app, session, factory, service, sender, database_url)
    assert sum(r.due for r in runs) == 60  # planned once in all


def _claimed_by_a_dead_scheduler(app, session, factory, service, lease_seconds=30):
    child, _, _, device = family(factory, session, service)
    with app.app_context():
        reminder_dispatch.plan(db.transaction, DUE, reminders.CATCH_UP_WINDOW, 0)
        with db.transaction() as s:
            [claimed] = reminder_dispatch.claim_batch(
                s,
                "dead-host:1",
                DUE,
                reminders.CATCH_UP_WINDOW,
                timedelta(seconds=lease_seconds),
                10,
            )
    return child, device, claimed


def test_expired_lease_is_taken_over_with_the_same_topic(app, session, factory, service, sender):
    """A scheduler claimed a reminder and died before sending: nobody touches it while its
    lease runs; once the lease has run out another scheduler sends it, with the Topic the
    first one would have used."""
    child, device, claimed = _claimed_by_a_dead_scheduler(app, session, factory, service)
    with app.app_context():
        early = reminders.run_due_reminders(db.transaction, sender, DUE + timedelta(seconds=20))
        assert (early.claimed, service.received_by(device)) == (0, [])
        late = reminders.run_due_reminders(db.transaction, sender, DUE + timedelta(seconds=31))
    assert (late.claimed, late.taken_over, late.sent) == (1, 1, 1)
    [got] = service.received_by(device)
    assert got.topic == f"c{child.id}-20260610" == got.json["tag"]
    row = session.get(ReminderDelivery, claimed.delivery_id)
    session.refresh(row)
    assert (row.status, row.attempts, row.lease_owner != "dead-host:1") == ("sent", 2, True)


def test_lease_that_runs_out_after_the_ttl_is_not_sent(app, session, factory, service, sender):
    """A claimed reminder whose lease runs out only after its usefulness (the push TTL) is
    recorded as expired and never sent."""
    _, device, _ = _claimed_by_a_dead_scheduler(app, session, factory, service)
    after = DUE + reminders.CATCH_UP_WINDOW + timedelta(minutes=1)
    with app.app_context():
        run = reminders.run_due_reminders(db.transaction, sender, after)
    assert run.claimed == 0 and service.received_by(device) == []
    assert statuses(session) == {"expired": 1}


def test_retry_after_a_server_error_keeps_the_topic(app, session, factory, service, sender):
    """A 500 then a success: both requests carry the same Topic, so a push service that
    did keep the first replaces it instead of showing two."""
    child, _, _, device = family(factory, session, service)
    service.respond(device, (500, {}))
    with app.app_context():
        run = reminders.run_due_reminders(db.transaction, sender, DUE)
    assert run.sent == 1
    assert service.topics_tried(device) == [f"c{child.id}-20260610"] * 2
    assert len(service.received_by(device)) == 1


def test_429_with_retry_after_slows_only_that_push_service(app, session, factory, keys):
    """One push service answers 429 with Retry-After: 1: its reminders wait a second (and
    then arrive, once each), while the other service's reminders go out at once."""
    with LocalPushService() as busy, LocalPushService() as calm:
        slow = [family(factory, session, busy)[3] for _ in range(3)]
        fast = [family(factory, session, calm)[3] for _ in range(3)]
        for device in slow:
            busy.respond(device, (429, {"Retry-After": "1"}))
        began = time.monotonic()
        with app.app_context():
            run = reminders.run_due_reminders(db.transaction, async_sender(keys), DUE)
        assert run.sent == 6
        slow_at = [r.at - began for d in slow for r in busy.received_by(d)]
        fast_at = [r.at - began for d in fast for r in calm.received_by(d)]
    assert len(slow_at) == 3 and len(fast_at) == 3
    assert max(fast_at) < 1.0 <= min(slow_at)
    assert statuses(session) == {"sent": 6}


def test_a_paused_service_holds_no_sending_slot(keys):
    """With one slot in flight, sends to a service paused for a while do not hold up a send
    to another service: the pause waits without a slot."""
    with LocalPushService() as busy, LocalPushService() as calm:
        paused, free = busy.device(), calm.device()
        message = push.PushMessage(title="t", body="b", url="/", ttl=60, topic="c1-20260610")

        async def scenario() -> tuple[float, float]:
            async with async_sender(keys, in_flight=1) as sender:
                sender.gate.pause(busy.base_url, 1.5)
                began = time.monotonic()
                first = asyncio.create_task(sender.send(paused.subscription(), message))
                await asyncio.sleep(0.05)
                assert (await sender.send(free.subscription(), message)).ok
                other = time.monotonic() - began
                assert (await first).ok
                return other, time.monotonic() - began

        other, waited = reminders.run_to_end(scenario())
    assert other < 1.0 <= waited


def test_one_slot_is_spread_over_the_minute_and_the_delay_logged(
    app, session, factory, service, sender, caplog
):
    """Thirty reminders of one slot with a 2-second spread go out over those seconds, not in
    one burst, each at or after its own jittered time; the run logs its p95 delay. Every
    push to one service carries the same VAPID token (signed once per audience)."""
    devices = [family(factory, session, service)[3] for _ in range(30)]
    began = time.monotonic()
    caplog.set_level(logging.INFO, logger="homeprogram.services.reminder_dispatch")
    with app.app_context():
        run = reminders.run_due_reminders(
            db.transaction, sender, DUE, options=DispatchOptions(spread_seconds=2)
        )
    assert run.sent == 30
    offsets = [
        (row.not_before - row.due_at).total_seconds()
        for row in session.scalars(select(ReminderDelivery))
    ]
    assert all(0 <= o < 2 for o in offsets) and statistics.pstdev(offsets) > 0.3
    received = [r for d in devices for r in service.received_by(d)]
    times = sorted(r.at - began for r in received)
    assert times[-1] - times[0] >= 1.0  # spread, not one burst
    assert len({r.headers["authorization"] for r in received}) == 1
    [line] = [r.getMessage() for r in caplog.records if "p95" in r.getMessage()]
    assert "claimed 30" in line and "sent 30" in line


def test_async_sender_refuses_a_name_on_a_private_address(keys, service):
    """Outside the test policy, a push service name that resolves to a loopback address is
    refused before connecting, as by the threaded sender."""
    device = service.device()
    port = service.base_url.rsplit(":", 1)[1]
    subscription = {**device.subscription(), "endpoint": f"https://localhost:{port}{device.path}"}
    message = push.PushMessage(title="t", body="b", url="/", ttl=60)

    async def scenario() -> push.SendResult:
        policy = push.EndpointPolicy(allowed_hosts=("localhost",))
        async with AsyncPushSender(keys=keys, contact=CONTACT, policy=policy) as sender:
            return await sender.send(subscription, message)

    result = reminders.run_to_end(scenario())
    assert (result.ok, result.error) == (False, "refused")
    assert service.attempts(device) == 0


def test_plan_skips_a_range_planned_this_minute(app, session, factory, service):
    """A second planner in the same minute writes nothing: the range is marked planned."""
    family(factory, session, service)
    with app.app_context():
        first = reminder_dispatch.plan(db.transaction, DUE, reminders.CATCH_UP_WINDOW, 0)
        again = reminder_dispatch.plan(
            db.transaction, DUE + timedelta(seconds=30), reminders.CATCH_UP_WINDOW, 0
        )
    assert (first, again) == (1, 0)
    assert statuses(session) == {"pending": 1}


def test_jitter_is_never_negative_for_a_caught_up_reminder(app, session, factory, service):
    """A reminder planned late (after downtime) waits from the planning time, not from its
    due time: its jittered time is never before the moment it was planned."""
    family(factory, session, service)
    later = DUE + timedelta(minutes=30)
    with app.app_context():
        reminder_dispatch.plan(db.transaction, later, reminders.CATCH_UP_WINDOW, 10)
    row = session.scalar(select(ReminderDelivery))
    assert later <= row.not_before < later + timedelta(seconds=10)
    assert row.due_at.date() == date(2026, 6, 10)


def test_a_long_retry_after_puts_the_reminder_back_until_then(
    app, session, factory, service, sender
):
    """A push service that says "come back in two minutes" (longer than a send waits) gets
    the reminder again after those two minutes, with the same Topic, not before; the
    reminder is not given up as failed."""
    child, _, _, device = family(factory, session, service)
    service.respond(device, (429, {"Retry-After": "120"}))
    with app.app_context():
        first = reminders.run_due_reminders(db.transaction, sender, DUE)
        row = session.scalar(select(ReminderDelivery))
        assert (first.deferred, row.status, service.received_by(device)) == (1, "pending", [])
        assert DUE + timedelta(seconds=119) < row.not_before < DUE + timedelta(seconds=125)
        early = reminders.run_due_reminders(db.transaction, sender, DUE + timedelta(seconds=60))
        late = reminders.run_due_reminders(db.transaction, sender, DUE + timedelta(seconds=130))
    assert (early.claimed, late.sent) == (0, 1)
    assert service.topics_tried(device) == [f"c{child.id}-20260610"] * 2
    assert statuses(session) == {"sent": 1}


def test_a_slow_scheduler_keeps_its_lease_and_nobody_sends_twice(
    app, session, factory, service, keys, database_url
):
    """A scheduler still alive but slow (its push service said "retry in 2 s", longer than
    its 1-second lease) renews the lease while it waits: a second scheduler arriving
    meanwhile takes nothing over, and the reminder is sent once."""
    _, _, _, device = family(factory, session, service)
    service.respond(device, (503, {"Retry-After": "2"}))
    options = DispatchOptions(lease_seconds=1)
    runs = []

    def slow() -> None:
        with app.app_context():
            runs.append(
                reminders.run_due_reminders(
                    db.transaction, async_sender(keys), DUE, options=options
                )
            )

    first = threading.Thread(target=slow)
    first.start()
    time.sleep(1.5)
    own = Database()  # another process
    own.configure(database_url)
    try:
        with app.app_context():
            second = reminders.run_due_reminders(
                own.transaction, async_sender(keys), DUE + timedelta(seconds=1.5), options=options
            )
    finally:
        own.engine.dispose()
    first.join(30)
    assert second.claimed == 0
    assert [(r.claimed, r.sent) for r in runs] == [(1, 1)]
    assert (service.attempts(device), len(service.received_by(device))) == (2, 1)

"""Claims: the unique key, not the order of the schedulers, is what sends a reminder once.

On SQLite ``BEGIN IMMEDIATE`` makes two schedulers take turns, and the second one's
selection already sees the first one's claims. These tests give both the same due list,
read before either claimed, so only the unique key on ``reminder_delivery`` can stop the
second: drop it (or the ``ON CONFLICT`` that relies on it) and they fail.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from homeprogram.extensions import db
from homeprogram.models import PushSubscription, ReminderDelivery
from homeprogram.services import reminders
from tests.world import P256DH

# 17:02 on a Wednesday in New York: the default 17:00 reminder is due.
NOW = datetime(2026, 6, 10, 17, 2, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def _families(factory, session, count: int) -> None:
    """``count`` children in New York, each with a caregiver who has a device and a plan."""
    org = factory.org()
    for n in range(count):
        child = factory.child(org, name=f"Child {n}", timezone="America/New_York")
        parent = factory.caregiver(child, email=f"parent{n}@example.org")
        factory.assignment(child, start_date=date(2026, 1, 1))
        session.add(reminders.default_plan(parent.id, child.id))
        session.add(
            PushSubscription(
                user_id=parent.id,
                endpoint=f"https://push.invalid/{n}",
                p256dh=P256DH,
                auth="MDEyMzQ1Njc4OWFiY2RlZg",
                device_name="Phone",
            )
        )
    session.commit()


def _due_list(app) -> list[reminders.DueReminder]:
    """What one scheduler selects: read in a session of its own, nothing claimed yet."""
    with app.app_context(), db.transaction() as own:
        return reminders.find_due(own, NOW)


def _claim(app, due: list[reminders.DueReminder]) -> dict[int, reminders.DueReminder]:
    """One scheduler's claim, committed in a transaction of its own."""
    with app.app_context(), db.transaction() as own:
        return reminders.claim_due(own, due, NOW)


def _deliveries(session) -> list[tuple[int, int, date, str]]:
    rows = session.execute(
        select(
            ReminderDelivery.user_id,
            ReminderDelivery.child_id,
            ReminderDelivery.local_date,
            ReminderDelivery.slot,
        )
    )
    return sorted(tuple(row) for row in rows)


def test_second_scheduler_with_the_same_due_list_claims_nothing(app, factory, session):
    """Two schedulers that both selected before either claimed: the first claims every
    reminder, the second claims none, and each reminder has one delivery row."""
    _families(factory, session, 3)
    first, second = _due_list(app), _due_list(app)
    assert len(first) == 3
    assert [d.key for d in second] == [d.key for d in first]

    won_first = _claim(app, first)
    won_second = _claim(app, second)

    assert sorted(d.key for d in won_first.values()) == sorted(d.key for d in first)
    assert won_second == {}
    assert _deliveries(session) == sorted(d.key for d in first)


def test_a_claim_returns_only_the_reminders_this_scheduler_inserted(app, factory, session):
    """When the first scheduler claimed some of the list, the second wins exactly the
    rest, each under the id of the row it inserted."""
    _families(factory, session, 3)
    due = _due_list(app)
    assert len(due) == 3

    won_first = _claim(app, due[:2])
    won_second = _claim(app, due)

    assert [d.key for d in won_second.values()] == [due[2].key]
    assert set(won_first).isdisjoint(won_second)
    ids = dict(
        session.execute(
            select(ReminderDelivery.id, ReminderDelivery.user_id).where(
                ReminderDelivery.id.in_([*won_first, *won_second])
            )
        ).all()
    )
    assert {i: d.user_id for i, d in {**won_first, **won_second}.items()} == ids
    assert session.scalar(select(func.count()).select_from(ReminderDelivery)) == 3

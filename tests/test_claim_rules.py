"""Claims swallow one collision only, the one on their key; anything else is said out loud.

``claims.claim`` treats a unique violation on the claim's key as "someone else has it".
Any other collision means the row was not stored for another reason, and passing it off
as taken would drop it silently. (Found by mutation testing: ``make mutation``.)
"""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_mock_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from homeprogram.extensions import db
from homeprogram.models import ReminderDelivery
from homeprogram.services import claims
from homeprogram.services.reminders import DELIVERY_KEY

DUE = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)


def _delivery(user_id: int, child_id: int, slot: str) -> dict:
    return {
        "user_id": user_id,
        "child_id": child_id,
        "local_date": date(2026, 11, 25),
        "slot": slot,
        "due_at": DUE,
    }


def test_a_collision_on_another_unique_column_fails_instead_of_passing_as_taken(
    app, factory, session
):
    """A row that collides on a unique column outside the claim's key (here the primary
    key) raises, and nothing is written: it is not answered like a reminder already
    claimed by another scheduler."""
    child = factory.child(factory.org())
    parent = factory.caregiver(child)
    with app.app_context(), db.transaction() as own:
        [(first_id, *_)] = claims.claim(
            own, ReminderDelivery, [_delivery(parent.id, child.id, "17:00")], DELIVERY_KEY
        )

    clash = {**_delivery(parent.id, child.id, "18:00"), "id": first_id}
    with pytest.raises(IntegrityError), app.app_context(), db.transaction() as own:
        claims.claim(own, ReminderDelivery, [clash], DELIVERY_KEY)

    slots = session.scalars(select(ReminderDelivery.slot)).all()
    assert slots == ["17:00"]


def test_claiming_on_an_unsupported_database_names_it_and_runs_nothing():
    """On a database other than PostgreSQL or SQLite a claim stops with an error that
    names the database, before any statement is sent."""
    sent: list[object] = []
    engine = create_mock_engine("mysql://", lambda statement, *a, **kw: sent.append(statement))
    with pytest.raises(RuntimeError, match="mysql"):
        claims.claim(
            Session(bind=engine),
            ReminderDelivery,
            [_delivery(1, 1, "17:00")],
            DELIVERY_KEY,
        )
    assert sent == []

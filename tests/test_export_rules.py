"""CSV exports, cell by cell: every column of every row, the first and last day included,
the order, numbers left as numbers, formulas defused, and what the audit trail keeps.
(Holes found by ``make mutation``.)"""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from homeprogram.extensions import db
from homeprogram.models import AuditEvent, Goal, GoalMeasurement
from homeprogram.services import exports
from homeprogram.services.audit import Actor
from tests.adherence_helpers import log

DAY = timedelta(days=1)
START, END = date(2026, 11, 2), date(2026, 11, 20)
IP = "192.0.2.10"


@pytest.fixture
def team(factory):
    org = factory.org()
    therapist = factory.therapist(org, name="Olga OT")
    child = factory.child(org, therapist=therapist, name="Leo", timezone="UTC")
    parent = factory.caregiver(child, name="Pat")
    return org, therapist, child, parent


def _export(app, kind: str, actor: Actor, child_id: int) -> list[list[str]]:
    with app.app_context(), db.transaction() as s:
        text = getattr(exports, f"{kind}_csv")(s, actor, child_id, START, END)
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (3.0, "3"),
        (-2.5, "-2.5"),
        (-4, "-4"),
        (7, "7"),
        ("plain", "plain"),
        ("-2+3", "'-2+3"),
        ("\rcarriage", "'\rcarriage"),
        ("a=b", "a=b"),
    ],
)
def test_a_cell_is_a_number_or_defused_text(value, cell):
    """Numbers (negative ones too) are written as numbers; text that a spreadsheet would
    run as a formula gets a leading quote, other text is left alone."""
    assert exports.safe_cell(value) == cell


def test_log_export_has_every_column_the_range_inclusive_in_time_order(app, factory, session, team):
    """One row per kept log from the first to the last day of the range (days outside it
    and undone logs left out), in the order they happened, each column filled; the
    measure's name and unit only beside a value."""
    org, therapist, child, parent = team
    shoes = factory.assignment(
        child,
        factory.activity(title="Shoe tying"),
        start_date=START - 10 * DAY,
        measure_name="seconds to put on shoes",
        measure_unit="s",
    )
    putty = factory.assignment(child, factory.activity(title="Putty"), start_date=START)
    log(session, factory.assignment(factory.child(org), start_date=START), START, note="Mia's")
    log(session, shoes, START - DAY, note="before the range")
    log(session, shoes, END + DAY, note="after the range")
    log(session, shoes, START + DAY, note="undone", deleted=True)
    last = log(session, putty, END, at=time(8, 5), response="easy", by=parent.id)
    last.minutes = 10
    session.commit()
    first = log(session, shoes, START, at=time(18, 30), measure=42.5, note="=1+1", by=parent.id)
    earlier_same_day = log(session, putty, START, at=time(7, 0), by=therapist.id)
    log(session, shoes, END, at=time(7, 0), note="no value, no unit")

    rows = _export(app, "logs", Actor(therapist.id, IP), child.id)

    assert rows == [
        exports.LOG_HEADER,
        ["2026-11-02", "2026-11-02T07:00:00Z", "Putty", str(putty.id), "Olga OT", *[""] * 6],
        [
            *("2026-11-02", "2026-11-02T18:30:00Z", "Shoe tying", str(shoes.id), "Pat", "", ""),
            *("seconds to put on shoes", "42.5", "s", "'=1+1"),
        ],
        [
            *("2026-11-20", "2026-11-20T07:00:00Z", "Shoe tying", str(shoes.id), "", "", ""),
            *("", "", "", "no value, no unit"),
        ],
        [
            *("2026-11-20", "2026-11-20T08:05:00Z", "Putty", str(putty.id), "Pat", "10", "easy"),
            *[""] * 4,
        ],
    ]
    assert (first.occurred_at, earlier_same_day.occurred_at) == (
        datetime(2026, 11, 2, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
    )


def test_log_rows_follow_the_child_s_days_even_across_a_time_zone_change(
    app, factory, session, team
):
    """A family that moved from Auckland to UTC: each row sits on the local day it was
    logged, in day order, although the later day's log happened earlier in UTC."""
    _, therapist, child, _ = team
    a = factory.assignment(child, factory.activity(title="Putty"), start_date=START)
    log(session, a, START + DAY, at=time(8, 0), timezone="Pacific/Auckland", note="Auckland")
    log(session, a, START, at=time(22, 0), note="home")  # 22:00 UTC, after Auckland's 8:00
    rows = _export(app, "logs", Actor(therapist.id, IP), child.id)
    assert [(row[0], row[-1]) for row in rows[1:]] == [
        ("2026-11-02", "home"),
        ("2026-11-03", "Auckland"),
    ]


def test_logs_of_one_instant_keep_the_order_they_were_written(app, factory, session, team):
    """Two logs at the same minute come out in the order they were stored."""
    _, therapist, child, _ = team
    a = factory.assignment(child, factory.activity(title="Putty"), start_date=START)
    notes = ["first", "second", "third"]
    for note in notes:
        log(session, a, START + DAY, note=note)
    rows = _export(app, "logs", Actor(therapist.id, IP), child.id)
    assert [row[-1] for row in rows[1:]] == notes


def test_measurement_export_has_every_column_the_range_inclusive_in_order(
    app, factory, session, team
):
    """One row per measurement from the first to the last day, by day, goal and entry,
    with who measured it; other children's goals are not in it."""
    org, therapist, child, parent = team
    other_child = factory.child(org, name="Mia")
    goals = []
    for n, (statement, kid) in enumerate(
        (("Buttons", child), ("Zips", child), ("Hers", other_child))
    ):
        goal = Goal(
            child_id=kid.id,
            statement=statement,
            measure=f"m{n}",
            unit=f"u{n}",
            baseline=0,
            target=5,
        )
        session.add(goal)
        session.commit()
        goals.append(goal)
    buttons, zips, hers = goals

    def measure(goal, day, value, by=None, note=""):
        session.add(
            GoalMeasurement(goal_id=goal.id, value=value, measured_on=day, by_id=by, note=note)
        )
        session.commit()

    measure(zips, START, 3, by=parent.id, note="at home")
    measure(buttons, END, 4.5)
    # Two of one goal and day, the second stored first (under a higher id): by id.
    session.add(GoalMeasurement(id=9002, goal_id=buttons.id, value=2, measured_on=START))
    session.commit()
    session.add(
        GoalMeasurement(id=9001, goal_id=buttons.id, value=1, measured_on=START, by_id=therapist.id)
    )
    session.commit()
    measure(buttons, START - DAY, 9)
    measure(buttons, END + DAY, 9)
    measure(hers, START, 9)

    rows = _export(app, "measurements", Actor(therapist.id, IP), child.id)

    assert rows == [
        exports.MEASUREMENT_HEADER,
        ["2026-11-02", "Buttons", "m0", "1", "u0", "Olga OT", ""],
        ["2026-11-02", "Buttons", "m0", "2", "u0", "", ""],
        ["2026-11-02", "Zips", "m1", "3", "u1", "Pat", "at home"],
        ["2026-11-20", "Buttons", "m0", "4.5", "u0", "", ""],
    ]


@pytest.mark.parametrize(("kind", "rows"), [("logs", 1), ("goal_measurements", 0)])
def test_every_export_is_audited_with_who_what_and_which_days(
    app, factory, session, team, kind, rows
):
    """The audit event names who exported which child's what, from where, for which days,
    and how many rows left."""
    _, therapist, child, _ = team
    log(session, factory.assignment(child, start_date=START), START)
    _export(app, "logs" if kind == "logs" else "measurements", Actor(therapist.id, IP), child.id)
    events = session.execute(
        select(AuditEvent.actor_id, AuditEvent.child_id, AuditEvent.ip, AuditEvent.detail).where(
            AuditEvent.action == "export.csv"
        )
    ).all()
    assert events == [
        (
            therapist.id,
            child.id,
            IP,
            {"kind": kind, "start": "2026-11-02", "end": "2026-11-20", "rows": rows},
        )
    ]

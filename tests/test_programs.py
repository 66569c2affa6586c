"""Home programs: prescribing, versioning, pause/resume/end, load estimate, notes, handout."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from homeprogram.models import (
    Assignment,
    AssignmentPause,
    AuditEvent,
    CompletionLog,
)
from homeprogram.models.base import utcnow
from homeprogram.services import programs, schedule
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed
from tests.db_state import contents

DAY = date(2026, 3, 2)  # a Monday


def _rx(**kw):
    values = {
        "dose_unit": "reps",
        "dose_amount": 10,
        "minutes_per_session": 5,
        "days_of_week": [0, 1, 2, 3, 4],
        "times_per_day": 1,
        "start_date": DAY,
    }
    values.update(kw)
    return programs.Prescription(**values)


@pytest.fixture
def setup(factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Ada")
    activity = factory.activity(
        title="Button practice",
        steps=["Sit side by side.", "Push the button through the hole."],
        materials=["an old shirt with big buttons"],
        default_dose="10 reps",
        default_minutes=6,
    )
    return {"org": org, "therapist": therapist, "child": child, "activity": activity}


def _actor(setup):
    return Actor(setup["therapist"].id, "127.0.0.1", setup["org"].id)


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _log(session, assignment, day):
    import uuid

    session.add(
        CompletionLog(
            client_id=str(uuid.uuid4()),
            assignment_id=assignment.id,
            child_id=assignment.child_id,
            occurred_at=utcnow(),
            local_date=day,
        )
    )
    session.commit()


def _local_today(child):
    return schedule.local_date(utcnow(), child.timezone)


# Versioning ------------------------------------------------------------------------------


def test_dose_change_keeps_the_old_version_unchanged(session, setup):
    """Changing the dose ends the old assignment the day before and leaves its values alone."""
    child, actor = setup["child"], _actor(setup)
    old = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    session.commit()
    before = {c.name: getattr(old, c.name) for c in Assignment.__table__.columns}
    change_day = DAY + timedelta(days=7)
    new = programs.change_assignment(
        session, actor, old, _rx(dose_amount=15), effective=change_day, today=change_day
    )
    session.commit()
    session.expire_all()
    old = session.get(Assignment, old.id)
    after = {c.name: getattr(old, c.name) for c in Assignment.__table__.columns}
    assert after.pop("end_date") == change_day - timedelta(days=1)
    before.pop("end_date")
    assert after == before  # every other column of the history row is untouched
    assert new.previous_id == old.id and new.start_date == change_day
    assert (old.dose_amount, new.dose_amount) == (10, 15)


def test_prescription_in_force_per_day_follows_the_versions(session, setup):
    """Past days keep the old dose and schedule; days from the change use the new one."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    change_day = DAY + timedelta(days=7)
    programs.change_assignment(
        session,
        actor,
        a,
        _rx(dose_amount=15, days_of_week=[0, 2], times_per_day=2),
        effective=change_day,
        today=change_day,
    )
    session.commit()
    before = programs.in_force_on(session, child.id, DAY + timedelta(days=1))  # Tuesday
    assert [
        (x.dose_amount, schedule.expected_sessions(x, DAY + timedelta(days=1))) for x in before
    ] == [(10, 1)]
    tuesday_after = change_day + timedelta(days=1)
    after = programs.in_force_on(session, child.id, tuesday_after)
    assert [x.dose_amount for x in after] == [15]
    assert schedule.expected_sessions(after[0], tuesday_after) == 0  # Tuesdays were dropped
    assert schedule.expected_sessions(after[0], change_day) == 2


def test_note_anchor_and_measure_change_in_place(session, setup):
    """Editing only the caregiver note, anchor or measure updates the row without a new version."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    later = DAY + timedelta(days=3)
    same = programs.change_assignment(
        session,
        actor,
        a,
        _rx(caregiver_note="Praise each button.", anchor="bedtime", measure_name="buttons"),
        effective=later,
        today=later,
    )
    session.commit()
    assert same.id == a.id and a.end_date is None
    assert (a.caregiver_note, a.anchor, a.measure_name) == (
        "Praise each button.",
        "bedtime",
        "buttons",
    )
    assert _count(session, Assignment) == 1


def test_change_before_first_day_rewrites_in_place(session, setup):
    """An assignment that has not started yet is simply corrected."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(
        session,
        actor,
        child,
        setup["activity"].id,
        _rx(start_date=DAY + timedelta(days=5)),
        today=DAY,
    )
    same = programs.change_assignment(
        session, actor, a, _rx(dose_amount=20), effective=DAY, today=DAY
    )
    session.commit()
    assert same.id == a.id and a.dose_amount == 20 and a.start_date == DAY + timedelta(days=5)
    assert _count(session, Assignment) == 1


def test_logs_from_the_change_day_move_to_the_new_version(session, setup):
    """A session logged on the day of a change counts for the version in force that day."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    session.commit()
    change_day = DAY + timedelta(days=2)
    _log(session, a, DAY)
    _log(session, a, change_day)
    new = programs.change_assignment(
        session, actor, a, _rx(dose_amount=12), effective=change_day, today=change_day
    )
    session.commit()
    rows = session.execute(select(CompletionLog.local_date, CompletionLog.assignment_id)).all()
    assert sorted(rows) == [(DAY, a.id), (change_day, new.id)]


def test_change_cannot_take_effect_after_the_end(session, setup):
    """A change dated after the last day would stretch the old version: refused."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(
        session,
        actor,
        child,
        setup["activity"].id,
        _rx(end_date=DAY + timedelta(days=3)),
        today=DAY,
    )
    with pytest.raises(ValidationFailed) as failed:
        programs.change_assignment(
            session, actor, a, _rx(dose_amount=12), effective=DAY + timedelta(days=5), today=DAY
        )
    assert "effective_date" in failed.value.errors
    assert a.end_date == DAY + timedelta(days=3)


def test_only_the_newest_version_can_be_changed(session, setup):
    """An earlier version answers with a message instead of forking the history."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    day = DAY + timedelta(days=1)
    programs.change_assignment(session, actor, a, _rx(dose_amount=12), effective=day, today=day)
    session.commit()
    with pytest.raises(ValidationFailed):
        programs.change_assignment(session, actor, a, _rx(dose_amount=14), effective=day, today=day)


def test_history_reads_as_changes(session, setup):
    """The history of an activity says when it changed and what it was before."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    day = DAY + timedelta(days=4)
    programs.change_assignment(session, actor, a, _rx(dose_amount=15), effective=day, today=day)
    session.commit()
    item = programs.program(session, child.id, day).current[0]
    entries = programs.history(item)
    assert [e.kind for e in entries] == ["changed", "started"]
    assert entries[0].changes == ["dose"] and entries[0].day == day


def test_change_page_shows_history_and_keeps_old_row(client, login, session, setup):
    """Through the editor: a dose change shows "was 10 repetitions, now 15" on the child page."""
    child = setup["child"]
    today = _local_today(child)
    a = programs.create_assignment(
        session, _actor(setup), child, setup["activity"].id, _rx(start_date=today), today=today
    )
    session.commit()
    # started a week ago, so the change makes a new version
    session.execute(
        Assignment.__table__.update()
        .where(Assignment.id == a.id)
        .values(start_date=today - timedelta(days=7))
    )
    session.commit()
    login("ot@example.org")
    form = {
        "dose_unit": "reps",
        "dose_amount": "15",
        "minutes_per_session": "5",
        "days_of_week": ["0", "1", "2", "3", "4"],
        "times_per_day": "1",
        "setting": "home",
        "anchor": "morning",
        "effective_date": today.isoformat(),
        "measure_direction": "higher",
    }
    response = client.post(f"/children/{child.id}/program/{a.id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    old = session.get(Assignment, a.id)
    assert old.dose_amount == 10 and old.end_date == today - timedelta(days=1)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "was 10 repetitions, now 15 repetitions" in page
    assert _count(session, AuditEvent, AuditEvent.action == "assignment.changed") == 1


# Pause, resume, end ----------------------------------------------------------------------


def test_pause_and_resume(session, setup):
    """A pause expects nothing from its first day; resuming closes it the day before."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    pause_day = DAY + timedelta(days=1)
    programs.pause_assignment(session, actor, a, from_day=pause_day, today=pause_day)
    session.commit()
    assert schedule.expected_sessions(a, DAY) == 1
    assert schedule.expected_sessions(a, pause_day) == 0
    with pytest.raises(ValidationFailed):
        programs.pause_assignment(session, actor, a, from_day=pause_day, today=pause_day)
    resume_day = DAY + timedelta(days=3)
    programs.resume_assignment(session, actor, a, on=resume_day, today=resume_day)
    session.commit()
    (pause,) = session.scalars(select(AssignmentPause)).all()
    assert (pause.start_date, pause.end_date) == (pause_day, resume_day - timedelta(days=1))
    assert schedule.expected_sessions(a, resume_day) == 1
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["assignment.created", "assignment.paused", "assignment.resumed"]


def test_pause_carries_over_a_change(session, setup):
    """A change while paused keeps the new version paused, and history shows one pause."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    programs.pause_assignment(session, actor, a, from_day=DAY + timedelta(days=1), today=DAY)
    change_day = DAY + timedelta(days=3)
    new = programs.change_assignment(
        session, actor, a, _rx(dose_amount=12), effective=change_day, today=change_day
    )
    session.commit()
    assert schedule.is_paused(new, change_day)
    item = programs.program(session, child.id, change_day).current[0]
    assert item.paused
    assert [e.kind for e in programs.history(item)].count("paused") == 1


def test_end_sets_the_last_day(session, setup):
    """Ending keeps the last day in force; an activity not started yet is removed."""
    child, actor = setup["child"], _actor(setup)
    a = programs.create_assignment(session, actor, child, setup["activity"].id, _rx(), today=DAY)
    future = programs.create_assignment(
        session,
        actor,
        child,
        setup["activity"].id,
        _rx(start_date=DAY + timedelta(days=10)),
        today=DAY,
    )
    session.commit()
    end_day = DAY + timedelta(days=4)
    programs.end_assignment(session, actor, a, last_day=end_day, today=end_day)
    assert programs.end_assignment(session, actor, future, last_day=end_day, today=end_day) is None
    session.commit()
    assert a.end_date == end_day
    assert schedule.expected_sessions(a, end_day) == 1
    assert schedule.expected_sessions(a, end_day + timedelta(days=3)) == 0
    assert _count(session, Assignment) == 1
    program = programs.program(session, child.id, end_day + timedelta(days=1))
    assert program.current == [] and len(program.ended) == 1


def test_pause_resume_end_through_the_page(client, login, session, setup):
    """The buttons on the child page pause, resume and end an activity."""
    child = setup["child"]
    today = _local_today(child)
    a = programs.create_assignment(
        session, _actor(setup), child, setup["activity"].id, _rx(start_date=today), today=today
    )
    session.commit()
    login("ot@example.org")
    base = f"/children/{child.id}/program/{a.id}"
    assert client.post(f"{base}/pause").status_code == 302
    assert "paused" in client.get(f"/children/{child.id}").get_data(as_text=True)
    before = contents(session)
    assert client.post(f"{base}/pause").status_code == 400  # already paused
    assert contents(session) == before
    assert client.post(f"{base}/resume").status_code == 302
    assert _count(session, AssignmentPause) == 0  # paused and resumed the same day: no day paused
    assert client.post(f"{base}/end", data={"day": today.isoformat()}).status_code == 302
    session.expire_all()
    assert session.get(Assignment, a.id).end_date == today
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action != "child.viewed")  # opening the page is audited too
        .order_by(AuditEvent.id)
    ).all()
    assert actions[-3:] == ["assignment.paused", "assignment.resumed", "assignment.ended"]


# Adding through the page, bad input -------------------------------------------------------


def _add_form(activity_id, today, **kw):
    form = {
        "activity_id": str(activity_id),
        "dose_unit": "reps",
        "dose_amount": "10",
        "minutes_per_session": "5",
        "days_of_week": ["0", "2", "4"],
        "times_per_day": "1",
        "start_date": today.isoformat(),
        "setting": "home",
        "anchor": "other",
        "anchor_other": "after brushing teeth",
        "caregiver_note": "Let her choose the shirt.",
        "measure_name": "buttons done",
        "measure_unit": "buttons",
        "measure_direction": "higher",
    }
    form.update(kw)
    return form


def test_add_activity_from_the_picker(client, login, session, setup):
    """The picker finds the activity, its form is prefilled, and adding it lands on the program."""
    child, activity = setup["child"], setup["activity"]
    today = _local_today(child)
    login("ot@example.org")
    results = client.get(
        f"/children/{child.id}/program/picker?q=button", headers={"HX-Request": "true"}
    )
    html = results.get_data(as_text=True)
    assert "Button practice" in html and "<html" not in html
    assert "HX-Request" in results.headers["Vary"]
    full = client.get(f"/children/{child.id}/program/picker?q=button").get_data(as_text=True)
    assert "<html" in full and "Button practice" in full  # works without JavaScript too
    form = client.get(
        f"/children/{child.id}/program/add?activity_id={activity.id}",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'value="6"' in form  # minutes per session from the activity's default
    assert 'value="10"' in form  # "10 reps" parsed into the dose
    response = client.post(f"/children/{child.id}/program", data=_add_form(activity.id, today))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/children/{child.id}#program")
    (a,) = session.scalars(select(Assignment)).all()
    assert (a.days_of_week, a.anchor, a.measure_unit, a.created_by_id) == (
        [0, 2, 4],
        "after brushing teeth",
        "buttons",
        setup["therapist"].id,
    )
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "after brushing teeth" in page and "Let her choose the shirt." in page
    assert _count(session, AuditEvent, AuditEvent.action == "assignment.created") == 1


BAD_INPUT = [
    ({"dose_amount": "-3"}, "dose_amount", "from 1 to 500"),
    ({"dose_amount": "0"}, "dose_amount", "from 1 to 500"),
    ({"dose_amount": "100000000"}, "dose_amount", "from 1 to 500"),
    ({"dose_unit": "minutes", "dose_amount": "600"}, "dose_amount", "from 1 to 120"),
    ({"dose_unit": "text", "dose_text": ""}, "dose_text", "Describe the dose"),
    ({"minutes_per_session": "0"}, "minutes_per_session", "from 1 to 120"),
    ({"days_of_week": []}, "days_of_week", "Choose at least one day."),
    ({"days_of_week": ["9"]}, "days_of_week", "Monday to Sunday"),
    ({"times_per_day": "0"}, "times_per_day", "from 1 to 10"),
    ({"times_per_day": "11"}, "times_per_day", "from 1 to 10"),
    ({"end_date": "START-1"}, "end_date", "on or after the start date"),
    ({"start_date": "PAST"}, "start_date", "past days cannot be planned"),
    ({"measure_name": "", "measure_unit": "s"}, "measure_name", "Name the measure"),
    ({"setting": "garden"}, "setting", "Not a valid choice"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_field_message(
    client, login, session, setup, change, field, message
):
    """Bad doses, schedules and dates answer 400 with the message by the field; nothing saved."""
    child = setup["child"]
    today = _local_today(child)
    login("ot@example.org")
    change = dict(change)
    if change.get("end_date") == "START-1":
        change["end_date"] = (today - timedelta(days=1)).isoformat()
    if change.get("start_date") == "PAST":
        change["start_date"] = (today - timedelta(days=3)).isoformat()
    before = contents(session)
    response = client.post(
        f"/children/{child.id}/program", data=_add_form(setup["activity"].id, today, **change)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html or (field == "days_of_week" and 'id="days-error"' in html)
    assert contents(session) == before


def test_bad_change_is_refused_and_history_untouched(client, login, session, setup):
    """A change with no days saves nothing: the version in force keeps every value."""
    child = setup["child"]
    today = _local_today(child)
    a = programs.create_assignment(
        session, _actor(setup), child, setup["activity"].id, _rx(start_date=today), today=today
    )
    session.commit()
    login("ot@example.org")
    before = contents(session)
    form = _add_form(a.activity_id, today, days_of_week=[], effective_date=today.isoformat())
    response = client.post(f"/children/{child.id}/program/{a.id}/edit", data=form)
    assert response.status_code == 400
    assert "Choose at least one day." in response.get_data(as_text=True)
    assert contents(session) == before


def test_another_orgs_custom_activity_cannot_be_assigned(client, login, session, setup, factory):
    """A custom activity of another organization is refused as if it did not exist."""
    other = factory.activity(factory.org(), title="Their secret activity")
    login("ot@example.org")
    child = setup["child"]
    before = contents(session)
    assert client.get(f"/children/{child.id}/program/add?activity_id={other.id}").status_code == 404
    response = client.post(
        f"/children/{child.id}/program", data=_add_form(other.id, _local_today(child))
    )
    assert response.status_code == 400
    assert contents(session) == before


# Estimate and warnings -------------------------------------------------------------------


def test_estimate_counts_minutes_per_day_and_week(session, setup):
    """The estimate multiplies sessions by minutes per session over the coming week."""
    child, actor = setup["child"], _actor(setup)
    programs.create_assignment(
        session,
        actor,
        child,
        setup["activity"].id,
        _rx(minutes_per_session=5, times_per_day=2, days_of_week=[0, 1, 2, 3, 4]),
        today=DAY,
    )
    programs.create_assignment(
        session,
        actor,
        child,
        setup["activity"].id,
        _rx(minutes_per_session=10, days_of_week=[5]),
        today=DAY,
    )
    session.commit()
    est = programs.program_estimate(session, child.id, DAY)
    assert [d.minutes for d in est.days] == [10, 10, 10, 10, 10, 10, 0]
    assert est.minutes_per_week == 60
    assert est.minutes_per_day == 9  # 60 / 7 rounded
    assert est.heavy_days == []


def test_estimate_leaves_classroom_only_activities_out_of_family_time(session, setup, factory):
    """A classroom-only activity is done at school: it adds nothing to the family's minutes."""
    child, actor = setup["child"], _actor(setup)
    every_day = list(range(7))
    for setting, minutes in (("home", 5), ("both", 3), ("classroom", 20)):
        programs.create_assignment(
            session,
            actor,
            child,
            factory.activity().id,
            _rx(minutes_per_session=minutes, days_of_week=every_day, setting=setting),
            today=DAY,
        )
    session.commit()
    est = programs.program_estimate(session, child.id, DAY)
    assert [(d.activities, d.minutes) for d in est.days] == [(2, 8)] * 7
    # the editor's preview of adding a classroom-only activity leaves the total unchanged
    candidate = programs.preview_assignment(
        child,
        setup["activity"].id,
        _rx(minutes_per_session=40, days_of_week=every_day, setting="classroom"),
    )
    preview = programs.program_estimate(session, child.id, DAY, candidate=candidate)
    assert (preview.minutes_per_week, preview.heavy_days) == (56, [])


def test_estimate_warns_about_heavy_days(session, setup, factory):
    """More than four activities or more than 30 minutes on a day is flagged, not refused."""
    child, actor = setup["child"], _actor(setup)
    for _ in range(5):
        programs.create_assignment(
            session,
            actor,
            child,
            factory.activity().id,
            _rx(minutes_per_session=3, days_of_week=[0]),
            today=DAY,
        )
    programs.create_assignment(
        session,
        actor,
        child,
        setup["activity"].id,
        _rx(minutes_per_session=31, days_of_week=[2]),
        today=DAY,
    )
    session.commit()
    est = programs.program_estimate(session, child.id, DAY)
    monday, wednesday = est.days[0], est.days[2]
    assert (monday.activities, monday.too_many_activities, monday.too_many_minutes) == (
        5,
        True,
        False,
    )
    assert (wednesday.minutes, wednesday.too_many_minutes) == (31, True)
    assert [d.day for d in est.heavy_days] == [monday.day, wednesday.day]


def test_estimate_preview_updates_with_the_form(client, login, session, setup, factory):
    """The add form's htmx preview shows the new total and warns about a long day."""
    child = setup["child"]
    today = _local_today(child)
    login("ot@example.org")
    form = _add_form(
        setup["activity"].id,
        today,
        minutes_per_session="35",
        days_of_week=[str(i) for i in range(7)],
    )
    response = client.post(
        f"/children/{child.id}/program/estimate", data=form, headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "About 35 minutes a day, 245 minutes a week." in html
    assert "35 minutes (more than 30)" in html
    assert _count(session, Assignment) == 0  # a preview writes nothing
    # an incomplete form shows the current program instead
    form["days_of_week"] = []
    html = client.post(f"/children/{child.id}/program/estimate", data=form).get_data(as_text=True)
    assert "About 0 minutes a day" in html and "Complete the dose and schedule" in html


def test_child_page_shows_estimate_and_warning(client, login, session, setup, factory):
    """The program editor shows minutes per day and week and a heavy-day warning."""
    child = setup["child"]
    today = _local_today(child)
    for _ in range(5):
        programs.create_assignment(
            session,
            _actor(setup),
            child,
            factory.activity().id,
            _rx(start_date=today, days_of_week=list(range(7)), minutes_per_session=2),
            today=today,
        )
    session.commit()
    login("ot@example.org")
    html = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "About 10 minutes a day, 70 minutes a week." in html
    assert "5 activities (more than 4)" in html


# Coaching notes --------------------------------------------------------------------------


def test_coaching_notes(client, login, session, setup):
    """A therapist's note stays open until the family dismisses it; the page shows the state."""
    child = setup["child"]
    login("ot@example.org")
    response = client.post(f"/children/{child.id}/notes", data={"body": "Great week, keep going!"})
    assert response.status_code == 302
    (note,) = programs.open_notes(session, child.id)
    assert note.body == "Great week, keep going!"
    assert "not read yet" in client.get(f"/children/{child.id}").get_data(as_text=True)
    parent = Actor(None)
    programs.dismiss_note(session, parent, note.id, child.id)
    session.commit()
    assert programs.open_notes(session, child.id) == []
    assert "read by the family" in client.get(f"/children/{child.id}").get_data(as_text=True)
    before = contents(session)
    with pytest.raises(NotFound):
        programs.dismiss_note(session, parent, note.id, child.id + 1)
    assert client.post(f"/children/{child.id}/notes", data={"body": "  "}).status_code == 400
    assert client.post(f"/children/{child.id}/notes", data={"body": "x" * 501}).status_code == 400
    assert contents(session) == before


# How a dose reads ------------------------------------------------------------------------


def test_a_dose_says_how_often_once_on_every_page(app, login, session, setup, factory):
    """A free-text dose that already says how often ("Twice a day") gets no second phrase;
    one that disagrees with the schedule reads the schedule's number, on every page."""
    child = setup["child"]
    today = _local_today(child)
    every_day = list(range(7))
    for title, text, times in (
        ("Tooth brushing", "Twice a day", 2),
        ("Breathing", "5 breaths, twice a day", 3),
    ):
        factory.assignment(
            child,
            factory.activity(title=title),
            start_date=today,
            dose_unit="text",
            dose_text=text,
            times_per_day=times,
            days_of_week=every_day,
            setting="both",
        )
    factory.caregiver(child, email="parent@example.org")
    factory.teacher(child, email="teacher@example.org")
    pages = {
        "parent@example.org": ["/today"],
        "ot@example.org": [f"/children/{child.id}", f"/children/{child.id}/handout"],
        "teacher@example.org": ["/students", "/students/sheet", f"/students/{child.id}/sheet"],
    }
    for email, urls in pages.items():
        c = app.test_client()
        login(email, c=c)
        for url in urls:
            response = c.get(url)
            assert response.status_code == 200, url
            words = " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())
            assert "Twice a day" in words and "5 breaths, 3 times a day" in words, (url, words)
            phrases = re.findall(r"\b(?:once|twice|\d+ times?) a day\b", words, re.IGNORECASE)
            assert sorted(p.lower() for p in phrases) == ["3 times a day", "twice a day"], url


# Handout ---------------------------------------------------------------------------------


def test_handout_lists_home_activities_with_steps_and_dose(client, login, session, setup, factory):
    """The handout has each home activity's steps, materials, dose, days, anchor and note."""
    child = setup["child"]
    today = _local_today(child)
    actor = _actor(setup)
    programs.create_assignment(
        session,
        actor,
        child,
        setup["activity"].id,
        _rx(
            start_date=today,
            dose_amount=12,
            days_of_week=[0, 2, 4],
            anchor="after_dinner",
            caregiver_note="Big buttons first.",
        ),
        today=today,
    )
    school = factory.activity(title="Classroom chair push-ups")
    programs.create_assignment(
        session, actor, child, school.id, _rx(start_date=today, setting="classroom"), today=today
    )
    session.commit()
    login("ot@example.org")
    response = client.get(f"/children/{child.id}/handout")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "Home program for Ada",
        "Button practice",
        "Push the button through the hole.",
        "an old shirt with big buttons",
        "12 repetitions",
        "once a day",
        "Monday, Wednesday, Friday",
        "After dinner",
        "Big buttons first.",
        "print-handout.css",
        "js/print.js",
    ):
        assert text in html, text
    assert "Classroom chair push-ups" not in html
    assert "<script>" not in html and "onclick" not in html


# Access ----------------------------------------------------------------------------------


def test_program_routes_answer_404_to_everyone_else(client, login, session, setup, factory):
    """A caregiver, a teacher and another organization's therapist get 404 on every route."""
    child = setup["child"]
    today = _local_today(child)
    a = programs.create_assignment(
        session, _actor(setup), child, setup["activity"].id, _rx(start_date=today), today=today
    )
    session.commit()
    factory.caregiver(child, email="parent@example.org")
    factory.teacher(child, email="teacher@example.org")
    factory.therapist(factory.org(), email="other@example.org")
    c = child.id
    gets = [
        f"/children/{c}",
        f"/children/{c}/program/picker?q=b",
        f"/children/{c}/program/add?activity_id={a.activity_id}",
        f"/children/{c}/program/{a.id}/edit",
        f"/children/{c}/handout",
    ]
    posts = [
        f"/children/{c}/program",
        f"/children/{c}/program/estimate",
        f"/children/{c}/program/{a.id}/edit",
        f"/children/{c}/program/{a.id}/pause",
        f"/children/{c}/program/{a.id}/resume",
        f"/children/{c}/program/{a.id}/end",
        f"/children/{c}/notes",
        f"/children/{c}/templates",
        f"/children/{c}/templates/apply",
    ]
    for email in ("parent@example.org", "teacher@example.org", "other@example.org"):
        login(email)
        before = contents(session)
        if email != "other@example.org":  # staff-only pages, whatever the organization
            assert client.get("/templates").status_code == 404
            assert client.get("/templates/1").status_code == 404
        for url in gets:
            assert client.get(url).status_code == 404, (email, url)
        for url in posts:
            assert client.post(url, data=_add_form(a.activity_id, today)).status_code == 404, (
                email,
                url,
            )
        assert contents(session) == before, email
        client.post("/logout")


def test_assignment_of_another_child_is_404(client, login, session, setup, factory):
    """An assignment id from another child of the same therapist is not reachable via this
    child: 404 for the page and every change, and nothing changes."""
    child = setup["child"]
    today = _local_today(child)
    sibling = factory.child(setup["org"], therapist=setup["therapist"], name="Bo")
    a = programs.create_assignment(
        session, _actor(setup), sibling, setup["activity"].id, _rx(start_date=today), today=today
    )
    session.commit()
    login("ot@example.org")
    before = contents(session)
    base = f"/children/{child.id}/program/{a.id}"
    assert client.get(f"{base}/edit").status_code == 404
    change = _add_form(a.activity_id, today, effective_date=today.isoformat())
    for path, data in (
        ("edit", change),
        ("pause", {"day": today.isoformat()}),
        ("resume", {"day": today.isoformat()}),
        ("end", {"day": today.isoformat()}),
    ):
        assert client.post(f"{base}/{path}", data=data).status_code == 404, path
    assert contents(session) == before


def test_new_child_lands_on_the_picker(client, login, setup):
    """After adding a child the therapist lands on the child page at the activity picker."""
    login("ot@example.org")
    response = client.post(
        "/children/new",
        data={
            "display_name": "Noor",
            "birth_month": "4",
            "birth_year": "2019",
            "timezone": "America/Chicago",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#add-activity")
    page = client.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert 'id="add-activity"' in page and "Button practice" in page

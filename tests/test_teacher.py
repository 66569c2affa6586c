"""The teacher's classroom view: strategies, printable sheets and "used today"."""

from datetime import timedelta

from flask import render_template_string
from sqlalchemy import func, select

from homeprogram.models import AuditEvent, ClassroomUse, CoachingNote
from homeprogram.models.base import utcnow
from homeprogram.services import classroom

HX = {"HX-Request": "true"}


def _setup(factory, session):
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist, name="Maya")
    teacher = factory.teacher(child, email="teach@example.org")
    caregiver = factory.caregiver(child)
    today = classroom.today_for(child, utcnow())
    start = today - timedelta(days=3)
    movement = factory.activity(
        title="Movement break",
        steps=["Ten wall push-ups", "Five deep breaths"],
        materials=["timer"],
    )
    strategy = factory.assignment(
        child,
        movement,
        start_date=start,
        setting="classroom",
        anchor="every 30 minutes",
        days_of_week=[0, 1, 2, 3, 4],
        caregiver_note="Private family note",
    )
    home = factory.assignment(
        child, factory.activity(title="Bath-time scrub"), start_date=start, setting="home"
    )
    ended = factory.assignment(
        child,
        factory.activity(title="Old pencil grip"),
        start_date=start - timedelta(days=30),
        end_date=start - timedelta(days=1),
        setting="both",
    )
    session.add(
        CoachingNote(child_id=child.id, author_id=therapist.id, body="Home coaching secret")
    )
    session.commit()
    return {
        "org": org,
        "therapist": therapist,
        "child": child,
        "teacher": teacher,
        "caregiver": caregiver,
        "strategy": strategy,
        "home": home,
        "ended": ended,
    }


def test_my_students_shows_only_classroom_strategies(client, factory, session, login):
    """A teacher sees the classroom strategy (what, when, materials) and nothing of home."""
    s = _setup(factory, session)
    login("teach@example.org")
    html = client.get("/students").get_data(as_text=True)
    assert "Maya" in html
    assert "Movement break" in html and "Ten wall push-ups" in html and "timer" in html
    assert "every 30 minutes" in html and "school days" in html
    assert "Bath-time scrub" not in html  # home only
    assert "Old pencil grip" not in html  # no longer in force
    assert "Private family note" not in html and "Home coaching secret" not in html
    assert str(s["child"].birth_year) not in html


def test_teacher_does_not_see_other_students(client, factory, session, login):
    """Another school's child never appears on a teacher's list or sheet."""
    s = _setup(factory, session)
    other = factory.child(s["org"], name="Zed")
    login("teach@example.org")
    assert "Zed" not in client.get("/students").get_data(as_text=True)
    assert client.get(f"/students/{other.id}/sheet").status_code == 404


def test_used_today_toggle_with_note(client, factory, session, login):
    """Marking a strategy used today stores one mark with a note; undo removes it; audited."""
    s = _setup(factory, session)
    login("teach@example.org")
    url = f"/students/{s['child'].id}/strategies/{s['strategy'].id}"
    prefix = f"s{s['strategy'].id}-"
    r = client.post(url + "/used", data={prefix + "note": "Helped before math"}, headers=HX)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert body.lstrip().startswith("<li") and "Used today" in body and "Helped before math" in body
    client.post(url + "/used", data={prefix + "note": "Calmer"}, headers=HX)
    uses = session.scalars(select(ClassroomUse)).all()
    assert len(uses) == 1 and uses[0].note == "Calmer"
    r = client.post(url + "/unused", headers=HX)
    assert r.status_code == 200 and "Undo" not in r.get_data(as_text=True)
    assert session.scalar(select(func.count(ClassroomUse.id))) == 0
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["classroom.used", "classroom.note_changed", "classroom.unused"]


def test_used_today_without_javascript_redirects(client, factory, session, login):
    """A plain form post marks the strategy and returns to the list."""
    s = _setup(factory, session)
    login("teach@example.org")
    r = client.post(f"/students/{s['child'].id}/strategies/{s['strategy'].id}/used", data={})
    assert r.status_code == 302 and r.headers["Location"].startswith("/students")
    assert session.scalar(select(func.count(ClassroomUse.id))) == 1


def test_long_note_is_rejected_and_nothing_stored(client, factory, session, login):
    """A note over 200 characters is refused with a message; no mark is written."""
    s = _setup(factory, session)
    login("teach@example.org")
    prefix = f"s{s['strategy'].id}-"
    r = client.post(
        f"/students/{s['child'].id}/strategies/{s['strategy'].id}/used",
        data={prefix + "note": "x" * 201},
    )
    assert r.status_code == 400
    assert "at most 200 characters" in r.get_data(as_text=True)
    assert session.scalar(select(func.count(ClassroomUse.id))) == 0


def test_home_only_assignment_cannot_be_marked(client, factory, session, login):
    """A teacher cannot mark a home-only or ended assignment (404)."""
    s = _setup(factory, session)
    login("teach@example.org")
    for key in ("home", "ended"):
        r = client.post(f"/students/{s['child'].id}/strategies/{s[key].id}/used", data={})
        assert r.status_code == 404
    assert session.scalar(select(func.count(ClassroomUse.id))) == 0


def test_printable_sheets(client, factory, session, login):
    """The per-student and whole-class sheets list the strategies with the print stylesheet."""
    s = _setup(factory, session)
    login("teach@example.org")
    for url in (f"/students/{s['child'].id}/sheet", "/students/sheet"):
        html = client.get(url).get_data(as_text=True)
        assert "Movement break" in html and "Five deep breaths" in html
        assert "css/sheet.css" in html and "Bath-time scrub" not in html


def test_caregiver_cannot_open_classroom_view(client, factory, session, login):
    """Only teachers reach the classroom pages; a caregiver gets 404."""
    s = _setup(factory, session)
    login(s["caregiver"].email)
    assert client.get("/students").status_code == 404
    assert client.get(f"/students/{s['child'].id}/sheet").status_code == 404


def test_therapist_summary_shows_classroom_use(app, client, factory, session, login):
    """The therapist's summary shows days used and the teacher's note per strategy."""
    s = _setup(factory, session)
    login("teach@example.org")
    prefix = f"s{s['strategy'].id}-"
    client.post(
        f"/students/{s['child'].id}/strategies/{s['strategy'].id}/used",
        data={prefix + "note": "Worked well"},
    )
    with app.test_request_context("/"):
        html = render_template_string(
            '{% include "teacher/partials/classroom_use_summary.html" %}', child=s["child"]
        )
    assert "Movement break" in html and "used on 1 day" in html and "Worked well" in html
    assert "Bath-time scrub" not in html


def test_child_page_shows_classroom_use(app, client, factory, session, login):
    """The therapist's child page includes the classroom-use summary."""
    s = _setup(factory, session)
    teacher_client = app.test_client()
    login("teach@example.org", c=teacher_client)
    prefix = f"s{s['strategy'].id}-"
    teacher_client.post(
        f"/students/{s['child'].id}/strategies/{s['strategy'].id}/used",
        data={prefix + "note": "Before reading"},
    )
    login(s["therapist"].email)
    html = client.get(f"/children/{s['child'].id}").get_data(as_text=True)
    assert "Classroom use" in html and "Before reading" in html


def test_only_goals_shared_with_school_are_shown(client, factory, session, login):
    """A goal marked shared with school shows (statement and target); other goals do not."""
    from homeprogram.models import Goal

    s = _setup(factory, session)
    session.add_all(
        [
            Goal(
                child_id=s["child"].id,
                statement="Writes her name legibly",
                measure="legible letters",
                unit="of 4",
                baseline=1,
                target=4,
                shared_with_school=True,
            ),
            Goal(
                child_id=s["child"].id,
                statement="Dresses without help at home",
                measure="minutes",
                baseline=20,
                target=5,
                shared_with_school=False,
            ),
        ]
    )
    session.commit()
    login("teach@example.org")
    for url in ("/students", f"/students/{s['child'].id}/sheet", "/students/sheet"):
        html = client.get(url).get_data(as_text=True)
        assert "Writes her name legibly" in html and "of 4" in html, url
        assert "Dresses without help" not in html, url

"""Program templates: save a program under a name, list/rename/delete, apply in one click."""

from datetime import timedelta

from sqlalchemy import func, select

from homeprogram.models import Assignment, AuditEvent, ProgramTemplate, ProgramTemplateItem
from homeprogram.models.base import utcnow
from homeprogram.services import programs, schedule
from homeprogram.services import templates as program_templates
from homeprogram.services.audit import Actor


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _program(session, factory):
    org = factory.org()
    therapist = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist, name="Ada")
    today = schedule.local_date(utcnow(), child.timezone)
    actor = Actor(therapist.id, None, org.id)
    a1 = programs.create_assignment(
        session,
        actor,
        child,
        factory.activity(title="Pencil grip").id,
        programs.Prescription(
            dose_unit="minutes",
            dose_amount=5,
            minutes_per_session=5,
            days_of_week=[0, 2, 4],
            times_per_day=1,
            start_date=today,
            end_date=today + timedelta(days=27),
            anchor="after_school",
            caregiver_note="Short and fun.",
            measure_name="legible letters",
            measure_unit="out of 10",
        ),
        today=today,
    )
    a2 = programs.create_assignment(
        session,
        actor,
        child,
        factory.activity(title="Tracing lines").id,
        programs.Prescription(
            dose_unit="reps", dose_amount=3, days_of_week=[1, 3], start_date=today
        ),
        today=today,
    )
    session.commit()
    return org, therapist, child, today, [a1, a2]


def test_save_and_apply_a_template(client, login, session, factory):
    """A saved program is applied to another child with the same doses, in one post."""
    org, therapist, child, today, (a1, a2) = _program(session, factory)
    login("ot@example.org")
    response = client.post(
        f"/children/{child.id}/templates",
        data={"name": "Handwriting starter", "assignment_ids": [str(a1.id), str(a2.id)]},
    )
    assert response.status_code == 302
    template = session.scalar(select(ProgramTemplate))
    assert template.name == "Handwriting starter" and template.organization_id == org.id
    items = session.scalars(select(ProgramTemplateItem).order_by(ProgramTemplateItem.position))
    first, second = items.all()
    assert (first.dose_unit, first.dose_amount, first.days_of_week, first.duration_days) == (
        "minutes",
        5,
        [0, 2, 4],
        28,
    )
    assert (first.anchor, first.measure_unit, second.dose_amount) == (
        "after_school",
        "out of 10",
        3,
    )

    other = factory.child(org, therapist=therapist, name="Ben")
    page = client.get(f"/children/{other.id}").get_data(as_text=True)
    assert "Apply “Handwriting starter”" in page
    start = today + timedelta(days=1)
    response = client.post(
        f"/children/{other.id}/templates/apply",
        data={"apply-template_id": str(template.id), "apply-start_date": start.isoformat()},
    )
    assert response.status_code == 302
    made = session.scalars(
        select(Assignment).where(Assignment.child_id == other.id).order_by(Assignment.id)
    ).all()
    assert [(a.activity_id, a.dose_amount, a.start_date) for a in made] == [
        (a1.activity_id, 5, start),
        (a2.activity_id, 3, start),
    ]
    assert made[0].end_date == start + timedelta(days=27)
    assert made[0].caregiver_note == "Short and fun." and made[1].end_date is None
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"template.created", "template.applied", "assignment.created"} <= actions


def test_apply_with_defaults_is_one_click(client, login, session, factory):
    """Applying with only the template button pressed starts today."""
    org, therapist, _child, today, assignments = _program(session, factory)
    template = program_templates.save_template(
        session,
        Actor(therapist.id),
        organization_id=org.id,
        name="Starter",
        assignments=assignments,
    )
    session.commit()
    other = factory.child(org, therapist=therapist, name="Cy")
    login("ot@example.org")
    response = client.post(
        f"/children/{other.id}/templates/apply", data={"apply-template_id": str(template.id)}
    )
    assert response.status_code == 302
    starts = session.scalars(select(Assignment.start_date).where(Assignment.child_id == other.id))
    assert set(starts) == {today}


def test_template_of_another_org_is_404(client, login, session, factory):
    """Another organization cannot see, rename, delete or apply a template."""
    org, therapist, _child, _today, assignments = _program(session, factory)
    template = program_templates.save_template(
        session, Actor(therapist.id), organization_id=org.id, name="Ours", assignments=assignments
    )
    session.commit()
    org_b = factory.org()
    other_ot = factory.therapist(org_b, email="b@example.org")
    their_child = factory.child(org_b, therapist=other_ot)
    login("b@example.org")
    assert "Ours" not in client.get("/templates").get_data(as_text=True)
    assert client.get(f"/templates/{template.id}").status_code == 404
    assert client.post(f"/templates/{template.id}/rename", data={"name": "x"}).status_code == 404
    assert client.post(f"/templates/{template.id}/delete").status_code == 404
    response = client.post(
        f"/children/{their_child.id}/templates/apply",
        data={"apply-template_id": str(template.id)},
    )
    assert response.status_code == 404
    assert _count(session, Assignment, Assignment.child_id == their_child.id) == 0
    assert session.get(ProgramTemplate, template.id).name == "Ours"


def test_list_rename_delete(client, login, session, factory):
    """Templates are listed by name, renamed (names unique per organization) and deleted."""
    org, therapist, _child, _today, assignments = _program(session, factory)
    actor = Actor(therapist.id)
    t1 = program_templates.save_template(
        session, actor, organization_id=org.id, name="Morning dressing", assignments=assignments
    )
    program_templates.save_template(
        session, actor, organization_id=org.id, name="Handwriting", assignments=assignments[:1]
    )
    session.commit()
    login("ot@example.org")
    listing = client.get("/templates").get_data(as_text=True)
    assert listing.index("Handwriting") < listing.index("Morning dressing")
    assert "2 activities" in listing and "1 activity" in listing
    response = client.post(f"/templates/{t1.id}/rename", data={"name": "handwriting"})
    assert response.status_code == 400
    assert "already has a template of that name" in response.get_data(as_text=True)
    assert client.post(f"/templates/{t1.id}/rename", data={"name": "  "}).status_code == 400
    assert client.post(f"/templates/{t1.id}/rename", data={"name": "Dressing"}).status_code == 302
    session.expire_all()
    assert session.get(ProgramTemplate, t1.id).name == "Dressing"
    t1_id = t1.id
    assert client.post(f"/templates/{t1_id}/delete").status_code == 302
    session.expire_all()
    assert _count(session, ProgramTemplate, ProgramTemplate.id == t1_id) == 0
    assert _count(session, ProgramTemplateItem) == 1  # the other template's item only
    assert _count(session, Assignment) == 2  # children keep what they were given
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("template.%")))
    assert sorted(actions) == [
        "template.created",
        "template.created",
        "template.deleted",
        "template.renamed",
    ]


def test_saving_needs_a_name_and_an_activity(client, login, session, factory):
    """A template without a name or activities is refused with field messages."""
    _org, _therapist, child, _today, (_a1, _a2) = _program(session, factory)
    login("ot@example.org")
    response = client.post(f"/children/{child.id}/templates", data={"name": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Name the template" in html and "Choose at least one activity." in html
    assert _count(session, ProgramTemplate) == 0


def test_archived_activity_is_left_out_when_applying(session, factory):
    """An activity archived since the template was saved is skipped and reported."""
    org, therapist, _child, today, assignments = _program(session, factory)
    actor = Actor(therapist.id)
    template = program_templates.save_template(
        session, actor, organization_id=org.id, name="T", assignments=assignments
    )
    assignments[0].activity.archived_at = utcnow()
    session.commit()
    other = factory.child(org, therapist=therapist, name="Di")
    applied = program_templates.apply_template(
        session, actor, template, other, start_date=today, today=today
    )
    assert applied.skipped == ["Pencil grip"] and len(applied.created) == 1

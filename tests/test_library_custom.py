"""Custom activities: create, edit, duplicate, archive; built-ins are read-only; other
organizations can neither see nor touch them."""

import pytest
from sqlalchemy import func, select

from homeprogram.models import Activity, AuditEvent

FORM = {
    "title": "Sock puppet show",
    "focus_area": "play_social",
    "age_min": "4",
    "age_max": "9",
    "summary": "Put on a short show together.",
    "steps": "1. Make two puppets.\n\n2. Write a tiny story.\n- Perform it for the family.",
    "materials": "two socks\nmarkers",
    "easier": "Just wave the puppets.",
    "harder": "Add a third character.",
    "default_dose": "One show",
    "default_minutes": "15",
    "classroom_ok": "y",
}


@pytest.fixture
def org(factory):
    return factory.org()


@pytest.fixture
def therapist(factory, org, login):
    user = factory.therapist(org)
    login(user.email)
    return user


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Activity))


def _actions(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_create_custom_activity(client, session, org, therapist):
    """A therapist adds an activity to the organization's library; it is audited."""
    response = client.post("/library/new", data=FORM)
    assert response.status_code == 302
    activity = session.scalar(select(Activity).where(Activity.title == "Sock puppet show"))
    assert response.headers["Location"].endswith(f"/library/{activity.id}")
    assert activity.organization_id == org.id
    assert activity.slug is None
    assert activity.steps == [
        "Make two puppets.",
        "Write a tiny story.",
        "Perform it for the family.",
    ]
    assert activity.materials == ["two socks", "markers"]
    assert (activity.age_min, activity.age_max, activity.default_minutes) == (4, 9, 15)
    assert activity.classroom_ok is True
    assert "activity.created" in _actions(session)
    assert "Sock puppet show" in client.get("/library/?q=puppet show").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "   "}, "title", "Enter a title."),
        ({"steps": "\n  \n"}, "steps", "Write at least one step"),
        ({"age_min": "10", "age_max": "4"}, "age_max", "The oldest age cannot be below"),
        ({"age_min": "30"}, "age_min", "Enter an age from 0 to 21 years."),
        ({"age_max": ""}, "age_max", "Enter an age in years."),
        ({"default_minutes": "0"}, "default_minutes", "Enter minutes from 1 to 120."),
        ({"focus_area": "astrology"}, "focus_area", "Not a valid choice"),
    ],
)
def test_bad_input_shows_field_messages_and_saves_nothing(
    client, session, therapist, changes, field, message
):
    """Bad input re-renders the form (400) with the message by the field and the input kept."""
    before = _count(session)
    response = client.post("/library/new", data={**FORM, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in html
    assert message in html
    assert "two socks" in html  # the rest of the input is kept
    assert _count(session) == before
    assert "activity.created" not in _actions(session)


def test_several_mistakes_are_reported_together(client, session, therapist):
    """Empty title, no steps and a reversed age range are all shown at once."""
    data = {**FORM, "title": "", "steps": "", "age_min": "9", "age_max": "3"}
    html = client.post("/library/new", data=data).get_data(as_text=True)
    for field in ("title", "steps", "age_max"):
        assert f'id="{field}-error"' in html


def test_edit_own_custom_activity(client, session, factory, org, therapist):
    """Staff edit their organization's activity in place; the change is audited."""
    activity = factory.activity(org, title="Draft", steps=["One.", "Two."])
    form = client.get(f"/library/{activity.id}/edit").get_data(as_text=True)
    assert "One.\nTwo." in form
    response = client.post(f"/library/{activity.id}/edit", data={**FORM, "title": "Final"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Activity, activity.id).title == "Final"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "activity.updated"))
    assert event.target_id == activity.id
    assert "title" in event.detail["fields"]


def test_edit_with_bad_input_changes_nothing(client, session, factory, org, therapist):
    """A failed edit leaves the stored activity as it was."""
    activity = factory.activity(org, title="Keep me")
    response = client.post(f"/library/{activity.id}/edit", data={**FORM, "title": ""})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Activity, activity.id).title == "Keep me"


def test_duplicate_builtin_to_adapt_it(client, session, factory, org, therapist):
    """Duplicating a built-in prefills the form; saving makes an org-owned copy linked to it."""
    builtin = factory.activity(title="Wall push-ups", steps=["Stand.", "Push.", "Rest."])
    form = client.get(f"/library/{builtin.id}/duplicate").get_data(as_text=True)
    assert 'value="Wall push-ups"' in form
    assert "Stand.\nPush.\nRest." in form
    response = client.post(
        f"/library/{builtin.id}/duplicate",
        data={**FORM, "title": "Wall push-ups for Sam", "steps": "Stand.\nPush 5 times."},
    )
    assert response.status_code == 302
    copy = session.scalar(select(Activity).where(Activity.title == "Wall push-ups for Sam"))
    assert copy.organization_id == org.id
    assert copy.based_on_id == builtin.id
    session.expire_all()
    assert session.get(Activity, builtin.id).title == "Wall push-ups"
    detail = client.get(f"/library/{copy.id}").get_data(as_text=True)
    assert "Adapted from" in detail


def test_duplicate_a_custom_activity(client, session, factory, org, therapist):
    """A custom activity can itself be duplicated."""
    source = factory.activity(org, title="Ours")
    response = client.post(f"/library/{source.id}/duplicate", data={**FORM, "title": "Ours v2"})
    assert response.status_code == 302
    copy = session.scalar(select(Activity).where(Activity.title == "Ours v2"))
    assert copy.based_on_id == source.id


def test_builtins_cannot_be_edited_or_archived(client, session, factory, therapist):
    """Edit, archive and picture changes on a built-in answer 404 and change nothing."""
    builtin = factory.activity(title="Shipped")
    assert client.get(f"/library/{builtin.id}/edit").status_code == 404
    assert client.post(f"/library/{builtin.id}/edit", data=FORM).status_code == 404
    assert client.post(f"/library/{builtin.id}/archive").status_code == 404
    assert client.post(f"/library/{builtin.id}/picture/remove").status_code == 404
    session.expire_all()
    stored = session.get(Activity, builtin.id)
    assert (stored.title, stored.archived_at) == ("Shipped", None)


def test_archive_hides_and_restore_brings_back(client, session, factory, org, therapist):
    """Archiving removes the activity from the library list; restore puts it back; audited."""
    activity = factory.activity(org, title="Seasonal snow play")
    assert client.post(f"/library/{activity.id}/archive").status_code == 302
    client.get(f"/library/{activity.id}")  # shows the flash message
    assert "Seasonal snow play" not in client.get("/library/?q=snow").get_data(as_text=True)
    assert "Seasonal snow play" in client.get("/library/archived").get_data(as_text=True)
    detail = client.get(f"/library/{activity.id}")
    assert detail.status_code == 200
    assert "Restore to the library" in detail.get_data(as_text=True)
    assert client.post(f"/library/{activity.id}/restore").status_code == 302
    assert "Seasonal snow play" in client.get("/library/?q=snow").get_data(as_text=True)
    assert _actions(session)[-2:] == ["activity.archived", "activity.restored"]


def test_state_changes_need_csrf(client, factory, org, therapist):
    """Archiving without the CSRF token is refused."""
    activity = factory.activity(org)
    assert client.post(f"/library/{activity.id}/archive", csrf=False).status_code == 400


def test_other_organization_gets_404_everywhere(client, session, factory, org, login):
    """Staff of another organization cannot see, open, edit, duplicate or archive a custom
    activity: every route answers 404 and nothing changes."""
    ours = factory.activity(org, title="Our secret recipe")
    outsider = factory.therapist(factory.org())
    login(outsider.email)
    listing = client.get("/library/?q=secret").get_data(as_text=True)
    assert "Our secret recipe" not in listing
    for method, url in [
        ("get", f"/library/{ours.id}"),
        ("get", f"/library/{ours.id}/edit"),
        ("post", f"/library/{ours.id}/edit"),
        ("get", f"/library/{ours.id}/duplicate"),
        ("post", f"/library/{ours.id}/duplicate"),
        ("post", f"/library/{ours.id}/archive"),
        ("post", f"/library/{ours.id}/restore"),
        ("post", f"/library/{ours.id}/picture"),
        ("post", f"/library/{ours.id}/picture/remove"),
    ]:
        response = getattr(client, method)(url, data=FORM if method == "post" else None)
        assert response.status_code == 404, (method, url)
    session.expire_all()
    stored = session.get(Activity, ours.id)
    assert (stored.title, stored.archived_at) == ("Our secret recipe", None)
    assert _count(session) == 1
    assert not [a for a in _actions(session) if a.startswith("activity.")]

"""Library search, filters and pages for staff (built-in and custom activities)."""

from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import select

from homeprogram.extensions import db
from homeprogram.models import Activity
from homeprogram.models.base import utcnow
from homeprogram.services import library
from homeprogram.services.errors import NotFound


@pytest.fixture
def builtins(app) -> None:
    with app.app_context(), db.transaction() as s:
        library.sync_builtin(s)


@pytest.fixture
def org(factory):
    return factory.org()


@pytest.fixture
def therapist(factory, org, login):
    user = factory.therapist(org)
    login(user.email)
    return user


def _titles(session, org_id, **filters) -> list[str]:
    return [a.title for a in library.search(session, org_id, **filters)]


def test_search_matches_words_in_title_or_summary(session, factory, org):
    """Every typed word must appear in the title or the summary, in any case or order."""
    factory.activity(title="Button practice", summary="Big buttons on a shirt.")
    factory.activity(title="Zipper start", summary="Hook the pin, then pull up.")
    factory.activity(title="Sock donut", summary="Scrunch the sock first.")
    assert _titles(session, org.id, query="BUTTON") == ["Button practice"]
    assert _titles(session, org.id, query="pull hook") == ["Zipper start"]
    assert _titles(session, org.id, query="pull sock") == []
    assert _titles(session, org.id, query="   ") == [
        "Button practice",
        "Sock donut",
        "Zipper start",
    ]


def test_search_treats_plurals_and_wildcards_plainly(session, factory, org):
    """ "buttons" finds "button"; a typed % or _ is not a wildcard."""
    factory.activity(title="Big button practice")
    factory.activity(title="100% effort relay")
    assert _titles(session, org.id, query="buttons") == ["Big button practice"]
    assert _titles(session, org.id, query="100%") == ["100% effort relay"]
    assert _titles(session, org.id, query="_") == []


def test_each_filter_narrows_the_results(session, factory, org):
    """Focus area, age (within the activity's range) and classroom suitability each filter."""
    factory.activity(title="Pinch", focus_area="fine_motor", age_min=3, age_max=6)
    factory.activity(
        title="Breathe", focus_area="sensory", age_min=5, age_max=12, classroom_ok=True
    )
    factory.activity(title="Hop", focus_area="gross_motor", age_min=4, age_max=9)
    assert _titles(session, org.id, focus_area="sensory") == ["Breathe"]
    assert _titles(session, org.id, age=3) == ["Pinch"]
    assert _titles(session, org.id, age=9) == ["Breathe", "Hop"]
    assert _titles(session, org.id, age=6) == ["Breathe", "Hop", "Pinch"]
    assert _titles(session, org.id, classroom=True) == ["Breathe"]
    assert _titles(session, org.id, classroom=False) == ["Hop", "Pinch"]
    assert _titles(session, org.id, focus_area="gross_motor", age=3) == []


def test_search_shows_own_custom_but_not_other_orgs(session, factory, org):
    """An organization's custom activities appear in its search only."""
    other = factory.org()
    factory.activity(org, title="Our obstacle course")
    factory.activity(other, title="Their obstacle course")
    factory.activity(title="Built-in obstacle course")
    assert _titles(session, org.id, query="obstacle") == [
        "Built-in obstacle course",
        "Our obstacle course",
    ]
    assert _titles(session, None, query="obstacle") == ["Built-in obstacle course"]


def test_archived_activities_leave_search_but_still_open(session, factory, org):
    """An archived activity is not found by search, yet still opens for existing assignments."""
    archived = factory.activity(org, title="Old routine", archived_at=utcnow())
    child = factory.child(org)
    factory.assignment(child, archived, start_date=date(2026, 1, 5))
    assert _titles(session, org.id, query="routine") == []
    assert library.get_visible(session, org.id, archived.id).id == archived.id
    with pytest.raises(NotFound):
        library.get_assignable(session, org.id, archived.id)


def test_library_page_searches_without_javascript(client, builtins, therapist):
    """A plain GET with the search form's fields returns the full page with the matches."""
    response = client.get("/library/?q=buttons&focus=self_care&age=5")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Activity library</h1>" in html
    assert "Big button practice" in html
    assert "Wall push-ups" not in html
    assert 'value="buttons"' in html
    assert '<option value="self_care" selected>' in html


def test_library_page_answers_htmx_with_the_results_fragment(client, builtins, therapist):
    """Search as you type gets only the results fragment, with Vary: HX-Request."""
    response = client.get("/library/?q=push&classroom=1", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="library-results"')
    assert "<html" not in html
    assert "Wall push-ups" in html
    assert "Chair push-ups" in html
    assert "HX-Request" in response.headers["Vary"]


def test_library_page_filters_by_age_and_classroom(client, session, builtins, therapist):
    """The age and classroom filters on the page give the same activities as the service."""
    response = client.get("/library/?age=14&classroom=1", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    expected = _titles(session, None, age=14, classroom=True)
    assert expected
    for title in expected:
        assert title.replace('"', "&#34;") in html
    assert "Blanket burrito" not in html  # ages 3-10


def test_library_page_ignores_nonsense_filters(client, builtins, therapist):
    """Unknown focus areas and non-numeric ages are ignored rather than failing."""
    response = client.get("/library/?focus=astrology&age=old")
    assert response.status_code == 200
    # Unfiltered: the first page starts with the first title (the library has over 100).
    first = min((item.values.title for item in library.load_builtin()), key=str.lower)
    assert str(escape(first)) in response.get_data(as_text=True)


def test_library_is_for_staff_only(client, factory, org, login):
    """Caregivers, teachers and anonymous visitors do not get the library pages."""
    activity = factory.activity()
    child = factory.child(org)
    parent = factory.caregiver(child)
    assert client.get("/library/").status_code == 302  # to the login page
    login(parent.email)
    assert client.get("/library/").status_code == 404
    assert client.get(f"/library/{activity.id}").status_code == 404


def test_detail_page_shows_steps_materials_variations_and_dose(
    client, builtins, therapist, session
):
    """The detail page shows everything a therapist needs to prescribe the activity."""
    activity = session.scalar(select(Activity).where(Activity.slug == "socks-on-donut-method"))
    html = client.get(f"/library/{activity.id}").get_data(as_text=True)
    for text in [*activity.steps, *activity.materials, activity.easier, activity.harder]:
        assert text.replace("'", "&#39;").replace('"', "&#34;") in html
    assert activity.default_dose in html
    assert "Duplicate to adapt" in html
    assert "Edit</a>" not in html
    assert "Archive this activity" not in html


def test_nav_has_library_link_for_staff(client, therapist):
    """Staff see a Library link in the navigation."""
    html = client.get("/caseload").get_data(as_text=True)
    assert 'href="/library/"' in html

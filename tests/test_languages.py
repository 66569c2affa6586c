"""Choosing a language: the browser's, the login page's switch, a person's setting, the
family's language on invites and handouts, the teacher's sheet, and a third language added by
configuration alone."""

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlalchemy import func, select

from homeprogram import create_app
from homeprogram.config import ConfigError
from homeprogram.models import ActivityTranslation, AuditEvent, Invite, Organization, User
from homeprogram.services import activity_text, library
from tests.caregiver_setup import family
from tests.world import signed_in_client


def html_lang(body: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', body)
    assert match, body[:200]
    return match.group(1)


def test_the_browsers_language_decides_before_sign_in(client):
    spanish = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    body = spanish.get_data(as_text=True)
    assert html_lang(body) == "es"
    assert "Iniciar sesión" in body
    english = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert html_lang(english.get_data(as_text=True)) == "en"  # not offered: the default


def test_the_login_page_switch_remembers_the_choice(client):
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="es"' in page and "Español" in page  # the switch names it in Spanish
    switched = client.post("/language", data={"language": "es", "next": "/login?next=/today"})
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/login?next=/today")
    again = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_lang(again) == "es"
    assert 'value="en" lang="en"' in again  # and back to English is offered, in English


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_the_switch_never_leaves_the_site(client, target):
    response = client.post("/language", data={"language": "es", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://homeprogram.test/")


def test_an_unknown_language_changes_nothing(client):
    response = client.post("/language", data={"language": "xx", "next": "/login"})
    assert response.status_code == 302
    assert "hp_lang" not in response.headers.get("Set-Cookie", "")
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Choose one of the languages." in page


def test_a_person_sets_their_language_and_it_is_audited(app, factory, session):
    fam = family(factory)
    c = signed_in_client(app, session, fam.caregiver)
    settings = c.get("/settings").get_data(as_text=True)
    assert 'value="en" checked' in settings
    response = c.post("/language", data={"language": "es", "next": "/settings"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, fam.caregiver.id).locale == "es"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.language_changed")
    ).one()
    assert event.actor_id == fam.caregiver.id
    today = c.get(f"/children/{fam.child.id}/today", headers={"Accept-Language": "en"})
    body = today.get_data(as_text=True)
    assert html_lang(body) == "es"
    assert "Hoy" in body


@pytest.fixture
def synced_library(session):
    library.sync_builtin(session)
    session.commit()


def _spanish_family_with_buttons(factory, session):
    """A caregiver reading Spanish whose child practises a built-in with a Spanish version."""
    fam = family(factory)
    activity = library.get_visible(session, None, _builtin_id(session, "big-button-practice"))
    factory.assignment(fam.child, activity, start_date=fam.today - timedelta(days=1))
    fam.caregiver.locale = "es"
    session.commit()
    return fam, activity


def test_today_shows_the_spanish_version_of_a_built_in_activity(
    app, factory, session, synced_library
):
    fam, activity = _spanish_family_with_buttons(factory, session)
    body = (
        signed_in_client(app, session, fam.caregiver)
        .get(f"/children/{fam.child.id}/today")
        .get_data(as_text=True)
    )
    spanish = activity_text.text_of(activity, "es")
    assert spanish.translated and spanish.title != activity.title
    assert spanish.title in body
    assert spanish.steps[0] in body
    # Activities with no Spanish version are shown as written, marked as English for
    # screen readers, with a line saying so.
    assert 'lang="en">Button practice</h3>' in body
    assert 'class="not-translated' in body


def _builtin_id(session, slug: str) -> int:
    from homeprogram.models import Activity

    return session.scalars(
        select(Activity.id).where(Activity.slug == slug, Activity.organization_id.is_(None))
    ).one()


def test_the_handout_prints_in_the_familys_language_unless_another_is_chosen(app, factory, session):
    fam = family(factory)
    fam.child.family_language = "es"
    session.commit()
    c = signed_in_client(app, session, fam.therapist)
    handout = c.get(f"/children/{fam.child.id}/handout").get_data(as_text=True)
    assert html_lang(handout) == "es"
    assert "Programa en casa" in handout
    english = c.get(f"/children/{fam.child.id}/handout?lang=en").get_data(as_text=True)
    assert html_lang(english) == "en"
    assert "Home program for Sam" in english
    # A language that is not offered falls back to the family's.
    other = c.get(f"/children/{fam.child.id}/handout?lang=xx").get_data(as_text=True)
    assert html_lang(other) == "es"


def test_the_teachers_sheet_prints_in_the_chosen_language(app, factory, session):
    fam = family(factory, setting="both")
    teacher = factory.teacher(fam.child)
    c = signed_in_client(app, session, teacher)
    english = c.get("/students/sheet").get_data(as_text=True)
    assert html_lang(english) == "en" and "Classroom strategies" in english
    spanish = c.get("/students/sheet?lang=es").get_data(as_text=True)
    assert html_lang(spanish) == "es"
    assert "Classroom strategies" not in spanish


def test_the_therapist_records_the_familys_language_and_the_invite_opens_in_it(
    app, factory, session
):
    fam = family(factory)
    c = signed_in_client(app, session, fam.therapist)
    form = c.get(f"/children/{fam.child.id}/edit").get_data(as_text=True)
    assert "The family&#39;s language" in form or "The family's language" in form
    saved = c.post(
        f"/children/{fam.child.id}/edit",
        data={
            "display_name": "Sam",
            "birth_month": "5",
            "birth_year": "2018",
            "timezone": fam.child.timezone,
            "family_language": "es",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    session.expire_all()
    assert fam.child.family_language == "es"
    created = c.post(f"/children/{fam.child.id}/invites", data={"role": "caregiver"})
    assert created.status_code in (200, 302)
    invite = session.scalars(select(Invite).where(Invite.child_id == fam.child.id)).one()
    assert invite.language == "es"
    link = re.search(r"/invite/[A-Za-z0-9_\-]+", created.get_data(as_text=True))
    if link is None:
        link = re.search(
            r"/invite/[A-Za-z0-9_\-]+", c.get(created.headers["Location"]).get_data(as_text=True)
        )
    assert link is not None
    visitor = app.test_client()
    page = visitor.get(link.group(0), headers={"Accept-Language": "en-US"})
    assert html_lang(page.get_data(as_text=True)) == "es"
    accepted = visitor.post(
        link.group(0),
        data={
            "new-name": "Rosa",
            "new-email": "rosa@example.org",
            "new-password": "a long enough passphrase",
        },
        headers={"Accept-Language": "en-US"},
    )
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    rosa = session.scalars(select(User).where(User.email == "rosa@example.org")).one()
    assert rosa.locale == "es"  # she reads the app, reminders and emails in Spanish


# --- A third language by configuration alone ---------------------------------------------------


def _catalog(directory: Path, code: str, strings: dict[str, str]) -> None:
    catalog = Catalog(locale=code)
    for source, translated in strings.items():
        catalog.add(source, translated)
    target = directory / code / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as out:
        write_mo(out, catalog)


def test_a_third_language_is_switched_on_by_configuration_alone(database_url, tmp_path):
    extra = tmp_path / "translations"
    _catalog(extra, "fr", {"Log in": "Se connecter"})
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "LANGUAGES": "en,es,fr",
            "BABEL_TRANSLATION_DIRECTORIES": f"translations;{extra}",
        }
    )
    page = app.test_client().get("/login", headers={"Accept-Language": "fr"})
    body = page.get_data(as_text=True)
    assert html_lang(body) == "fr"
    assert "Se connecter" in body
    assert "Français" in app.test_client().get("/login").get_data(as_text=True)


def test_a_language_without_a_catalog_stops_the_app_with_a_clear_message(database_url):
    with pytest.raises(ConfigError, match="no compiled catalog was found for it"):
        create_app(
            {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x", "LANGUAGES": "en,de"}
        )


def test_the_languages_setting_must_keep_english(monkeypatch, database_url):
    monkeypatch.setenv("HOMEPROGRAM_LANGUAGES", "es")
    with pytest.raises(ConfigError, match="must include en"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})


def test_make_catalogs_compiles_the_tree_catalogs(tmp_path):
    po = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n\nmsgid "Today"\nmsgstr "Tōday"\n')
    result = subprocess.run(
        [sys.executable, "-m", "homeprogram.catalogs", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "messages.mo" in result.stdout
    assert po.with_suffix(".mo").stat().st_size > 0


# --- A therapist's Spanish version of a custom activity -----------------------------------------


def test_a_therapist_writes_the_spanish_version_of_a_custom_activity(app, factory, session):
    fam = family(factory)
    org = session.get(Organization, fam.child.organization_id)
    custom = factory.activity(
        org, title="Crab walk relay", steps=["Sit and lift.", "Walk to the line."], materials=[]
    )
    assigned = factory.assignment(fam.child, custom, start_date=fam.today)
    fam.child.family_language = "es"
    fam.caregiver.locale = "es"
    session.commit()
    staff = signed_in_client(app, session, fam.therapist)
    url = f"/library/{custom.id}/translations/es"

    page = staff.get(f"/children/{fam.child.id}").get_data(as_text=True)
    assert page.count("no Spanish version yet") == 3  # the program list says which lack it

    form = staff.get(url).get_data(as_text=True)
    assert "Walk to the line." in form  # the original, line by line, beside the fields
    short = staff.post(url, data={"title": "Relevo del cangrejo", "steps": "Siéntese."})
    assert short.status_code == 400
    assert "Write 2 lines, one for each line of the original." in short.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ActivityTranslation)) == 0

    saved = staff.post(
        url, data={"title": "Relevo del cangrejo", "steps": "Siéntese y levante.\nCamine."}
    )
    assert saved.status_code == 302
    assert session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_id == custom.id)
    ).all() == ["activity.translation_saved"]
    today = signed_in_client(app, session, fam.caregiver).get(f"/children/{fam.child.id}/today")
    body = today.get_data(as_text=True)
    assert f'id="card-{assigned.id}-title">Relevo del cangrejo</h3>' in body
    assert "Camine." in body
    page = staff.get(f"/children/{fam.child.id}").get_data(as_text=True)
    assert page.count("no Spanish version yet") == 2

    removed = staff.post(f"{url}/remove")
    assert removed.status_code == 302
    assert session.scalar(select(func.count()).select_from(ActivityTranslation)) == 0


def test_only_the_organisations_own_custom_activities_take_a_version(
    app, factory, session, synced_library
):
    fam = family(factory)
    org = session.get(Organization, fam.child.organization_id)
    custom = factory.activity(org, title="Crab walk relay")
    elsewhere = factory.therapist(factory.org())
    builtin = _builtin_id(session, "big-button-practice")
    mine = signed_in_client(app, session, fam.therapist)
    assert mine.get(f"/library/{builtin}/translations/es").status_code == 404  # shipped ones
    assert mine.get(f"/library/{custom.id}/translations/en").status_code == 404  # its own
    assert mine.get(f"/library/{custom.id}/translations/xx").status_code == 404
    other = signed_in_client(app, session, elsewhere)
    assert other.get(f"/library/{custom.id}/translations/es").status_code == 404


def test_the_api_gives_the_activity_in_the_callers_language_with_its_safety(
    app, factory, session, synced_library
):
    fam, activity = _spanish_family_with_buttons(factory, session)
    day = (
        signed_in_client(app, session, fam.caregiver)
        .get(f"/api/v1/children/{fam.child.id}/today")
        .get_json()
    )
    cards = {
        card["activity"]["id"]: card["activity"]
        for group in day["groups"]
        for card in group["assignments"]
    }
    spanish = activity_text.text_of(activity, "es")
    assert cards[activity.id]["language"] == "es"
    assert cards[activity.id]["title"] == spanish.title
    assert cards[activity.id]["safety"]["stop_if"] == list(spanish.safety.stop_if)
    assert cards[activity.id]["safety"]["supervision"] == "nearby"
    # One with no Spanish version comes as written, and says which language that is.
    assert cards[fam.morning.activity_id]["language"] == "en"
    assert cards[fam.morning.activity_id]["title"] == "Button practice"

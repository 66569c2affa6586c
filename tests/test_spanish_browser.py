"""The caregiver's journey once more, in Spanish, in a real phone-sized Chromium: a built-in
activity in its Spanish version, log, add details, undo, log offline and sync, set reminders.

The words expected are taken from the Spanish catalog (not written here), so the test checks
that the page uses the catalog, whatever its wording.
"""

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select

from homeprogram.models import Activity, CompletionLog, ReminderPlan
from homeprogram.services import activity_text, library
from tests.browser import PHONE, check_accessibility, log_in
from tests.caregiver_setup import family
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def spanish(app: Flask, text: str, **values: Any) -> str:
    with app.test_request_context(), force_locale("es"):
        return gettext(text, **values)


def test_a_spanish_speaking_parent_logs_adds_details_undoes_syncs_and_sets_reminders(
    app, live_server, new_page, factory, session
):
    from playwright.sync_api import expect

    library.sync_builtin(session)
    session.commit()
    fam = family(factory)
    buttons = session.scalars(select(Activity).where(Activity.slug == "big-button-practice")).one()
    assigned = factory.assignment(
        fam.child, buttons, start_date=fam.today - timedelta(days=3), anchor="morning"
    )
    fam.caregiver.locale = "es"
    session.commit()
    text = activity_text.text_of(buttons, "es")
    assert text.translated

    page = new_page(PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, fam.caregiver.email, TEST_PASSWORD)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.locator("html").get_attribute("lang") == "es"

    card = page.locator(f"#card-{assigned.id}")
    expect(card.locator("h3")).to_have_text(text.title)
    card.locator("summary").filter(has_text=spanish(app, "Steps")).first.click()
    expect(card.locator(".steps ol li").first).to_have_text(text.steps[0])

    # Log, add details, undo.
    card.get_by_role("button", name=re.compile("^" + spanish(app, "Done"))).click()
    expect(card.locator(".card-status")).to_contain_text(spanish(app, "Done"))
    details = card.locator("details.log-details")
    expect(details).to_have_attribute("open", "")
    details.locator("input[name$=minutes]").fill("6")
    details.get_by_role("button", name=spanish(app, "Save details")).click()
    expect(card.locator(".my-log")).to_contain_text("6 min")
    card.get_by_role("button", name=re.compile("^" + spanish(app, "Undo"))).click()
    expect(card.locator(".card-status")).to_contain_text(spanish(app, "To do"))
    check_accessibility(page, "today in Spanish after undo")

    # Offline: the tap waits on the phone and says so in Spanish; back online it is stored.
    page.context.set_offline(True)
    card.locator("[data-done-button]").click()
    expect(card.locator("[data-pending]")).to_contain_text(
        spanish(app, "Saved on this phone, will sync.")
    )
    page.context.set_offline(False)
    expect(card.locator("[data-pending]")).to_be_hidden()
    expect(card.locator(".card-status")).to_contain_text(spanish(app, "Done"))
    session.expire_all()
    stored = session.scalars(
        select(CompletionLog).where(CompletionLog.assignment_id == assigned.id)
    ).all()
    assert [log.deleted_at is None for log in stored] == [False, True]

    # Reminders: the settings page and its answer in Spanish.
    page.goto(live_server.url("/settings/reminders"))
    assert page.locator("html").get_attribute("lang") == "es"
    plan_form = page.locator("form", has=page.locator("input[name$=time_1]"))
    plan_form.locator("input[name$=time_1]").fill("18:30")
    plan_form.locator("button[type=submit]").click()
    expect(page.locator(".flashes")).to_be_visible()
    session.expire_all()
    plan = session.scalars(select(ReminderPlan).where(ReminderPlan.child_id == fam.child.id)).one()
    assert "18:30" in plan.times
    assert errors == []

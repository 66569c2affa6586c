"""A real phone-sized Chromium against a real server: log online, log offline, sync.

Uses the shared browser fixtures of ``tests/browser.py``: the machine's Chromium (Debian
package ``chromium``; `.ci/run` installs it), never a browser downloaded by Playwright, and
skipped when it is absent.
"""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from homeprogram.models import CompletionLog
from tests.browser import PHONE, LiveServer
from tests.caregiver_setup import family
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(live_server: LiveServer, browser: Any) -> Iterator[Any]:
    """A phone-sized browser context whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.origin, viewport=PHONE, is_mobile=True)
    try:
        yield context
    finally:
        context.close()


def test_log_online_then_offline_then_sync(phone, factory, session):
    """Done online, Done offline (kept on the phone), back online: exactly two logs stored."""
    from playwright.sync_api import expect

    fam = family(factory)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/login")
    page.fill("input[name=email]", fam.caregiver.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/today")
    # Wait for the service worker, then load once more so the worker keeps this page.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()

    morning = page.locator(f"#card-{fam.morning.id}")
    morning.locator("[data-done-button]").click()
    expect(morning.locator(".card-status")).to_contain_text("Done")
    expect(morning.get_by_role("button", name=re.compile("^Undo"))).to_be_visible()

    phone.set_offline(True)
    bedtime = page.locator(f"#card-{fam.bedtime.id}")
    bedtime.locator("[data-done-button]").click()
    expect(bedtime.locator("[data-pending]")).to_be_visible()
    expect(bedtime.locator("[data-pending]")).to_contain_text("Saved on this phone, will sync")
    expect(page.locator("#live-region")).to_contain_text("Saved on this phone")

    # Still offline, the page opens from the phone, with the offline banner and the pending log.
    page.reload()
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(page.locator(f"#card-{fam.bedtime.id} [data-pending]")).to_be_visible()

    phone.set_offline(False)
    bedtime = page.locator(f"#card-{fam.bedtime.id}")
    expect(bedtime.locator(".card-status")).to_contain_text("1 of 2 done")
    expect(bedtime.locator("[data-pending]")).to_be_hidden()
    expect(page.locator("[data-offline-banner]")).to_be_hidden()

    session.expire_all()
    stored = session.scalars(select(CompletionLog).order_by(CompletionLog.id)).all()
    assert [log.assignment_id for log in stored] == [fam.morning.id, fam.bedtime.id]
    assert {log.logged_by_id for log in stored} == {fam.caregiver.id}
    assert all(log.deleted_at is None for log in stored)
    queued = page.evaluate("HPQueue.all().then(entries => entries.length)")
    assert queued == 0
    assert errors == []


def test_logout_clears_the_phone(phone, factory, session):
    """Logging out empties the offline queue and the kept today pages."""
    from playwright.sync_api import expect

    fam = family(factory)
    page = phone.new_page()
    page.goto("/login")
    page.fill("input[name=email]", fam.caregiver.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/today")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.evaluate(
        """HPQueue.put({client_id: "6b0c1c2e-3d4f-4a5b-8c6d-7e8f9a0b1c2d", assignment_id: -1,
                        child_id: -1, occurred_at: new Date().toISOString(), user_id: -1,
                        queued_at: new Date().toISOString()})"""
    )
    assert page.evaluate("caches.keys()").count("hp-pages-v1") == 1
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    expect(page.locator(".flash")).to_contain_text("logged out")
    assert page.evaluate("HPQueue.all().then(entries => entries.length)") == 0
    assert "hp-pages-v1" not in page.evaluate("caches.keys()")


_TARGETS = """
() => {
  const selector = "main button, main a, main summary, main .choice-option, main textarea,"
    + " main input:not([type=hidden]):not([type=radio]), .nav-links a, .nav-links button";
  return Array.from(document.querySelectorAll(selector))
    .filter((el) => el.getClientRects().length && !el.closest(".visually-hidden"))
    .map((el) => {
      const box = el.getBoundingClientRect();
      return { text: (el.innerText || el.name || el.tagName).trim().slice(0, 40),
               width: Math.round(box.width), height: Math.round(box.height) };
    })
    .filter((box) => box.height < 44 || box.width < 44);
}
"""


def test_phone_layout_fits_360px_with_44px_targets(phone, factory):
    """Today and week fit a 360 px screen without sideways scrolling; every target is 44 px."""
    fam = family(factory, measure_name="Seconds to button", measure_unit="s")
    page = phone.new_page()
    page.goto("/login")
    page.fill("input[name=email]", fam.caregiver.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/today")
    morning = page.locator(f"#card-{fam.morning.id}")
    morning.locator("[data-done-button]").click()
    from playwright.sync_api import expect

    expect(morning.locator(".log-details")).to_have_attribute("open", "")
    page.locator(".steps summary").first.click()
    for url in ("/today", f"/children/{fam.child.id}/week", "/settings"):
        if url != "/today":
            page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        assert page.evaluate(_TARGETS) == [], url


def _queue_drains(page: Any, seconds: float = 10) -> bool:
    """The offline queue is (or becomes, within ``seconds``) empty."""
    deadline = time.monotonic() + seconds
    while page.evaluate("HPQueue.all().then(entries => entries.length)"):
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(100)
    return True


def test_lost_answer_is_replayed_without_a_duplicate(phone, live_server, factory, session):
    """The server stores a Done but the answer is lost: the phone queues and replays it, and
    the client_id keeps it to one log."""
    from playwright.sync_api import expect

    fam = family(factory)
    # Requests that pass through a service worker escape page.route: block the worker here.
    context = phone.browser.new_context(
        base_url=live_server.origin,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        service_workers="block",
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", fam.caregiver.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/today")

    def deliver_then_drop(route: Any) -> None:
        route.fetch()  # the request reaches the server and is stored...
        route.abort("connectionreset")  # ...but the phone never hears back

    page.route("**/children/*/logs", deliver_then_drop)
    bedtime = page.locator(f"#card-{fam.bedtime.id}")
    bedtime.locator("[data-done-button]").click()
    expect(bedtime.locator("[data-pending]")).to_be_visible()
    page.unroute("**/children/*/logs")

    page.reload()  # opening the app replays the queue
    expect(page.locator(f"#card-{fam.bedtime.id} .card-status")).to_contain_text("1 of 2 done")
    expect(page.locator(f"#card-{fam.bedtime.id} [data-pending]")).to_be_hidden()
    # The page shows the stored log at once; the replay that empties the queue may still
    # be on its way.
    assert _queue_drains(page)
    session.expire_all()
    assert len(session.scalars(select(CompletionLog)).all()) == 1
    context.close()


def _sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/today")


def test_details_not_sent_offline_say_so_and_keep_what_was_typed(phone, factory, session):
    """Offline, saving details says it was not sent, beside the form, and keeps the typed
    minutes; a Done is kept on the phone instead, without that message. Online, the same
    Save stores them and the message goes."""
    from playwright.sync_api import expect

    fam = family(factory)
    page = phone.new_page()
    _sign_in(page, fam.caregiver.email)
    morning = page.locator(f"#card-{fam.morning.id}")
    morning.locator("[data-done-button]").click()
    expect(morning.locator(".log-details")).to_have_attribute("open", "")

    phone.set_offline(True)
    morning.get_by_label("Minutes spent").fill("7")
    morning.get_by_role("button", name="Save details").click()
    problem = morning.locator("[data-request-problem]")
    expect(problem).to_have_text("Not sent: no connection. Try again when you are back online.")
    expect(problem).to_have_attribute("role", "alert")
    expect(morning.get_by_label("Minutes spent")).to_have_value("7")

    bedtime = page.locator(f"#card-{fam.bedtime.id}")
    bedtime.locator("[data-done-button]").click()
    expect(bedtime.locator("[data-pending]")).to_be_visible()
    expect(bedtime.locator("[data-request-problem]")).to_have_count(0)

    phone.set_offline(False)
    expect(page.locator(f"#card-{fam.bedtime.id} [data-pending]")).to_be_hidden()
    morning.get_by_role("button", name="Save details").click()
    expect(page.locator("#live-region")).to_contain_text("Details saved")
    expect(page.locator("[data-request-problem]")).to_have_count(0)

    session.expire_all()
    minutes = session.scalars(
        select(CompletionLog.minutes).where(CompletionLog.assignment_id == fam.morning.id)
    ).all()
    assert minutes == [7]


def test_a_tap_after_the_session_ended_opens_the_login_page(phone, factory, session):
    """Signed out elsewhere ("log out everywhere"), an Undo on the open today page opens the
    login page, which leads back to today; nothing is undone and no login page appears
    inside the card."""
    from playwright.sync_api import expect

    from homeprogram.services import accounts

    fam = family(factory)
    page = phone.new_page()
    _sign_in(page, fam.caregiver.email)
    morning = page.locator(f"#card-{fam.morning.id}")
    morning.locator("[data-done-button]").click()
    undo = morning.get_by_role("button", name=re.compile("^Undo"))
    expect(undo).to_be_visible()

    accounts.end_all_sessions(session, fam.caregiver.id)
    session.commit()
    undo.click()
    page.wait_for_url(re.compile(r"/login\?next=/today$"))
    expect(page.locator("#card-" + str(fam.morning.id))).to_have_count(0)
    page.fill("input[name=email]", fam.caregiver.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/today")

    session.expire_all()
    stored = session.scalars(select(CompletionLog)).all()
    assert [(log.assignment_id, log.deleted_at) for log in stored] == [(fam.morning.id, None)]

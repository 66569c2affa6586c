"""A real phone-sized Chromium against a real server: log online, log offline, sync.

Uses the shared browser fixtures of ``tests/browser.py``: the machine's Chromium (Debian
package ``chromium``; `.ci/run` installs it), never a browser downloaded by Playwright, and
skipped when it is absent.
"""

import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from homeprogram import clock as app_clock
from homeprogram.extensions import db
from homeprogram.models import Activity, ClipStatus, CompletionLog, MediaClip, Organization
from homeprogram.services import library, media_storage, push, reminders, video
from homeprogram.services.vapid import load_keys
from tests.browser import PHONE, LiveServer, check_accessibility, screenshot
from tests.caregiver_setup import family
from tests.clips import Clip
from tests.conftest import TEST_PASSWORD
from tests.push_service import LocalPushService

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(live_server: LiveServer, browser: Any) -> Iterator[Any]:
    """A phone-sized browser context whose relative URLs go to the live server; its pages'
    clock is the app's (a tap's time must be the pinned day's, as on a real phone)."""
    context = browser.new_context(base_url=live_server.origin, viewport=PHONE, is_mobile=True)
    context.clock.install(time=app_clock.now())
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
    page.click("form:has(input[name=password]) button[type=submit]")
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
    page.click("form:has(input[name=password]) button[type=submit]")
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
    page.click("form:has(input[name=password]) button[type=submit]")
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
    context.clock.install(time=app_clock.now())
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", fam.caregiver.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
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
    page.click("form:has(input[name=password]) button[type=submit]")
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
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url("**/today")

    session.expire_all()
    stored = session.scalars(select(CompletionLog)).all()
    assert [(log.assignment_id, log.deleted_at) for log in stored] == [(fam.morning.id, None)]


def _kept_by_the_worker(page: Any, email: str) -> None:
    """Sign in, then load today once more under the service worker, which keeps the page as
    it was served (with the ids the server wrote into its forms)."""
    _sign_in(page, email)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()


def _tap_done(card: Any) -> None:
    """Tap Done once and wait until the card takes a new tap: a second tap within 0.7 s is
    the second half of a double tap, left out on purpose."""
    from playwright.sync_api import expect

    card.locator("[data-done-button]").click()
    expect(card.locator("form[data-offline-log]")).not_to_have_attribute("data-busy", "1")


def _queued(page: Any) -> int:
    return page.evaluate("HPQueue.all().then(entries => entries.length)")


def test_every_tap_online_or_offline_is_stored_once(phone, factory, session):
    """Issue 14's repro: Done online on a twice-a-day card; the app opened again offline
    from the phone; Done twice more on that card and once on another; back online: four
    taps, four logs, each stored once."""
    from playwright.sync_api import expect

    fam = family(factory)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _kept_by_the_worker(page, fam.caregiver.email)

    bedtime = page.locator(f"#card-{fam.bedtime.id}")
    _tap_done(bedtime)
    expect(bedtime.locator(".card-status")).to_contain_text("1 of 2 done")

    phone.set_offline(True)
    page.reload()
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    morning = page.locator(f"#card-{fam.morning.id}")
    _tap_done(bedtime)
    _tap_done(bedtime)
    _tap_done(morning)
    expect(bedtime.locator("[data-pending-count]")).to_have_text("(2)")
    expect(morning.locator("[data-pending]")).to_be_visible()
    assert _queued(page) == 3

    phone.set_offline(False)
    assert _queue_drains(page)
    expect(bedtime.locator(".card-status")).to_contain_text("+1 extra")
    expect(morning.locator(".card-status")).to_contain_text("Done")
    expect(page.locator("[data-rejected]:visible")).to_have_count(0)

    session.expire_all()
    stored = session.scalars(select(CompletionLog).order_by(CompletionLog.id)).all()
    assert sorted(log.assignment_id for log in stored) == sorted(
        [fam.bedtime.id] * 3 + [fam.morning.id]
    )
    assert len({log.client_id for log in stored}) == 4
    assert all(log.deleted_at is None and log.local_date == fam.today for log in stored)
    assert errors == []


def test_a_card_tapped_offline_says_only_that_it_waits_on_the_phone(phone, factory):
    """Offline, a tapped card's status is "saved on this phone, will sync", not "To do" beside
    "Log an extra session"; its button says Done while sessions are still due, then offers
    an extra session; after a reload from the phone it says the same."""
    from playwright.sync_api import expect

    fam = family(factory)
    page = phone.new_page()
    _kept_by_the_worker(page, fam.caregiver.email)
    phone.set_offline(True)
    bedtime = page.locator(f"#card-{fam.bedtime.id}")
    label = bedtime.locator("[data-button-label]")
    expect(bedtime.locator(".card-status")).to_contain_text("To do")

    _tap_done(bedtime)
    expect(bedtime.locator("[data-pending]")).to_contain_text("Saved on this phone, will sync.")
    expect(bedtime.locator(".card-status")).to_be_hidden()
    expect(bedtime).not_to_contain_text("To do", use_inner_text=True)
    expect(label).to_have_text("Done")  # the second session of the day is still due

    _tap_done(bedtime)
    expect(bedtime.locator("[data-pending-count]")).to_have_text("(2)")
    expect(label).to_have_text("Log an extra session")
    expect(bedtime.locator(".card-status")).to_be_hidden()

    page.reload()
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(bedtime.locator("[data-pending]")).to_contain_text("Saved on this phone, will sync.")
    expect(bedtime.locator(".card-status")).to_be_hidden()
    expect(label).to_have_text("Log an extra session")
    screenshot(page, "today-offline-taps")
    check_accessibility(page, "today offline with taps on the phone")


def test_a_refused_tap_is_not_counted_as_saved_and_says_why(phone, factory, session):
    """A tap waiting on the phone whose client_id the server holds for another session (409)
    is not saved and not counted as saved: its card says so and why, still after a reload
    (it is not sent again), until the family dismisses it."""
    from playwright.sync_api import expect

    fam = family(factory)
    taken = str(uuid.uuid4())
    earlier = app_clock.now() - timedelta(hours=1)
    session.add(
        CompletionLog(
            client_id=taken,
            assignment_id=fam.bedtime.id,
            child_id=fam.child.id,
            logged_by_id=fam.caregiver.id,
            occurred_at=earlier,
            local_date=fam.today,
        )
    )
    session.commit()
    page = phone.new_page()
    _sign_in(page, fam.caregiver.email)
    page.evaluate(
        """([clientId, assignmentId, childId, userId]) => HPQueue.put({
             client_id: clientId, assignment_id: assignmentId, child_id: childId,
             user_id: userId, occurred_at: new Date().toISOString(),
             queued_at: new Date().toISOString()})""",
        [taken, fam.bedtime.id, fam.child.id, fam.caregiver.id],
    )

    page.reload()  # opening the app replays the queue
    refused = page.locator(f"#card-{fam.bedtime.id} [data-rejected]")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text(
        "Not saved: another session is already stored under this tap's code."
    )
    expect(refused).to_contain_text("Tapped at")
    page.reload()
    expect(refused).to_be_visible()
    screenshot(page, "today-refused-tap")
    check_accessibility(page, "today with a refused tap")
    session.expire_all()
    assert len(session.scalars(select(CompletionLog)).all()) == 1

    refused.get_by_role("button", name=re.compile("^OK")).click()
    expect(refused).to_be_hidden()
    assert _queued(page) == 0
    page.reload()
    expect(refused).to_be_hidden()
    expect(page.locator(f"#card-{fam.bedtime.id} .card-status")).to_contain_text("1 of 2 done")


def _reminder_as_received(app: Any, session: Any, fam: Any, tmp_path: Any) -> bytes:
    """The reminder for ``fam.child`` as the phone receives it: sent by the reminder job
    through the local push service, which decrypts it with the device's keys."""
    session.add(reminders.default_plan(fam.caregiver.id, fam.child.id))
    session.commit()
    sender = push.PushSender(
        keys=load_keys(tmp_path / "vapid", {}),
        contact="mailto:ops@sunrise-therapy.org",
        sleep=lambda _seconds: None,
        policy=push.EndpointPolicy(allow_insecure=True),  # the local http push service
    )
    slot = reminders.slot_instant(
        fam.today, reminders.parse_hhmm("17:00"), ZoneInfo(fam.child.timezone)
    )
    with LocalPushService() as service:
        device = service.device()
        push.save_subscription(
            session, fam.caregiver.id, device.subscription(), "Phone", allow_insecure=True
        )
        with app.app_context():
            run = reminders.run_due_reminders(db.transaction, sender, slot)
        assert run.sent == 1
        [received] = service.received_by(device)
    assert received.payload is not None
    return received.payload


def _until(page: Any, script: str, seconds: float = 10) -> Any:
    """Evaluate ``script`` until it gives something truthy (or time is up: the last value)."""
    deadline = time.monotonic() + seconds
    value = page.evaluate(script)
    while not value and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        value = page.evaluate(script)
    return value


def test_a_reminder_opens_its_childs_today_offline(phone, live_server, factory, session, tmp_path):
    """Two children; the family last opened the first one's today. A reminder for the second
    arrives (the push, as the push service delivered it, handed to the service worker); later,
    offline, its link opens the second child's today from the phone, not the first's, and
    each child's address keeps its own page."""
    from playwright.sync_api import expect

    fam = family(factory)  # Sam
    ana = factory.child(session.get(Organization, fam.child.organization_id), name="Ana")
    factory.member(ana, fam.caregiver, "caregiver")  # Ana sorts first: /today is hers
    payload = _reminder_as_received(live_server.app, session, fam, tmp_path)

    phone.grant_permissions(["notifications"], origin=live_server.origin)
    page = phone.new_page()
    _kept_by_the_worker(page, fam.caregiver.email)
    expect(page.locator("h1")).to_have_text("Today with Ana")

    cdp = phone.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(r["registrationId"] for r in event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.origin,
            "registrationId": registrations[0],
            "data": payload.decode(),
        },
    )
    shown = _until(
        page,
        """navigator.serviceWorker.ready
             .then((registration) => registration.getNotifications())
             .then((shown) => shown.map((n) => n.data.url))""",
    )
    [url] = shown
    # The worker fetches the reminder's page when the push arrives; give it the moment.
    _until(
        page,
        f"""caches.open("hp-pages-v1").then((cache) => cache.match({url!r}))
              .then((kept) => Boolean(kept))""",
    )

    phone.set_offline(True)
    page.goto(url)  # where a tap on the notification leads
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Today with Sam")
    expect(page.locator(f"#card-{fam.bedtime.id}")).to_be_visible()
    page.goto(f"/today?child={fam.child.id}")  # a reminder sent before this change
    expect(page.locator("h1")).to_have_text("Today with Sam")
    page.goto("/today")
    expect(page.locator("h1")).to_have_text("Today with Ana")
    page.goto(f"/children/{ana.id}/today")
    expect(page.locator("h1")).to_have_text("Today with Ana")


def test_todays_pictures_and_kept_videos_open_offline(
    phone, live_server, factory, session, tmp_path
):
    """The worker keeps a kept Today's pictures with it; the videos only when the parent asks,
    and then they play offline with range requests, as from the server."""
    from playwright.sync_api import expect

    app = live_server.app
    with app.app_context():
        library.sync_builtin(session)
        session.commit()
    sequence = session.scalar(select(Activity).where(Activity.slug == "handwashing-sequence"))
    org = factory.org()
    therapist = factory.therapist(org, email="ot@pictures.test")
    child = factory.child(org, therapist=therapist, name="Ines")
    caregiver = factory.caregiver(child, email="p@pictures.test")
    today = app_clock.now().date()
    factory.assignment(child, sequence, start_date=today - timedelta(days=1))
    store = media_storage.storage(app)
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    with store.new_upload_file() as upload:
        upload.write(source.read_bytes())
    key = media_storage.new_key()
    store.adopt(Path(upload.name), key)
    done = video.transcode(source, store.path(key, "mp4"), store.path(key, "jpg"))
    clip = MediaClip(
        organization_id=org.id,
        child_id=child.id,
        activity_id=sequence.id,
        key=key,
        status=ClipStatus.READY,
        width=done.width,
        height=done.height,
        duration_seconds=done.duration,
        stored_bytes=store.size(key),
    )
    session.add(clip)
    session.commit()
    mp4 = store.path(key, "mp4").read_bytes()

    page = phone.new_page()
    _kept_by_the_worker(page, caregiver.email)
    pictures = "caches.open('hp-pages-pictures-v1').then(c => c.keys()).then(k => k.length)"
    assert _until(page, f"{pictures}.then(n => n >= 6)")  # the picture and its 5 steps
    keep = page.get_by_role("button", name=re.compile("Keep today's videos"))
    keep.click()
    expect(page.locator("[data-keep-videos-status]")).to_contain_text("on this phone")

    # Nothing from the browser's own HTTP cache: what shows offline is what the worker kept.
    phone.new_cdp_session(page).send("Network.clearBrowserCache")
    phone.set_offline(True)
    page.reload()
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    card = page.locator("[data-card]").first
    card.locator("summary").click()
    images = card.locator("img")
    assert images.count() == 7  # the card's, the one in Steps and the five steps
    for n in range(images.count()):
        images.nth(n).scroll_into_view_if_needed()
    widths = "Array.from(document.querySelectorAll('[data-card] img')).map(i => i.naturalWidth)"
    assert _until(page, f"{widths}.every(w => w > 0)"), page.evaluate(widths)
    part = page.evaluate(
        f"""fetch('/media/{clip.id}/video.mp4', {{headers: {{Range: 'bytes=10-109'}}}})
        .then(r => r.arrayBuffer().then(b => [r.status, r.headers.get('Content-Range'),
              Array.from(new Uint8Array(b))]))"""
    )
    assert part[0] == 206 and part[1] == f"bytes 10-109/{len(mp4)}"
    assert bytes(part[2]) == mp4[10:110]

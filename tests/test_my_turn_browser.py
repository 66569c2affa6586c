""" "My turn" in a real Chromium, on a tablet in landscape and on a phone: a child walks an
activity and taps "I did it!" online and offline, cannot leave without the grown-up's
hold and sum, and every session is stored once. axe-core checks each new page.
"""

import re
import time
from typing import Any

import pytest
from sqlalchemy import select

from homeprogram.models import CompletionLog
from tests.browser import PHONE, LiveServer, check_accessibility, log_in, screenshot
from tests.caregiver_setup import family
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

TABLET_LANDSCAPE = {"width": 1024, "height": 768}
MY_TURN_CACHE = "hp-pages-my-turn-v1"
# Every target a child presses on these pages is at least this big (CSS px).
CHILD_TARGET = 64
_SMALL_TARGETS = """(least) => Array.from(document.querySelectorAll(
    "main a[href], main button, main input:not([type=hidden])"))
  .filter((el) => el.getClientRects().length)
  .map((el) => { const b = el.getBoundingClientRect();
    return {text: (el.innerText || el.name || "").trim().slice(0, 30),
            width: Math.round(b.width), height: Math.round(b.height)}; })
  .filter((b) => b.width < least - 1 || b.height < least - 1)"""


_STAR_ANIMATION = """() => getComputedStyle(
    document.querySelector(".mt-celebrate__star, .mt-yay__star"), "::before").animationName"""


def _until(page: Any, script: str, seconds: float = 10) -> Any:
    """Evaluate ``script`` until it gives something truthy; a page that reloads meanwhile
    (the cards page does once the queue was sent) is asked again."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + seconds
    value = None
    while not value and time.monotonic() < deadline:
        try:
            page.wait_for_load_state()
            value = page.evaluate(script)
        except Error:
            value = None
        if not value:
            page.wait_for_timeout(100)
    return value


def _stored(session: Any, seconds: float = 10) -> list[CompletionLog]:
    """The logs in the database once they stop changing for a moment."""
    deadline = time.monotonic() + seconds
    last: list[Any] = []
    while time.monotonic() < deadline:
        session.expire_all()
        now = session.scalars(select(CompletionLog).order_by(CompletionLog.id)).all()
        if [log.id for log in now] == [log.id for log in last] and now:
            return list(now)
        last = list(now)
        time.sleep(0.3)
    return list(last)


def _visible_step(page: Any) -> list[str]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(".mt-step"))
             .filter((s) => s.getClientRects().length).map((s) => s.id)"""
    )


def _hold(page: Any, button: Any, ms: int) -> None:
    button.hover()
    page.mouse.down()
    page.wait_for_timeout(ms)
    page.mouse.up()


@pytest.mark.parametrize("viewport", [TABLET_LANDSCAPE, PHONE], ids=["tablet", "phone"])
def test_a_child_walks_an_activity_online_and_offline_and_cannot_leave_alone(
    viewport: dict[str, int], live_server: LiveServer, new_page: Any, factory: Any, session: Any
) -> None:
    from playwright.sync_api import expect

    fam = family(factory)
    home = f"/children/{fam.child.id}/my-turn"
    page = new_page(viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_server, fam.caregiver.email, TEST_PASSWORD)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    name = "tablet" if viewport is TABLET_LANDSCAPE else "phone"

    # The caregiver: from Today to the set-up page, a jar, then the phone is handed over.
    page.get_by_role("link", name="“My turn” for Sam").click()
    check_accessibility(page, f"my turn set-up ({name})")
    page.get_by_label("What the stars are for").fill("Park trip")
    page.get_by_label("Stars to fill the jar").fill("3")
    page.get_by_role("button", name="Start the jar").click()
    expect(page.locator(".flash")).to_contain_text("The star jar is ready.")
    page.get_by_role("button", name="Start “My turn”").click()
    page.wait_for_url(f"**{home}")
    # The browser's Back button is no way out either.
    for _ in range(2):
        page.go_back()
        page.wait_for_url(re.compile(rf"{re.escape(home)}(#.*)?$"))
        expect(page.locator("h1")).to_have_text("Sam’s turn")

    # The child's screen: first–then, big cards, the jar.
    strip = page.locator("[data-strip] li:visible")
    expect(strip).to_have_count(2)
    expect(strip.first).to_contain_text("First")
    expect(strip.first).to_contain_text("Button practice")
    expect(strip.nth(1)).to_contain_text("Then")
    expect(page.locator("[data-jar-count]")).to_have_text("0 of 3 stars")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert page.evaluate(_SMALL_TARGETS, CHILD_TARGET) == []
    check_accessibility(page, f"my turn home ({name})")
    screenshot(page, f"my-turn-home-{name}")

    # One activity, a step at a time, then "I did it!" online.
    page.locator(f"a.mt-card[data-assignment-id='{fam.morning.id}']").click()
    page.wait_for_url(f"**{home}/activities/{fam.morning.id}")
    assert _visible_step(page) == ["step-1"]
    expect(page.locator("#step-1")).to_contain_text("Hold the shirt.")
    check_accessibility(page, f"my turn activity ({name})")
    screenshot(page, f"my-turn-step-{name}")
    page.locator("#step-1").get_by_role("link", name="Next").click()
    assert _visible_step(page) == ["step-2"]
    expect(page.locator("#step-2")).to_contain_text("Push the button.")
    read_aloud = page.locator("#step-2").get_by_role("button", name="Read aloud")
    expect(read_aloud).to_be_visible()
    read_aloud.click()  # the browser's speech synthesis, in the family's language
    page.locator("#step-2").get_by_role("link", name="Next").click()
    assert _visible_step(page) == ["finish"]
    assert page.evaluate(_SMALL_TARGETS, CHILD_TARGET) == []
    page.get_by_role("button", name="I did it!").click()
    celebration = page.locator("[data-celebrate]")
    expect(celebration).to_be_visible()
    expect(celebration).to_contain_text("You did it!")
    expect(celebration.locator("[data-jar-count]")).to_have_text("1 of 3 stars")
    expect(page.locator("[data-live]")).to_contain_text("A star for your jar!")
    assert page.evaluate(_STAR_ANIMATION) == "mt-pop"  # a short celebration
    check_accessibility(page, f"my turn celebration ({name})")
    screenshot(page, f"my-turn-did-it-{name}")
    assert [log.assignment_id for log in _stored(session)] == [fam.morning.id]

    page.get_by_role("link", name="Back to my cards").click()
    page.wait_for_url(f"**{home}")
    expect(page.locator(f"a.mt-card[data-assignment-id='{fam.morning.id}']")).to_contain_text(
        "Done"
    )
    expect(page.locator("[data-strip] li:visible").first).to_contain_text("Squeeze the putty")

    # Offline: the screen was kept by the service worker with its activities.
    activity = f"{home}/activities/{fam.bedtime.id}"
    assert _until(
        page, f"caches.match({activity!r}, {{cacheName: {MY_TURN_CACHE!r}}}).then(Boolean)"
    )
    page.context.set_offline(True)
    page.locator(f"a.mt-card[data-assignment-id='{fam.bedtime.id}']").click()
    page.wait_for_url(f"**{activity}")
    page.locator("#step-1").get_by_role("link", name="Next").click()
    page.locator("#step-2").get_by_role("link", name="Next").click()
    page.get_by_role("button", name="I did it!").click()
    expect(page.locator("[data-celebrate]")).to_be_visible()
    expect(page.locator("[data-live]")).to_contain_text("Saved on this phone")
    assert page.evaluate("HPQueue.all().then((entries) => entries.length)") == 1
    assert len(_stored(session, seconds=1)) == 1
    # Offline, Today (kept earlier by the worker) is not a way out: the child's screen opens.
    page.goto(live_server.url(f"/children/{fam.child.id}/today"))
    expect(page.locator("h1")).to_have_text("Sam’s turn")
    expect(page.locator("[data-jar-count]")).to_have_text("2 of 3 stars")

    # Back online: the tap is sent once, and the page shows what the server has.
    page.context.set_offline(False)
    assert _until(page, "HPQueue.all().then((entries) => entries.length === 0)")
    stored = _stored(session)
    assert sorted(log.assignment_id for log in stored) == sorted([fam.morning.id, fam.bedtime.id])
    assert len({log.client_id for log in stored}) == 2
    expect(page.locator("[data-jar-count]")).to_have_text("2 of 3 stars")

    # No way out without the grown-up: Today leads back; a tap on "Grown-ups" does nothing.
    page.goto(live_server.url("/today"))
    page.wait_for_url(f"**{home}")
    grown_ups = page.get_by_role("button", name=re.compile("^Grown-ups"))
    grown_ups.click()
    page.wait_for_timeout(300)
    assert page.url.endswith(home)
    _hold(page, grown_ups, 2400)
    page.wait_for_url(f"**{home}/leave*")
    check_accessibility(page, f"my turn leave ({name})")
    screenshot(page, f"my-turn-leave-{name}")
    label = page.locator("label[for=answer]")
    a, b = (int(n) for n in (label.get_attribute("data-sum") or "").split())
    page.get_by_label(label.inner_text()).fill(str(a + b))
    page.get_by_role("button", name="Leave “My turn”").click()
    page.wait_for_url(f"**/children/{fam.child.id}/today")
    expect(page.locator("h1")).to_have_text("Today with Sam")
    # The caregiver can undo the child's sessions: they are the caregiver's own.
    card = page.locator(f"#card-{fam.morning.id}")
    card.locator(".log-list > summary").click()  # a done card keeps its sessions folded
    expect(card.get_by_role("button", name=re.compile("^Undo"))).to_have_count(1)
    assert len(_stored(session)) == 2

    page.goto(live_server.url(f"{home}/schedule?span=week"))
    expect(page.locator(".mt-day")).to_have_count(7)
    check_accessibility(page, f"my turn schedule ({name})")
    assert errors == []


def test_dark_mode_and_reduced_motion(
    live_server: LiveServer, new_page: Any, factory: Any, session: Any
) -> None:
    """In dark mode the new pages pass axe too; asking for reduced motion stills the
    celebration."""
    from playwright.sync_api import expect

    fam = family(factory)
    home = f"/children/{fam.child.id}/my-turn"
    page = new_page(PHONE, color_scheme="dark", reduced_motion="reduce")
    log_in(page, live_server, fam.caregiver.email, TEST_PASSWORD)
    for n, path in enumerate(
        (
            f"{home}/setup",
            home,
            f"{home}/activities/{fam.morning.id}#step-2",
            f"{home}/leave",
            f"{home}/schedule?span=week",
        )
    ):
        page.goto(live_server.url(path))
        check_accessibility(page, f"{path} (dark)")
        screenshot(page, f"my-turn-dark-{n}")
    page.goto(live_server.url(f"{home}?done=1"))
    expect(page.locator(".mt-yay")).to_contain_text("You did it!")
    assert page.evaluate(_STAR_ANIMATION) == "none"

"""The layout of the key pages, on a phone and a tablet, in light and dark mode.

Geometry only (bounding boxes, scroll sizes), never pixels: anti-aliasing and font hinting
cannot fail it. It guards what a person would notice: the page scrolling sideways, the first
activity below the fold on a phone, the header or the phone tab bar missing or covering the
content, targets smaller than 44x44 CSS px (inline text links excepted, as WCAG 2.5.8 does).
"""

import itertools
from typing import Any

import pytest

from tests.browser import PHONE, log_in, screenshot
from tests.conftest import TEST_PASSWORD
from tests.real_day import RealDay, real_day

pytestmark = pytest.mark.browser

WIDE = {"width": 1024, "height": 768}
SLACK = 1  # px: sub-pixel rounding

MEASURE = """() => {
  const se = document.scrollingElement;
  const box = (el) => {
    if (!el || !el.getClientRects().length) { return null; }
    const b = el.getBoundingClientRect();
    return {top: b.top, bottom: b.bottom, left: b.left, right: b.right,
            width: b.width, height: b.height};
  };
  const targets = "a[href], button, summary, select, textarea, label.choice-option,"
    + " input:not([type=hidden])";
  const small = [];
  for (const el of document.querySelectorAll(targets)) {
    if (!el.getClientRects().length || el.closest(".visually-hidden, .skip-link")) { continue; }
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") { continue; }
    // Inline links in a sentence are exempt (WCAG 2.5.8); so is a radio or checkbox whose
    // label is the target.
    if (el.matches("a") && style.display === "inline") { continue; }
    const label = el.matches("input[type=radio], input[type=checkbox]") && el.closest("label");
    if (label && label.getBoundingClientRect().height >= 44 - 1) { continue; }
    const b = el.getBoundingClientRect();
    if (b.width < 44 - 1 || b.height < 44 - 1) {
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.name || el.id || "")
        .trim().slice(0, 30)}" ${Math.round(b.width)}x${Math.round(b.height)}`);
    }
  }
  const rgb = getComputedStyle(document.documentElement).backgroundColor.match(/\\d+/g).map(Number);
  const main = document.querySelector("main");
  return {
    scrollWidth: se.scrollWidth, clientWidth: se.clientWidth,
    scrollHeight: se.scrollHeight, innerHeight: window.innerHeight,
    header: box(document.querySelector("header.topbar")),
    main: box(main),
    last: box(main && main.lastElementChild),
    tabbar: box(document.querySelector(".tabbar")),
    tabbarFixed: !!document.querySelector(".tabbar")
      && getComputedStyle(document.querySelector(".tabbar")).position === "fixed",
    cards: Array.from(document.querySelectorAll("[data-card]"), box),
    small: small,
    background: (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255,
  };
}"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two boxes share more than a rounding pixel."""
    across = min(a["right"], b["right"]) - max(a["left"], b["left"])
    down = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return across > SLACK and down > SLACK


def _measure(page: Any) -> dict[str, Any]:
    return page.evaluate(MEASURE)


def _check_page(page: Any, name: str, scheme: str) -> dict[str, Any]:
    """The checks every page gets; returns the measures (at the top of the page)."""
    page.evaluate("window.scrollTo(0, 0)")
    m = _measure(page)
    assert m["scrollWidth"] <= m["clientWidth"] + SLACK, f"{name}: scrolls sideways {m}"
    assert m["header"] and m["main"], f"{name}: header or main missing"
    assert m["header"]["bottom"] <= m["main"]["top"] + SLACK, f"{name}: header covers main"
    assert not m["small"], f"{name}: targets under 44x44 px: {m['small']}"
    dark = m["background"] < 0.3
    assert dark == (scheme == "dark"), f"{name}: not in {scheme} mode ({m['background']:.2f})"
    return m


def _check_tabbar(page: Any, name: str, phone: bool) -> None:
    """Families' tab bar: at the bottom of a phone's screen, never over the page's end; in
    the header on wider screens."""
    m = _measure(page)
    bar, header = m["tabbar"], m["header"]
    assert bar, f"{name}: no tab bar"
    if not phone:
        assert not m["tabbarFixed"], f"{name}: tab bar fixed on a wide screen"
        assert header["top"] - SLACK <= bar["top"] and bar["bottom"] <= header["bottom"] + SLACK
        return
    assert m["tabbarFixed"], f"{name}: tab bar not at the bottom"
    assert abs(bar["bottom"] - m["innerHeight"]) <= SLACK, f"{name}: tab bar not at the bottom"
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    m = _measure(page)
    assert m["last"]["bottom"] <= m["tabbar"]["top"] + SLACK, (
        f"{name}: the tab bar covers the end of the page: {m['last']} vs {m['tabbar']}"
    )
    page.evaluate("window.scrollTo(0, 0)")


def _check_more_menu(page: Any, name: str, viewport: dict[str, int]) -> None:
    """The tab bar's "More" opens a menu that is wholly on the screen, clear of the bar."""
    page.locator(".tabbar summary").click()
    menu = page.locator(".tabbar .menu > ul").bounding_box()
    bar = page.locator(".tabbar").bounding_box()
    assert menu, f"{name}: the More menu did not open"
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= viewport["width"] + SLACK, name
    assert menu["y"] >= 0 and menu["y"] + menu["height"] <= viewport["height"] + SLACK, name
    phone = viewport["width"] < 600
    if phone:
        assert menu["y"] + menu["height"] <= bar["y"] + SLACK, f"{name}: menu under the bar"
    page.locator(".tabbar summary").click()


@pytest.fixture
def day(factory: Any, session: Any) -> RealDay:
    return real_day(factory, session, activities=3)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["phone", "wide"])
def test_key_pages_keep_their_layout(
    live_server: Any, new_page: Any, day: RealDay, viewport: dict[str, int], scheme: str
) -> None:
    """Login, the caregiver's Today and Week, the therapist's dashboard and child page: no
    sideways scroll, header above the content, 44 px targets; on a phone the first activity
    is on the first screen, a three-activity day takes about two screens and the tab bar
    never covers the content."""
    phone = viewport["width"] < 600
    size = "phone" if phone else "wide"

    page = new_page(viewport, color_scheme=scheme)
    page.goto(live_server.url("/login"))
    _check_page(page, f"login ({size}, {scheme})", scheme)

    log_in(page, live_server, day.caregiver.email, TEST_PASSWORD)
    page.goto(live_server.url("/today"))
    name = f"today ({size}, {scheme})"
    m = _check_page(page, name, scheme)
    screenshot(page, f"layout-today-{size}-{scheme}")
    cards = m["cards"]
    assert len(cards) == 3, name
    for one, other in itertools.combinations(cards, 2):
        assert not _overlap(one, other), f"{name}: cards overlap: {one} {other}"
    if phone:
        fold = m["innerHeight"] - m["tabbar"]["height"]
        assert cards[0]["top"] + 100 <= fold, f"{name}: first activity below the fold {m}"
        assert m["scrollHeight"] <= 2.5 * m["innerHeight"], (
            f"{name}: three activities take {m['scrollHeight'] / m['innerHeight']:.1f} screens"
        )
    _check_tabbar(page, name, phone)
    _check_more_menu(page, name, viewport)

    page.goto(live_server.url(f"/children/{day.child.id}/week"))
    name = f"week ({size}, {scheme})"
    _check_page(page, name, scheme)
    screenshot(page, f"layout-week-{size}-{scheme}")
    today = page.locator('th[aria-current="date"]')
    assert today.count() == 1, f"{name}: today is not marked"
    _check_tabbar(page, name, phone)

    staff = new_page(viewport, color_scheme=scheme)
    log_in(staff, live_server, day.therapist.email, TEST_PASSWORD)
    for path, label in [("/dashboard", "dashboard"), (f"/children/{day.child.id}", "child")]:
        response = staff.goto(live_server.url(path))
        assert response is not None and response.ok, path
        _check_page(staff, f"{label} ({size}, {scheme})", scheme)
        screenshot(staff, f"layout-{label}-{size}-{scheme}")

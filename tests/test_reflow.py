"""Reflow (WCAG 2.2 SC 1.4.10): at 320 CSS px with text at 200%, no page scrolls sideways.

Every page of the URL map is opened by every role that may open it: the pages come from the
route table (``tests/route_table.py``), so a new page is checked by construction. A table
may scroll inside its own box, and such a box must be reachable by keyboard and named
(``tabindex="0"``, ``role="region"``, ``aria-label``); the page itself may not scroll.
"""

from datetime import time, timedelta
from typing import Any

import pytest
from flask import Flask, url_for

from tests.adherence_helpers import log
from tests.browser import log_in
from tests.conftest import TEST_PASSWORD
from tests.route_table import PUBLIC, TABLE
from tests.world import build_world

pytestmark = pytest.mark.browser

WIDTH = 320
TOLERANCE = 1  # px: sub-pixel rounding
# One persona per role; "anonymous" is nobody signed in.
ROLES = {
    "anonymous": None,
    "caregiver": "caregiver",
    "teacher": "teacher",
    "therapist": "therapist",
    "admin": "admin",
}
# Spanish runs about 25% longer: the pages families and teachers read, again in Spanish.
IN_SPANISH = {"anonymous-es": None, "caregiver-es": "caregiver", "teacher-es": "teacher"}

# Text at 200% (as a browser's text-size setting does): through the DevTools protocol, so
# the page's CSP does not apply. Then what sticks out, and sideways scroll boxes.
MEASURE = """(width) => {
    document.documentElement.style.fontSize = "200%";
    const page = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
    const scrolls = (el) => {
        const x = getComputedStyle(el).overflowX;
        return (x === "auto" || x === "scroll") && el.scrollWidth > el.clientWidth + 1;
    };
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (typeof el.className === "string" && el.className.trim()
            ? "." + el.className.trim().split(/\\s+/).join(".") : "");
    // Whether an absolutely positioned element between el and box takes its place from
    // outside the box: then the box does not clip it and it widens the page.
    const escapes = (el, box) => {
        let n = el.nodeType === Node.ELEMENT_NODE ? el : el.parentElement;
        while (n && n !== box) {
            const position = getComputedStyle(n).position;
            if (position === "fixed") return true;
            if (position === "absolute") {
                let a = n.parentElement;
                while (a && getComputedStyle(a).position === "static") a = a.parentElement;
                if (!a || !box.contains(a)) return true;
                n = a;
            } else {
                n = n.parentElement;
            }
        }
        return false;
    };
    const clipped = (el) => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== "visible") return !escapes(el, p);
        }
        return false;
    };
    const wide = [];
    const boxes = [];
    for (const el of document.body.querySelectorAll("*")) {
        if (scrolls(el) && el !== document.body) {
            const ok = el.getAttribute("tabindex") === "0" && el.getAttribute("role") === "region"
                && (el.getAttribute("aria-label") || "").trim() !== "";
            if (!ok) boxes.push(name(el));
        }
        const r = el.getBoundingClientRect();
        if (r.width && r.right > width + 1 && !clipped(el)) {
            wide.push(name(el) + " " + Math.round(r.right) + "px");
        }
    }
    // A word too long for its line overflows without widening any element.
    const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let t = texts.nextNode(); t; t = texts.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(t);
        const r = range.getBoundingClientRect();
        if (r.width && r.right > width + 1 && !clipped(t)) {
            const words = t.textContent.trim().slice(0, 40);
            wide.push(`"${words}" in ${name(t.parentElement)} ${Math.round(r.right)}px`);
        }
    }
    return {page, wide: wide.slice(0, 8), boxes};
}"""


def _fuller_day(factory: Any, session: Any, world: Any) -> None:
    """What a family's pages hold on a real day: a second child (the switcher), an activity
    done twice a day with a long name, logged once (progress, undo, details)."""
    child, today = world["child"], world["today"]
    busy = factory.assignment(
        child,
        factory.activity(title="Theraputty treasure hunt with tweezers", classroom_ok=True),
        start_date=today - timedelta(days=20),
        times_per_day=2,
        dose_unit="text",
        dose_text="Find 5 beads, twice a day",
        anchor="after school",
        setting="both",
        measure_name="beads found in 2 minutes",
    )
    log(session, busy, today, at=time(0, 1), by=world.users["caregiver"].id, measure=4, note="Ok")
    log(session, busy, today - timedelta(days=2), response="hard")
    sibling = factory.child(world["org"], therapist=world.users["therapist"], name="Alexandria")
    factory.member(sibling, world.users["caregiver"], "caregiver")


def _pages(app: Flask, world: Any, persona: str | None) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET route this persona may open."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if rule.endpoint == "static" or "GET" not in (rule.methods or ()):
            continue
        entry = TABLE[rule.endpoint]  # test_authz fails when a route is missing here
        if entry.who != PUBLIC and persona not in entry.who:
            continue
        with app.test_request_context():
            pages.append((rule.endpoint, url_for(rule.endpoint, **entry.args(world))))
    return pages


@pytest.mark.parametrize("role", sorted(ROLES) + sorted(IN_SPANISH))
def test_no_page_scrolls_sideways_at_320px_with_text_at_200_percent(
    role, app, factory, session, live_server, new_page
):
    """Every page this role can open fits 320 CSS px at 200% text; tables scroll in a
    focusable, named box of their own."""
    world = build_world(factory, session, app)
    _fuller_day(factory, session, world)
    spanish = role in IN_SPANISH
    persona = IN_SPANISH[role] if spanish else ROLES[role]
    if spanish and persona is not None:
        world.users[persona].locale = "es"
        session.commit()
    page = new_page({"width": WIDTH, "height": 640}, locale="es-US" if spanish else "en-US")
    if persona is not None:
        log_in(page, live_server, world.users[persona].email, TEST_PASSWORD)
    problems = []
    checked = 0
    for endpoint, url in _pages(app, world, persona):
        # JSON, CSV downloads, pictures, the service worker: no page to reflow.
        head = page.request.get(live_server.url(url))
        if not head.headers.get("content-type", "").startswith("text/html"):
            continue
        page.goto(live_server.url(url))
        checked += 1
        found = page.evaluate(MEASURE, WIDTH)
        where = f"{endpoint} ({url} as {role})"
        if spanish:
            assert page.locator("html").get_attribute("lang") == "es", where
        if found["page"] > WIDTH + TOLERANCE:
            problems.append(f"{where}: {found['page']}px wide; sticks out: {found['wide']}")
        if found["boxes"]:
            problems.append(
                f"{where}: sideways scroll box without tabindex/role/label: {found['boxes']}"
            )
    assert checked, f"no HTML page found for {role}"
    assert not problems, "\n".join(problems)

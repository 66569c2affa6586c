"""The strict Content-Security-Policy holds in a real browser: nothing the pages or htmx do
is blocked by it (a blocked inline style is a console error and a style that never applies).
"""

import re
from typing import Any

import pytest

from tests.browser import PHONE, LiveServer, log_in
from tests.caregiver_setup import family
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

# Runs in every document before its own scripts; the page's CSP does not apply to it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}: ${event.sample}`
  );
});
"""


def test_saving_details_on_today_breaks_no_csp_rule(
    live_server: LiveServer, new_page: Any, factory: Any
) -> None:
    """A caregiver logs a session, saves its details and undoes it (htmx swaps the card each
    time): the browser reports no console error and no Content-Security-Policy violation.
    htmx adds a <style> for its request indicators unless told not to (includeIndicatorStyles
    in the htmx-config meta of base.html; the indicator CSS is in app.css)."""
    from playwright.sync_api import expect

    fam = family(factory)
    page = new_page(PHONE)
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.add_init_script(RECORD_VIOLATIONS)

    log_in(page, live_server, fam.caregiver.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/today"))
    card = page.locator(f"#card-{fam.morning.id}")
    card.get_by_role("button", name=re.compile(r"^Done")).click()
    details = card.locator("details.log-details")
    details.get_by_label("Minutes spent").wait_for(state="attached")
    if not details.get_by_label("Minutes spent").is_visible():
        details.locator("summary").click()
    details.get_by_label("Minutes spent").fill("6")
    details.get_by_label("Easy", exact=True).check()
    details.get_by_label("Note (optional)").fill("Quick today.")
    with page.expect_response(lambda response: response.request.method == "POST"):
        details.get_by_role("button", name="Save details").click()
    expect(card).to_contain_text("6 min")
    card.get_by_role("button", name=re.compile(r"^Undo")).click()
    expect(card.get_by_role("button", name=re.compile(r"^Done"))).to_be_visible()
    # Violations are reported asynchronously: let the page settle before reading them.
    page.wait_for_load_state("networkidle")

    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations
    assert console_errors == [], console_errors

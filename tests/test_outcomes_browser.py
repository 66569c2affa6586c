"""The progress report with every outcome (GAS levels and T-scores, COPM change, assessment
results with a long instrument name, adherence) prints on A4 and US Letter without anything
sticking out of the page, in English and in the family's Spanish; the outcome pages pass
axe-core."""

from typing import Any

import pytest
from playwright.sync_api import expect

from homeprogram.models.base import utcnow
from homeprogram.services.adherence import local_today
from tests.browser import TABLET, check_accessibility, log_in, screenshot
from tests.conftest import TEST_PASSWORD
from tests.outcomes import DAY, record_outcomes

pytestmark = pytest.mark.browser

PAPER = {"a4": 794, "letter": 816}  # CSS px at 96 per inch: 210 mm, 8.5 in

# Elements whose right edge passes the page's width (a table cell that does not wrap).
STICKING_OUT = """(width) => [...document.querySelectorAll("main *")]
    .filter((el) => el.getBoundingClientRect().right > width + 1)
    .map((el) => el.tagName.toLowerCase() + " " + (el.textContent || "").trim().slice(0, 40))"""


@pytest.fixture
def world(factory: Any, session: Any) -> dict[str, Any]:
    org = factory.org()
    therapist = factory.therapist(org, admin=True, email="ot@example.org", name="Jordan Lee")
    child = factory.child(org, therapist=therapist, name="Sam")
    today = local_today(child.timezone, utcnow())
    factory.assignment(child, factory.activity(title="Sock-on race"), start_date=today - 40 * DAY)
    goal = record_outcomes(session, child, therapist, today)
    child.family_language = "es"
    session.commit()
    return {"child": child.id, "goal": goal.id, "today": today}


@pytest.mark.parametrize("language", ["en", "es"])
def test_report_with_outcomes_prints_without_overflow(
    live_server: Any, new_page: Any, world: dict[str, Any], language: str
) -> None:
    page = new_page(TABLET)
    log_in(page, live_server, "ot@example.org", TEST_PASSWORD)
    page.goto(live_server.url(f"/children/{world['child']}/report"))
    page.locator("select[name=language]").select_option(language)
    page.locator("input[name=start]").fill((world["today"] - 60 * DAY).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Show report").click()
    report = page.locator("main")
    expect(report.locator("section[aria-labelledby=r-gas]")).to_be_visible()
    expect(report.locator("section[aria-labelledby=r-copm]")).to_be_visible()
    expect(report.locator("section[aria-labelledby=r-results]")).to_contain_text("(Beery VMI)")
    assert page.locator("html").get_attribute("lang") == language
    page.emulate_media(media="print")
    for paper, width in PAPER.items():
        page.set_viewport_size({"width": width, "height": 1123})
        screenshot(page, f"report-outcomes-{language}-{paper}")
        page_width = page.evaluate("() => document.documentElement.scrollWidth")
        out = page.evaluate(STICKING_OUT, width)
        assert page_width <= width and not out, (
            f"the {language} report overflows {paper} paper ({page_width} px > {width}): {out}"
        )


def test_outcome_pages_have_no_accessibility_violations(
    live_server: Any, new_page: Any, world: dict[str, Any]
) -> None:
    page = new_page(TABLET)
    log_in(page, live_server, "ot@example.org", TEST_PASSWORD)
    child, goal = world["child"], world["goal"]
    for path in (
        f"/children/{child}/progress",
        f"/children/{child}/goals/{goal}",
        f"/children/{child}/goals/{goal}/edit",
        f"/children/{child}/copm",
        f"/children/{child}/assessments",
        "/organization/instruments",
    ):
        response = page.goto(live_server.url(path))
        assert response is not None and response.ok, path
        check_accessibility(page, path)

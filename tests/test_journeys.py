"""End-to-end journeys in Chromium: therapist on a tablet, caregiver and teacher on phones.

Every page the journeys reach is checked with axe-core (WCAG 2.2 AA) and photographed;
the screenshots' folder is printed at the end of the run.
"""

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from homeprogram.models.base import utcnow
from homeprogram.services import library
from tests.browser import PHONE, TABLET, LiveServer, check_accessibility, log_in, screenshot
from tests.conftest import TEST_PASSWORD
from tests.smtp_server import body, smtp_fixture, use_smtp  # noqa: F401 (the smtp fixture)

pytestmark = pytest.mark.browser

PASSWORD = "journey password 2026"
# Built-in library activities the therapist finds by search and assigns; the last one is
# also for the classroom.
ACTIVITIES = ["Big button practice", "Socks on: the donut method", "Wall push-ups"]
A4_WIDTH_PX = 794  # 210 mm at 96 CSS px per inch
LETTER_WIDTH_PX = 816  # 8.5 in


@pytest.fixture
def built_in_library(session: Session) -> None:
    library.sync_builtin(session)
    session.commit()


def step(page: Any, name: str) -> None:
    """One step of a journey: the page passes axe-core and is photographed."""
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    check_accessibility(page, name)


def sign_up_therapist(page: Any, server: LiveServer, smtp: Any) -> None:
    """Ask to sign up, follow the emailed link, choose a password."""
    use_smtp(server.app, smtp)
    page.goto(server.url("/signup"))
    step(page, "j1-01-signup")
    page.get_by_label("Your name").fill("Jordan Lee")
    page.get_by_label("Email").fill("jordan@clinic.example")
    page.get_by_label("Clinic or school team").fill("Maple Street OT")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    step(page, "j1-01-signup-check-email")
    [message] = smtp.messages
    link = re.search(r"https?://\S+/signup/confirm/\S+", body(message))
    assert link, body(message)
    page.goto(link.group(0))
    step(page, "j1-01-signup-password")
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Create organization").click()
    assert "/signup" not in page.url, page.url


def add_child(page: Any, server: LiveServer) -> int:
    page.goto(server.url("/children/new"))
    step(page, "j1-02-add-child")
    page.get_by_label("First name or nickname").fill("Sam")
    page.get_by_label("Birth month").select_option("3")
    page.get_by_label("Birth year").fill("2019")
    page.get_by_role("button", name="Add child").click()
    page.wait_for_url(re.compile(r"/children/\d+"))
    match = re.search(r"/children/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def assign_from_library(page: Any, server: LiveServer, child_id: int) -> list[str]:
    """Find each activity with the picker's search and add it with the suggested dose."""
    for n, title in enumerate(ACTIVITIES):
        page.goto(server.url(f"/children/{child_id}"))
        with page.expect_response(lambda r: "/program/picker" in r.url):
            page.get_by_label("Find an activity to add").fill(title.split(":")[0])
        page.locator("#picker-results .picker-item").filter(has_text=title).first.click()
        form = page.locator("#add-slot form")
        form.wait_for()
        # The form suggests school days; a home program runs at weekends too, and the
        # journey runs on any day the clock is pinned to (CI pins a Saturday and a Sunday).
        for weekend_day in ("Saturday", "Sunday"):
            form.get_by_label(weekend_day, exact=True).check()
        if n == len(ACTIVITIES) - 1:
            form.get_by_label("Where").select_option("both")
        step(page, f"j1-03-assign-{n + 1}")
        with page.expect_navigation():
            form.get_by_role("button", name="Add to the program").click()
        assert title in page.locator("main").inner_text()
    return ACTIVITIES


def save_template(page: Any, server: LiveServer, child_id: int) -> None:
    page.goto(server.url(f"/children/{child_id}"))
    page.get_by_text("Save this program as a template for other children").click()
    section = page.locator("#templates")
    section.get_by_label("Template name").fill("Sam's starter")
    for box in section.locator("input[type=checkbox]").all():
        box.check()
    step(page, "j1-04-template")
    with page.expect_navigation():
        section.get_by_role("button", name="Save template").click()
    page.goto(server.url("/templates"))
    assert "Sam's starter" in page.locator("main").inner_text()
    step(page, "j1-05-templates")


def create_invite(page: Any, server: LiveServer, child_id: int, role: str, name: str) -> str:
    page.goto(server.url(f"/children/{child_id}"))
    page.get_by_label("Invite as").select_option(role)
    page.get_by_label("Who is it for? (optional)").fill(name)
    with page.expect_navigation():
        page.get_by_role("button", name="Create invite").click()
    step(page, f"invite-{role}")
    link = page.get_by_role("textbox", name="Invite link").input_value()
    assert link.startswith(server.origin + "/invite/"), link
    return link


def accept_invite(page: Any, link: str, name: str, email: str, shot: str) -> None:
    page.goto(link)
    step(page, shot)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Create account and accept").click()


def card(page: Any, title: str) -> Any:
    return page.get_by_role("article", name=title, exact=True)


def log_with_details(page: Any, title: str, minutes: str, response: str, note: str) -> None:
    activity = card(page, title)
    activity.get_by_role("button", name=re.compile(r"^Done")).click()
    details = card(page, title).locator("details.log-details")
    details.get_by_label("Minutes spent").wait_for()
    if not details.get_by_label("Minutes spent").is_visible():
        details.locator("summary").click()
    details.get_by_label("Minutes spent").fill(minutes)
    details.get_by_label(response, exact=True).check()
    details.get_by_label("Note (optional)").fill(note)
    details.get_by_role("button", name="Save details").click()
    expect_text(card(page, title), f"{minutes} min")


def expect_text(locator: Any, text: str) -> None:
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text)


def test_therapist_sets_up_a_program_a_caregiver_logs_and_the_therapist_reports(
    live_server: LiveServer, new_page: Any, built_in_library: None, smtp: Any
) -> None:
    """Journeys 1-2: a therapist signs up, builds Sam's program from the library, saves it
    as a template and invites a caregiver, who logs two sessions with details and undoes
    one; the therapist sees them on the dashboard and the progress page and prints the
    report without overflow."""
    from playwright.sync_api import expect

    # Journey 1: the therapist, on a tablet.
    therapist = new_page(TABLET)
    sign_up_therapist(therapist, live_server, smtp)
    child_id = add_child(therapist, live_server)
    titles = assign_from_library(therapist, live_server, child_id)
    step(therapist, "j1-03-program")
    save_template(therapist, live_server, child_id)
    caregiver_link = create_invite(therapist, live_server, child_id, "caregiver", "Mum")

    # The caregiver, on a phone, from the invite link.
    parent = new_page(PHONE)
    accept_invite(parent, caregiver_link, "Maria Alvarez", "maria@family.example", "j1-06-invite")
    parent.goto(live_server.url("/today"))
    for title in titles:
        expect(card(parent, title)).to_be_visible()
    step(parent, "j1-07-today")
    log_with_details(parent, titles[0], "7", "Just right", "Sam loved hunting the beads.")
    log_with_details(parent, titles[1], "4", "Hard", "Tired after school today.")
    step(parent, "j1-08-logged-two")
    undo = card(parent, titles[1]).get_by_role("button", name=re.compile("^Undo"))
    undo.click()
    expect(card(parent, titles[1]).get_by_role("button", name=re.compile("^Done"))).to_be_visible()
    expect(card(parent, titles[0])).to_contain_text("7 min")
    step(parent, "j1-09-undone-one")

    # Journey 2: the therapist sees the log and the adherence, and prints the report.
    therapist.goto(live_server.url("/dashboard"))
    row = therapist.locator("table.dashboard tbody tr").filter(has_text="Sam")
    expect(row).to_be_visible()
    expect(row.locator("td").last).not_to_be_empty()  # the last log: today's
    step(therapist, "j2-01-dashboard")
    therapist.goto(live_server.url(f"/children/{child_id}/progress"))
    main = therapist.locator("main")
    expect(main).to_contain_text("Sam loved hunting the beads.")
    expect(main).not_to_contain_text("Tired after school today.")  # undone
    step(therapist, "j2-02-child-progress")
    therapist.goto(live_server.url(f"/children/{child_id}/report"))
    step(therapist, "j2-03-report-form")
    therapist.get_by_label("Therapist comment (printed on the report, not stored)").fill(
        "Sam practises most days; keep going."
    )
    # The report ends at yesterday unless asked: the therapist includes today.
    today = utcnow().astimezone(ZoneInfo("America/New_York")).date()
    therapist.get_by_label("To", exact=True).fill(today.isoformat())
    with therapist.expect_navigation():
        therapist.get_by_role("button", name="Show report").click()
    report = therapist.locator("main")
    expect(report).to_contain_text("Sam practises most days")
    expect(report).to_contain_text("1 of 3 sessions (33%)")  # today: one of three done
    step(therapist, "j2-04-report")
    therapist.emulate_media(media="print")
    for paper, width in [("a4", A4_WIDTH_PX), ("letter", LETTER_WIDTH_PX)]:
        therapist.set_viewport_size({"width": width, "height": 1123})
        overflow = therapist.evaluate(
            "() => [document.body.scrollWidth, document.body.clientWidth,"
            " document.documentElement.scrollWidth]"
        )
        screenshot(therapist, f"j2-05-report-print-{paper}")
        assert overflow[0] <= overflow[1] and overflow[2] <= width, (
            f"the printed report overflows {paper} paper: body scrollWidth {overflow[0]}, "
            f"clientWidth {overflow[1]}, page scrollWidth {overflow[2]} > {width}"
        )
    therapist.emulate_media(media="screen")
    therapist.set_viewport_size(TABLET)


def test_teacher_joins_by_invite_and_sees_only_the_classroom_strategies(
    live_server: LiveServer, new_page: Any, factory: Any
) -> None:
    """Journey 3: the therapist invites Sam's teacher, who accepts on a phone and sees the
    classroom strategy only: no home activity, no caregiver note."""
    from playwright.sync_api import expect

    org = factory.org()
    therapist_user = factory.therapist(org, email="ot@example.org")
    child = factory.child(org, therapist=therapist_user, name="Sam")
    start = utcnow().date() - timedelta(days=3)  # in force whatever the child's time zone
    home = factory.activity(title="Big button practice")
    school = factory.activity(title="Wall push-ups", classroom_ok=True)
    factory.assignment(
        child, home, start_date=start, setting="home", caregiver_note="Practise at breakfast."
    )
    factory.assignment(child, school, start_date=start, setting="both")

    therapist = new_page(TABLET)
    log_in(therapist, live_server, therapist_user.email, TEST_PASSWORD)
    teacher_link = create_invite(therapist, live_server, child.id, "teacher", "Ms Rivera")
    teacher = new_page(PHONE)
    accept_invite(teacher, teacher_link, "Ms Rivera", "rivera@school.example", "j3-01-invite")
    teacher.goto(live_server.url("/students"))
    main = teacher.locator("main")
    expect(main).to_contain_text("Sam")
    expect(main).to_contain_text("Wall push-ups")
    expect(main).not_to_contain_text("Big button practice")
    expect(main).not_to_contain_text("Practise at breakfast.")
    step(teacher, "j3-02-students")


# Keyboard only -----------------------------------------------------------------------------

_FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return "";
    const label = e.labels && e.labels.length ? e.labels[0].textContent : "";
    const name = label || e.getAttribute("aria-label") || e.textContent || "";
    return name.replace(/\\s+/g, " ").trim();
}"""


def tab_to(page: Any, name: str | re.Pattern[str], limit: int = 80) -> None:
    """Press Tab until the focused element's name matches (a person tabbing through)."""
    pattern = name if isinstance(name, re.Pattern) else re.compile(re.escape(name))
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if pattern.search(focused):
            return
        seen.append(focused)
    raise AssertionError(f"Tab never reached {pattern.pattern!r}; focus went through {seen}")


@pytest.fixture
def invited_family(factory: Any, session: Session) -> tuple[str, list[str]]:
    """A child with a three-activity program and a caregiver invite link's path."""
    from homeprogram.models.base import utcnow
    from homeprogram.services import invites
    from homeprogram.services.audit import SYSTEM

    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist, name="Sam")
    titles = ["Playdough snakes", "Sock-on race", "Wall push-ups"]
    for title in titles:
        factory.assignment(
            child,
            factory.activity(title=title),
            start_date=utcnow().date() - timedelta(days=3),
            dose_amount=5,
            dose_unit="minutes",
        )
    _invite, token = invites.create_invite(
        session,
        SYSTEM,
        organization_id=org.id,
        role="caregiver",
        child_id=child.id,
        valid_for=timedelta(days=7),
    )
    session.commit()
    return f"/invite/{token}", titles


def test_caregiver_part_of_journey_one_works_with_the_keyboard_alone(
    live_server: LiveServer, new_page: Any, invited_family: tuple[str, list[str]]
) -> None:
    """With Tab, Enter and Space only, a caregiver accepts the invite, logs two sessions
    with details and undoes one."""
    from playwright.sync_api import expect

    path, titles = invited_family
    page = new_page(PHONE)
    page.goto(live_server.url(path))
    tab_to(page, "Your name")
    page.keyboard.type("Maria Alvarez")
    tab_to(page, "Email")
    page.keyboard.type("maria@family.example")
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    tab_to(page, "Create account and accept")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/today$"))  # the invite leads straight to today
    for title in titles:
        expect(card(page, title)).to_be_visible()

    for title, minutes, key in [(titles[0], "6", "Enter"), (titles[1], "3", "Space")]:
        tab_to(page, re.compile(rf"^Done: {re.escape(title)}$"))
        page.keyboard.press(key)
        expect(card(page, title).get_by_role("button", name=re.compile("^Undo"))).to_be_visible()
        # Focus moves to the card's status once htmx has settled the new card (autofocus):
        # tabbing on from there, as a person does, not from wherever focus was before.
        expect(card(page, title).locator(".card-status")).to_be_focused()
        tab_to(page, "Minutes spent")
        page.keyboard.type(minutes)
        # Tab reaches a radio group once, on its first option; Space picks it.
        tab_to(page, "Easy")
        page.keyboard.press("Space")
        tab_to(page, "Note (optional)")
        page.keyboard.type("Done with the keyboard.")
        tab_to(page, "Save details")
        # Wait for the save itself: the card is swapped when the answer arrives.
        with page.expect_response(lambda r: r.request.method != "GET"):
            page.keyboard.press("Enter")
        expect(card(page, title)).to_contain_text(f"{minutes} min")
    screenshot(page, "keyboard-logged-two")
    check_accessibility(page, "keyboard: two sessions logged")

    tab_to(page, re.compile(rf"^Undo: {re.escape(titles[1])}"))
    page.keyboard.press("Enter")
    expect(card(page, titles[1]).get_by_role("button", name=re.compile("^Done"))).to_be_visible()
    # The first card's session is still there: in view, or (when the page was loaded again,
    # as it is when the undone activity leaves the day's plan) behind "Your session today".
    folded = card(page, titles[0]).locator(".log-list > summary")
    if folded.count():
        folded.click()
    expect(card(page, titles[0])).to_contain_text("6 min")
    screenshot(page, "keyboard-undone-one")
    check_accessibility(page, "keyboard: one session undone")

"""Every page passes axe-core's WCAG 2.0/2.1/2.2 A and AA rules, at the size its people use.

Family pages are checked on a phone (360x740), staff pages on a tablet (820x1180). The
journeys (tests/test_journeys.py) check the pages again in the states a person reaches.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from homeprogram.models import User
from homeprogram.models.base import utcnow
from homeprogram.services import invites
from homeprogram.services.audit import SYSTEM
from tests.browser import PHONE, TABLET, check_accessibility, log_in, screenshot
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


@dataclass
class World:
    therapist: str
    caregiver: str
    teacher: str
    child_id: int
    invite_token: str


@pytest.fixture
def world(factory: Any, session: Session) -> World:
    org = factory.org()
    therapist = factory.therapist(org, admin=True, email="ot@example.org", name="Jordan Lee")
    child = factory.child(org, therapist=therapist, name="Sam")
    caregiver = factory.caregiver(child, email="parent@example.org", name="Maria")
    teacher = factory.teacher(child, email="teacher@example.org", name="Ms. Rivera")
    start = utcnow().date() - timedelta(days=7)
    for title, classroom in [("Theraputty treasure hunt", True), ("Sock-on race", False)]:
        activity = factory.activity(title=title, classroom_ok=classroom)
        factory.assignment(
            child,
            activity,
            start_date=start,
            dose_amount=5,
            dose_unit="minutes",
            anchor="after school",
            setting="both" if classroom else "home",
            caregiver_note="Keep it playful.",
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
    return World(therapist.email, caregiver.email, teacher.email, child.id, token)


ANONYMOUS_PAGES = ["/login", "/signup", "/invite/{token}"]
THERAPIST_PAGES = [
    "/caseload",
    "/children/new",
    "/children/{child}",
    "/children/{child}/edit",
    "/org/staff",
    "/library/",
    "/templates",
    "/children/{child}/handout",
    "/inbox",
    "/settings/devices",
    "/dashboard",
    "/children/{child}/progress",
    "/children/{child}/goals/new",
    "/children/{child}/report",
]
CAREGIVER_PAGES = [
    "/today",
    "/children/{child}/today",
    "/children/{child}/week",
    "/settings",
    "/settings/reminders",
    "/settings/devices",
    "/children/{child}/goals",
    "/offline",
]
TEACHER_PAGES = ["/students"]


# Every page is checked in light and in dark mode (prefers-color-scheme): the colour
# tokens of static/css/app.css must keep AA contrast in both.
SCHEMES = ["light", "dark"]


def _visit(page: Any, server: Any, world: World, path: str, name: str) -> None:
    response = page.goto(server.url(path.format(child=world.child_id, token=world.invite_token)))
    assert response is not None and response.ok, f"{path} answered {response and response.status}"
    scheme = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'")
    screenshot(page, f"a11y-{name}-{scheme}-{path.strip('/').replace('/', '-') or 'root'}")
    check_accessibility(page, f"{name} {path} ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_public_pages_have_no_accessibility_violations(
    live_server: Any, new_page: Any, world: World, path: str, scheme: str
) -> None:
    """The login, signup and invite pages pass axe-core's WCAG 2.2 AA rules on a phone."""
    _visit(new_page(PHONE, color_scheme=scheme), live_server, world, path, "public")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    ("who", "viewport", "paths"),
    [
        ("therapist", TABLET, THERAPIST_PAGES),
        ("caregiver", PHONE, CAREGIVER_PAGES),
        ("teacher", PHONE, TEACHER_PAGES),
    ],
)
def test_signed_in_pages_have_no_accessibility_violations(
    live_server: Any,
    new_page: Any,
    world: World,
    who: str,
    viewport: dict[str, int],
    paths: list[str],
    scheme: str,
) -> None:
    """Each role's pages pass axe-core's WCAG 2.2 AA rules at the size that role uses."""
    page = new_page(viewport, color_scheme=scheme)
    log_in(page, live_server, getattr(world, who), TEST_PASSWORD)
    for path in paths:
        _visit(page, live_server, world, path, who)


def test_family_teacher_and_public_pages_in_spanish_have_no_accessibility_violations(
    live_server: Any, new_page: Any, world: World, session: Session
) -> None:
    """In Spanish too: every page says it is Spanish (``lang``), and axe finds nothing."""
    session.execute(
        update(User).where(User.email.in_([world.caregiver, world.teacher])).values(locale="es")
    )
    session.commit()
    visitor = new_page(PHONE, locale="es-US")
    for path in ANONYMOUS_PAGES:
        _visit(visitor, live_server, world, path, "public-es")
        assert visitor.locator("html").get_attribute("lang") == "es", path
    for who, paths in (("caregiver", CAREGIVER_PAGES), ("teacher", TEACHER_PAGES)):
        page = new_page(PHONE)
        log_in(page, live_server, getattr(world, who), TEST_PASSWORD)
        for path in paths:
            _visit(page, live_server, world, path, f"{who}-es")
            assert page.locator("html").get_attribute("lang") == "es", path

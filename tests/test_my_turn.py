""" "My turn", the child's screen: pages, access, the star jar, the lock and its way out."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from homeprogram.models import (
    Activity,
    AuditEvent,
    ClipStatus,
    CompletionLog,
    MediaClip,
    Organization,
    Reward,
)
from homeprogram.models.base import utcnow
from homeprogram.services import library, rewards
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed
from tests.caregiver_setup import family

HX = {"HX-Request": "true"}


def _home(fam):
    return f"/children/{fam.child.id}/my-turn"


def _activity(fam, assignment):
    return f"/children/{fam.child.id}/my-turn/activities/{assignment.id}"


def _log(session, fam, assignment, *, deleted=False):
    log = CompletionLog(
        client_id=str(uuid.uuid4()),
        assignment_id=assignment.id,
        child_id=fam.child.id,
        logged_by_id=fam.caregiver.id,
        occurred_at=utcnow(),
        local_date=fam.today,
        created_at=utcnow(),
        deleted_at=utcnow() if deleted else None,
    )
    session.add(log)
    session.commit()
    return log


def _logs(session):
    session.expire_all()
    return list(session.scalars(select(CompletionLog).order_by(CompletionLog.id)))


def _start(client, fam):
    response = client.post(f"/children/{fam.child.id}/my-turn/start")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_home(fam))
    return response


def _sum(page: str) -> int:
    match = re.search(r'data-sum="(\d+) (\d+)"', page)
    assert match, "no sum on the page"
    return int(match.group(1)) + int(match.group(2))


# --- The child's screen ----------------------------------------------------------------------


def test_cards_in_routine_order_with_first_then_and_nothing_else_of_the_app(client, factory, login):
    """Today's activities as big cards in routine order, the first two still to do as
    "First … Then …", and no navigation, logout or link out of "My turn"."""
    fam = family(factory)
    after_school = factory.assignment(
        fam.child,
        factory.activity(title="Playdough snakes"),
        start_date=fam.today - timedelta(days=2),
        anchor="after school",
    )
    login(fam.caregiver.email)
    response = client.get(_home(fam))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Sam’s turn" in page
    strip = page[page.index("data-strip") : page.index("</ol>")]
    assert strip.index("First") < strip.index("Button practice")
    assert strip.index("Then") < strip.index("Playdough snakes")
    assert "Squeeze the putty" in strip and 'hidden><a class="mt-strip__link"' in strip
    cards = page[page.index('class="mt-cards"') :]
    assert (
        cards.index("Button practice")
        < cards.index("Playdough snakes")
        < cards.index("Squeeze the putty")
    )
    links = set(re.findall(r'href="([^"]+)"', page.split("<body", 1)[1]))
    assert links == {
        _activity(fam, fam.morning),
        _activity(fam, after_school),
        _activity(fam, fam.bedtime),
    }
    assert "tabbar" not in page and "Log out" not in page
    assert f'action="/children/{fam.child.id}/my-turn/leave"' in page
    assert "Grown-ups" in page


def test_a_done_activity_gets_a_calm_check_and_leaves_first_then(client, factory, login, session):
    """An activity done today shows a check (no red mark anywhere) and the strip moves on."""
    fam = family(factory)
    _log(session, fam, fam.morning)
    login(fam.caregiver.email)
    page = client.get(_home(fam)).get_data(as_text=True)
    morning = re.search(r'<a class="mt-card is-done"[^>]*>.*?</a>', page, re.S)
    assert morning and "Button practice" in morning.group() and "✓" in morning.group()
    strip = page[page.index("data-strip") : page.index("</ol>")]
    assert "Button practice" not in strip
    assert re.search(r"First</span>.*Squeeze the putty", strip, re.S)
    assert "danger" not in page and "missed" not in page.lower()


def test_all_done_says_so(client, factory, login, session):
    """With every session of the day logged, the strip gives way to "All done for today!"."""
    fam = family(factory)
    _log(session, fam, fam.morning)
    _log(session, fam, fam.bedtime)
    _log(session, fam, fam.bedtime)
    login(fam.caregiver.email)
    page = client.get(_home(fam)).get_data(as_text=True)
    assert "data-strip" not in page
    assert re.search(r'<p class="mt-all-done" data-all-done>', page)


def test_activity_walks_steps_one_section_each_and_ends_with_i_did_it(client, factory, login):
    """Each step is a section of its own (#step-1, #step-2, then #finish) with Back and Next
    links; the level's variation sentence is above them; "I did it!" is the caregiver's
    Done form with a client id of its own."""
    fam = family(factory)
    easier = factory.assignment(
        fam.child,
        factory.activity(
            title="Sock sliding",
            steps=["Sit on the floor.", "Slide the sock on.", "Pull it up."],
            easier="Use a loose sock.",
        ),
        start_date=fam.today - timedelta(days=1),
        level="easier",
    )
    login(fam.caregiver.email)
    page = client.get(_activity(fam, easier)).get_data(as_text=True)
    assert re.findall(r'<section class="mt-step[^"]*" id="([^"]+)"', page) == [
        "step-1",
        "step-2",
        "step-3",
        "finish",
    ]
    assert "Step 2 of 3" in page and 'href="#step-3"' in page and 'href="#finish"' in page
    assert page.index("Use a loose sock.") < page.index("Sit on the floor.")
    assert f'action="/children/{fam.child.id}/logs"' in page
    assert f'name="assignment_id" value="{easier.id}"' in page
    first = re.search(r'name="client_id" value="([0-9a-f-]{36})"', page).group(1)
    again = client.get(_activity(fam, easier)).get_data(as_text=True)
    assert first not in again  # a fresh id for every page
    assert "I did it!" in page and "Read aloud" in page


def test_step_pictures_from_the_library_with_their_text(app, client, factory, login, session):
    """A library activity with a picture per step shows each step's picture with its
    description."""
    with app.app_context():
        library.sync_builtin(session)
        session.commit()
    sequence = session.scalar(select(Activity).where(Activity.slug == "handwashing-sequence"))
    fam = family(factory)
    washing = factory.assignment(fam.child, sequence, start_date=fam.today)
    login(fam.caregiver.email)
    page = client.get(_activity(fam, washing)).get_data(as_text=True).replace("&#39;", "'")
    for n, alt in enumerate(sequence.step_picture_alts, 1):
        assert f"handwashing-sequence-step-{n}.svg?v={sequence.illustration}" in page
        assert f'alt="{alt}"' in page


def test_the_therapists_video_is_on_the_activity(client, factory, login, session):
    """A ready clip of the child's activity plays from the activity page; nothing loads
    before play is pressed."""
    fam = family(factory)
    clip = MediaClip(
        organization_id=fam.child.organization_id,
        child_id=fam.child.id,
        activity_id=fam.morning.activity_id,
        key=uuid.uuid4().hex,
        title="How we do the buttons",
        status=ClipStatus.READY,
        width=640,
        height=360,
        duration_seconds=3.0,
        stored_bytes=1000,
    )
    session.add(clip)
    session.commit()
    login(fam.caregiver.email)
    page = client.get(_activity(fam, fam.morning)).get_data(as_text=True)
    assert f'src="/media/{clip.id}/video.mp4"' in page and 'preload="none"' in page
    assert "How we do the buttons" in page
    assert f"/media/{clip.id}/video.mp4" not in client.get(_activity(fam, fam.bedtime)).get_data(
        as_text=True
    )


def test_an_activity_not_on_todays_plan_is_not_found(client, factory, login):
    """Another child's assignment, or one not planned today, answers 404."""
    fam = family(factory)
    other = family(factory)
    not_today = factory.assignment(
        fam.child,
        factory.activity(title="Weekend walk"),
        start_date=fam.today - timedelta(days=3),
        days_of_week=[d for d in range(7) if d != fam.today.weekday()],
    )
    login(fam.caregiver.email)
    assert client.get(_activity(fam, other.morning)).status_code == 404
    assert client.get(_activity(fam, not_today)).status_code == 404


def test_pages_are_in_the_familys_language(client, factory, login, session):
    """The child's screen and the picture schedule speak the family's language, whatever
    the caregiver's own; the set-up page stays in the caregiver's."""
    fam = family(factory)
    fam.child.family_language = "es"
    session.commit()
    login(fam.caregiver.email)
    for url in (_home(fam), _activity(fam, fam.morning), f"{_home(fam)}/schedule?span=week"):
        page = client.get(url).get_data(as_text=True)
        assert '<html lang="es">' in page, url
    _log(session, fam, fam.morning)
    assert "Hecho" in client.get(_home(fam)).get_data(as_text=True)
    setup = client.get(f"{_home(fam)}/setup").get_data(as_text=True)
    assert '<html lang="en">' in setup


def test_only_the_childs_caregivers_may_open_it(app, client, factory, login, session):
    """Other families, the therapist and the teacher get 404; anonymous visitors log in."""
    fam = family(factory)
    teacher = factory.teacher(fam.child)
    stranger = family(factory).caregiver
    urls = [
        _home(fam),
        _activity(fam, fam.morning),
        f"{_home(fam)}/leave",
        f"{_home(fam)}/setup",
        f"{_home(fam)}/schedule",
    ]
    posts = [f"{_home(fam)}/start", f"{_home(fam)}/reward", f"{_home(fam)}/reward/end"]
    anonymous = app.test_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    for user in (stranger, fam.therapist, teacher):
        c = app.test_client()
        login(user.email, c=c)
        for url in urls:
            assert c.get(url).status_code == 404, (user.name, url)
        for url in posts:
            assert c.post(url, data={"prize": "Park", "stars_needed": "3"}).status_code == 404
    assert session.scalars(select(Reward)).all() == []


# --- "I did it!" -----------------------------------------------------------------------------


def test_i_did_it_twice_with_the_same_client_id_is_one_log(client, factory, login, session):
    """The form sent again with the same id (a retry, a double tap) stores one session."""
    fam = family(factory)
    login(fam.caregiver.email)
    data = {"assignment_id": fam.morning.id, "client_id": str(uuid.uuid4()), "occurred_at": ""}
    for _ in range(2):
        response = client.post(f"/children/{fam.child.id}/logs", data=data, headers=HX)
        assert response.status_code == 200
    stored = _logs(session)
    assert [(log.assignment_id, log.logged_by_id) for log in stored] == [
        (fam.morning.id, fam.caregiver.id)
    ]


def test_i_did_it_without_javascript_comes_back_to_my_turn_and_celebrates(
    client, factory, login, session
):
    """In "My turn", the plain form logs the session and lands back on the child's screen,
    which says "You did it!" and shows the star in the jar; the caregiver can undo it later."""
    fam = family(factory)
    login(fam.caregiver.email)
    client.post(f"{_home(fam)}/reward", data={"prize": "Park trip", "stars_needed": "5"})
    _start(client, fam)
    response = client.post(
        f"/children/{fam.child.id}/logs",
        data={"assignment_id": fam.morning.id, "client_id": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    response = client.get(response.headers["Location"])
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{_home(fam)}?done=1")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You did it!" in page and "A star for your jar!" in page
    assert "1 of 5 stars" in page and "Park trip" in page
    [log] = _logs(session)
    assert log.logged_by_id == fam.caregiver.id and log.deleted_at is None


# --- The lock ------------------------------------------------------------------------------


def test_in_my_turn_the_rest_of_the_app_leads_back_to_it(client, factory, login, session):
    """While "My turn" is on, Today, settings, another child and the set-up page send the
    browser back to the child's screen; its own pages, the API and the files still answer."""
    fam = family(factory)
    sibling = factory.child(session.get(Organization, fam.child.organization_id), name="Ana")
    factory.member(sibling, fam.caregiver, "caregiver")
    login(fam.caregiver.email)
    _start(client, fam)
    for url in (
        "/",
        "/today",
        f"/children/{fam.child.id}/today",
        f"/children/{sibling.id}/today",
        f"/children/{sibling.id}/my-turn",
        f"{_home(fam)}/setup",
        f"{_home(fam)}/schedule",
        "/settings",
        "/settings/reminders",
        f"/children/{fam.child.id}/goals",
    ):
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == _home(fam), url
    refused = client.post("/settings/tokens", data={"name": "x"})
    assert refused.status_code == 303
    htmx = client.get(f"/children/{fam.child.id}/week", headers=HX)
    assert htmx.headers["HX-Redirect"] == _home(fam)
    for url in (_home(fam), _activity(fam, fam.morning), f"{_home(fam)}/leave", "/api/v1/me"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["X-HP-My-Turn"] == _home(fam), url
    with client.get("/static/css/my-turn.css") as css:
        assert css.status_code == 200 and "X-HP-My-Turn" not in css.headers


def test_a_wrong_answer_keeps_the_lock_and_asks_another_sum(client, factory, login):
    """A wrong (or empty) answer says so, answers 400 and asks a new sum; the old sum's
    answer no longer opens it."""
    fam = family(factory)
    login(fam.caregiver.email)
    _start(client, fam)
    page = client.get(f"{_home(fam)}/leave").get_data(as_text=True)
    old = _sum(page)
    for answer in (str(old + 1), "", "seventy"):
        response = client.post(f"{_home(fam)}/leave", data={"answer": answer})
        assert response.status_code == 400
        assert "That is not the answer." in response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert client.get("/today").status_code == 303
    new = _sum(page)
    if new != old:
        assert client.post(f"{_home(fam)}/leave", data={"answer": str(old)}).status_code == 400
        page = client.get(f"{_home(fam)}/leave").get_data(as_text=True)
    assert client.get("/today").status_code == 303


def test_the_right_answer_leaves_for_today(client, factory, login):
    """The right sum ends "My turn": Today opens, and no page says "locked" any more."""
    fam = family(factory)
    login(fam.caregiver.email)
    _start(client, fam)
    page = client.get(f"{_home(fam)}/leave").get_data(as_text=True)
    response = client.post(f"{_home(fam)}/leave", data={"answer": f" {_sum(page)} "})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/children/{fam.child.id}/today"
    today = client.get("/today")
    assert today.status_code == 200 and "X-HP-My-Turn" not in today.headers
    assert "X-HP-My-Turn" not in client.get(_home(fam)).headers


def test_the_lock_is_per_browser_and_ends_with_the_session(app, client, factory, login):
    """Another browser of the same caregiver is not locked; logging out ends the lock."""
    fam = family(factory)
    login(fam.caregiver.email)
    _start(client, fam)
    other = app.test_client()
    login(fam.caregiver.email, c=other)
    assert other.get("/today").status_code == 200
    assert client.post("/logout").status_code == 302
    login(fam.caregiver.email)
    assert client.get("/today").status_code == 200


def test_a_caregiver_taken_off_the_care_team_is_not_kept_locked(client, factory, login, session):
    """If the caregiver no longer has the child, the lock is dropped rather than sending
    every page to a screen they may not open."""
    fam = family(factory)
    other = factory.child(session.get(Organization, fam.child.organization_id), name="Ana")
    factory.member(other, fam.caregiver, "caregiver")
    login(fam.caregiver.email)
    _start(client, fam)
    for member in fam.child.care_team:
        if member.user_id == fam.caregiver.id:
            session.delete(member)
    session.commit()
    assert client.get(f"/children/{other.id}/today").status_code == 200


def test_leaving_without_the_lock_just_goes_to_today(client, factory, login):
    """The sum page opened without "My turn" on (a bookmark) lets the caregiver go."""
    fam = family(factory)
    login(fam.caregiver.email)
    assert client.get(f"{_home(fam)}/leave").status_code == 200
    response = client.post(f"{_home(fam)}/leave", data={"answer": "0"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/children/{fam.child.id}/today"


# --- The star jar ----------------------------------------------------------------------------


def test_the_jar_is_set_up_by_the_caregiver_and_shown_on_the_childs_screen(
    client, factory, login, session
):
    """The set-up form starts a jar (audited); the child's screen shows it filling."""
    fam = family(factory)
    login(fam.caregiver.email)
    assert "No jar yet" in client.get(f"{_home(fam)}/setup").get_data(as_text=True)
    response = client.post(f"{_home(fam)}/reward", data={"prize": "Park trip", "stars_needed": "3"})
    assert response.status_code == 303
    _log(session, fam, fam.morning)
    page = client.get(_home(fam)).get_data(as_text=True)
    assert "Star jar" in page and "Park trip" in page and "1 of 3 stars" in page
    assert page.count('class="mt-star is-filled"') == 1 and page.count('class="mt-star"') == 2
    setup = client.get(f"{_home(fam)}/setup").get_data(as_text=True)
    assert "1 of 3 stars towards: Park trip" in setup
    action = session.scalar(select(AuditEvent.action).where(AuditEvent.action == "reward.set"))
    assert action == "reward.set"


@pytest.mark.parametrize(
    ("prize", "stars", "message"),
    [
        ("", "5", "Say what the stars are for"),
        ("x" * 81, "5", "Use at most 80 characters."),
        ("Park", "0", "Choose from 1 to 50 stars."),
        ("Park", "51", "Choose from 1 to 50 stars."),
        ("Park", "", "Choose from 1 to 50 stars."),
        ("Park", "many", "Not a valid integer value."),
    ],
)
def test_a_jar_with_bad_values_says_why_and_changes_nothing(
    client, factory, login, session, prize, stars, message
):
    fam = family(factory)
    login(fam.caregiver.email)
    response = client.post(f"{_home(fam)}/reward", data={"prize": prize, "stars_needed": stars})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalars(select(Reward)).all() == []


def test_putting_the_jar_away(client, factory, login, session):
    """ "Put the jar away" ends it: the child's screen shows no jar."""
    fam = family(factory)
    login(fam.caregiver.email)
    client.post(f"{_home(fam)}/reward", data={"prize": "Park trip", "stars_needed": "3"})
    assert client.post(f"{_home(fam)}/reward/end").status_code == 303
    assert "Star jar" not in client.get(_home(fam)).get_data(as_text=True)
    assert client.post(f"{_home(fam)}/reward/end").status_code == 303  # nothing to put away


def test_stars_count_sessions_since_the_jar_started_never_undone_ones_never_beyond_full(
    app, factory, session, clock
):
    fam = family(factory)
    actor = Actor(fam.caregiver.id)
    _log(session, fam, fam.morning)  # before the jar: not a star
    clock.advance(timedelta(seconds=1))
    with app.test_request_context():
        first = rewards.set_reward(session, actor, fam.child, "  Park trip ", 2)
        session.commit()
    assert first.prize == "Park trip"
    assert rewards.stars(session, first) == 0
    clock.advance(timedelta(seconds=1))
    _log(session, fam, fam.bedtime)
    _log(session, fam, fam.bedtime, deleted=True)
    assert rewards.stars(session, first) == 1
    _log(session, fam, fam.morning)
    _log(session, fam, fam.morning)
    assert rewards.stars(session, first) == 2  # full, never more
    assert rewards.jar(session, fam.child.id).full
    clock.advance(timedelta(seconds=1))
    with app.test_request_context():
        second = rewards.set_reward(session, actor, fam.child, "Swimming", 10)
        session.commit()
    session.refresh(first)
    assert first.ended_at is not None
    assert rewards.open_reward(session, fam.child.id).id == second.id
    assert rewards.stars(session, second) == 0
    assert rewards.stars(session, first) == 2  # a jar put away keeps its stars


def test_set_reward_refuses_bad_values_field_by_field(app, factory, session):
    fam = family(factory)
    with app.test_request_context(), pytest.raises(ValidationFailed) as failed:
        rewards.set_reward(session, Actor(fam.caregiver.id), fam.child, " ", None)
    assert set(failed.value.errors) == {"prize", "stars_needed"}
    for stars in (0, 51):
        with app.test_request_context(), pytest.raises(ValidationFailed):
            rewards.set_reward(session, Actor(fam.caregiver.id), fam.child, "Park", stars)
    with app.test_request_context():
        assert rewards.set_reward(session, Actor(None), fam.child, "P" * 80, 50).stars_needed == 50
        assert rewards.set_reward(session, Actor(None), fam.child, "P", 1).stars_needed == 1


def test_ending_a_jar_is_audited(app, factory, session):
    fam = family(factory)
    with app.test_request_context():
        assert not rewards.end_reward(session, Actor(fam.caregiver.id), fam.child)
        rewards.set_reward(session, Actor(fam.caregiver.id), fam.child, "Park", 3)
        assert rewards.end_reward(session, Actor(fam.caregiver.id), fam.child)
        session.commit()
    assert rewards.jar(session, fam.child.id) is None
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["reward.set", "reward.ended"]


# --- The picture schedule ------------------------------------------------------------------


def test_the_picture_schedule_of_the_day_and_the_week(client, factory, login):
    """The day: today's cards in routine order; the week: seven strips, Monday first, each
    with the activities planned that day."""
    fam = family(factory)
    factory.assignment(
        fam.child,
        factory.activity(title="Weekend walk"),
        start_date=fam.today - timedelta(days=3),
        days_of_week=[5, 6],
    )
    login(fam.caregiver.email)
    day = client.get(f"{_home(fam)}/schedule?span=day").get_data(as_text=True)
    assert day.count('class="mt-cutout"') == 2
    assert day.index("Button practice") < day.index("Squeeze the putty")
    assert "Weekend walk" not in day or fam.today.weekday() in (5, 6)
    week = client.get(f"{_home(fam)}/schedule?span=week").get_data(as_text=True)
    assert week.count('<section class="mt-day"') == 7
    assert week.count("Weekend walk") == 2
    assert "Monday" in week and week.index("Monday") < week.index("Sunday")
    assert "data-print" in week


def test_an_unknown_schedule_span_says_so(client, factory, login):
    fam = family(factory)
    login(fam.caregiver.email)
    response = client.get(f"{_home(fam)}/schedule?span=year")
    assert response.status_code == 400
    assert "That schedule cannot be shown" in response.get_data(as_text=True)

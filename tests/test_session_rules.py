"""Login sessions at the service: what starting one records, when one stops being live,
who may see and end which, and what the audit trail keeps. (Holes found by
``make mutation``.)"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from homeprogram.extensions import db
from homeprogram.models import AuditEvent, OrgMembership, User, UserSession
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, sessions
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound

IP = "198.51.100.23"
STAFF_TIMEOUT, FAMILY_TIMEOUT = timedelta(minutes=30), timedelta(days=7)


@pytest.fixture
def write(app):
    @contextmanager
    def transaction():
        with app.app_context(), db.transaction() as own:
            yield own

    return transaction


def _start(write, user, ip=IP, user_agent="Firefox") -> tuple[int, str]:
    with write() as s:
        login = accounts.start_session(s, s.get(User, user.id), ip=ip, user_agent=user_agent)
        return login.id, login.token


def _idle(session, login_id: int, idle: timedelta) -> None:
    session.execute(
        update(UserSession).where(UserSession.id == login_id).values(last_seen_at=utcnow() - idle)
    )


def _load(write, token):
    with write() as s:
        return accounts.load_session(
            s, token, staff_timeout=STAFF_TIMEOUT, family_timeout=FAMILY_TIMEOUT
        )


def _events(session, action: str) -> list[tuple]:
    return session.execute(
        select(
            AuditEvent.actor_id,
            AuditEvent.organization_id,
            AuditEvent.target_type,
            AuditEvent.target_id,
            AuditEvent.ip,
            AuditEvent.detail,
        ).where(AuditEvent.action == action)
    ).all()


def test_starting_a_session_records_device_and_address_and_audits_the_login(
    app, factory, session, write
):
    """A login gets a fresh unguessable token, keeps the address and at most 255
    characters of the browser's name (none when it sent none), and the audit event is
    filed under the person's organization (none for a parent)."""
    org = factory.org()
    therapist = factory.therapist(org)
    parent = factory.caregiver(factory.child(org))

    staff_id, staff_token = _start(write, therapist, user_agent="x" * 300)
    family_id, family_token = _start(write, parent, user_agent="")

    staff, family = session.get(UserSession, staff_id), session.get(UserSession, family_id)
    assert (staff.user_id, staff.ip, staff.user_agent) == (therapist.id, IP, "x" * 255)
    assert (family.user_id, family.user_agent) == (parent.id, None)
    assert len(staff_token) == 43 and staff_token != family_token
    assert sorted(_events(session, "login.succeeded"), key=lambda e: e[3]) == [
        (therapist.id, org.id, "user", therapist.id, IP, {}),
        (parent.id, None, "user", parent.id, IP, {}),
    ]


def test_a_live_session_says_who_is_signed_in_with_their_roles(app, factory, session, write):
    """Loading a live session gives the person, their active staff membership and every
    care-team role they hold; a bearer token's lookup gives the same without a login."""
    org = factory.org()
    admin = factory.therapist(
        org,
        admin=True,
        name="Ada",
        email="ada@example.org",
        locale="es",
        timezone="America/Denver",
    )
    child, pupil = factory.child(org), factory.child(org)
    factory.member(child, admin, "caregiver")
    factory.member(pupil, admin, "teacher")
    parent = factory.caregiver(child)
    login_id, token = _start(write, admin)

    signed_in = _load(write, token)
    assert signed_in.user_id == admin.id
    assert (signed_in.name, signed_in.email) == ("Ada", "ada@example.org")
    assert (signed_in.locale, signed_in.timezone) == ("es", "America/Denver")
    assert (signed_in.organization_id, signed_in.org_role) == (org.id, "admin")
    assert signed_in.care_roles == frozenset({"caregiver", "teacher"})
    assert signed_in.login_id == login_id
    assert signed_in.last_seen_at == session.get(UserSession, login_id).last_seen_at

    with write() as s:
        by_token = accounts.signed_in_user(s, parent.id)
    assert (by_token.user_id, by_token.organization_id, by_token.org_role) == (
        parent.id,
        None,
        None,
    )
    assert (by_token.care_roles, by_token.login_id) == (frozenset({"caregiver"}), None)
    session.execute(update(User).where(User.id == parent.id).values(active=False))
    with write() as s:
        assert accounts.signed_in_user(s, parent.id) is None


def test_a_session_ends_when_ended_when_the_person_is_deactivated_or_idle_too_long(
    app, factory, session, write
):
    """A session is live until it is ended, its person deactivated, or it sat idle longer
    than the timeout: staff's (the active membership's) or, for a parent, the family's."""
    org = factory.org()
    therapist = factory.therapist(org)
    parent = factory.caregiver(factory.child(org))
    staff_id, staff_token = _start(write, therapist)
    family_id, family_token = _start(write, parent)

    _idle(session, staff_id, STAFF_TIMEOUT - timedelta(seconds=2))
    _idle(session, family_id, STAFF_TIMEOUT + timedelta(hours=1))
    assert _load(write, staff_token) is not None
    assert _load(write, family_token) is not None  # a parent's timeout is longer

    _idle(session, staff_id, STAFF_TIMEOUT + timedelta(seconds=2))
    _idle(session, family_id, FAMILY_TIMEOUT + timedelta(seconds=2))
    assert _load(write, staff_token) is None
    assert _load(write, family_token) is None

    fresh_id, fresh_token = _start(write, therapist)
    session.execute(
        update(OrgMembership).where(OrgMembership.user_id == therapist.id).values(active=False)
    )
    # No longer staff: the family timeout applies to what is left of the account.
    _idle(session, fresh_id, STAFF_TIMEOUT + timedelta(hours=1))
    assert _load(write, fresh_token) is not None
    session.execute(update(User).where(User.id == therapist.id).values(active=False))
    assert _load(write, fresh_token) is None

    _, ended_token = _start(write, parent)
    with write() as s:
        accounts.end_session(s, ended_token)
    assert _load(write, ended_token) is None
    assert _load(write, "no-such-token") is None


def test_last_seen_is_refreshed_after_a_minute_for_that_session_only(
    app, factory, session, write, clock
):
    """A session seen more than a minute ago needs refreshing, one seen within the minute
    does not; refreshing moves that session's last-seen time to now, no one else's."""
    therapist = factory.therapist()
    first_id, _ = _start(write, therapist)
    second_id, _ = _start(write, therapist)
    now = utcnow()
    assert not accounts.needs_touch(now - timedelta(seconds=59))
    assert accounts.needs_touch(now - timedelta(seconds=61))

    _idle(session, first_id, timedelta(hours=1))
    _idle(session, second_id, timedelta(hours=1))
    with write() as s:
        accounts.touch_session(s, first_id)
    session.expire_all()
    first, second = session.get(UserSession, first_id), session.get(UserSession, second_id)
    assert utcnow() - first.last_seen_at < timedelta(minutes=1)
    assert utcnow() - second.last_seen_at > timedelta(minutes=59)


def test_logging_out_ends_that_session_and_ending_all_counts_the_open_ones(
    app, factory, session, write, clock
):
    """Logging out ends only that browser's session (an ended one keeps the time it
    ended); ending all of a person's sessions says how many were still open."""
    therapist, other = factory.therapist(), factory.therapist()
    a_id, a_token = _start(write, therapist)
    b_id, _ = _start(write, therapist)
    c_id, _ = _start(write, therapist)
    theirs_id, _ = _start(write, other)

    with write() as s:
        accounts.end_session(s, a_token)
    ended_at = session.get(UserSession, a_id).ended_at
    assert ended_at is not None
    clock.advance(timedelta(minutes=5))
    with write() as s:
        accounts.end_session(s, a_token)
        assert accounts.end_all_sessions(s, therapist.id) == 2
        assert accounts.end_all_sessions(s, therapist.id) == 0
    session.expire_all()
    assert session.get(UserSession, a_id).ended_at == ended_at
    assert all(session.get(UserSession, i).ended_at for i in (b_id, c_id))
    assert session.get(UserSession, theirs_id).ended_at is None


def test_a_person_sees_their_live_sessions_newest_first_with_this_one_marked(
    app, factory, session, write
):
    """The list holds the person's sessions that are neither ended nor idle for 14 days,
    the most recently used first, this browser's marked."""
    therapist, other = factory.therapist(), factory.therapist()
    old_id, _ = _start(write, therapist)
    recent_id, recent_token = _start(write, therapist)
    almost_id, _ = _start(write, therapist)
    stale_id, _ = _start(write, therapist)
    _, ended_token = _start(write, therapist)
    _start(write, other)
    _idle(session, old_id, timedelta(hours=3))
    _idle(session, recent_id, timedelta(hours=1))
    _idle(session, almost_id, timedelta(days=13, hours=23))
    _idle(session, stale_id, timedelta(days=14))
    with write() as s:
        accounts.end_session(s, ended_token)

    with write() as s:
        rows = sessions.own_sessions(s, therapist.id, recent_token)
        listed = [(r.login.id, r.user.id, r.current) for r in rows]
    assert listed == [
        (recent_id, therapist.id, True),
        (old_id, therapist.id, False),
        (almost_id, therapist.id, False),
    ]


def test_an_admin_sees_the_sessions_of_their_organization_s_people_by_name(
    app, factory, session, write
):
    """An admin's list holds the sessions of the organization's staff and of the care
    teams of its children (not another organization's), by name, then most recent first."""
    org, other_org = factory.org(), factory.org()
    admin = factory.therapist(org, admin=True, name="Cleo")
    therapist = factory.therapist(org, name="Bea")
    parent = factory.caregiver(factory.child(org), name="Abe")
    stranger = factory.therapist(other_org, name="Aaron")
    admin_id, admin_token = _start(write, admin)
    early_id, _ = _start(write, therapist)
    late_id, _ = _start(write, therapist)
    parent_id, _ = _start(write, parent)
    _start(write, stranger)
    _idle(session, early_id, timedelta(hours=2))

    with write() as s:
        rows = sessions.org_sessions(s, org.id, admin_token)
        listed = [(r.login.id, r.user.name, r.current) for r in rows]
    assert listed == [
        (parent_id, "Abe", False),
        (late_id, "Bea", False),
        (early_id, "Bea", False),
        (admin_id, "Cleo", True),
    ]


def test_ending_a_session_is_for_its_person_or_their_organization_s_admin(
    app, factory, session, write
):
    """A person ends their own other session; an admin ends one of their organization's
    staff or families; anyone else, an unknown or ended session, and the session in use
    are NotFound. Each ending is audited with the session."""
    org, other_org = factory.org(), factory.org()
    admin = factory.therapist(org, admin=True)
    therapist = factory.therapist(org)
    parent = factory.caregiver(factory.child(org))
    other_admin = factory.therapist(other_org, admin=True)
    _, admin_token = _start(write, admin)
    _, other_admin_token = _start(write, other_admin)
    own_id, own_token = _start(write, therapist)
    second_id, _ = _start(write, therapist)
    parent_id, _ = _start(write, parent)

    def end(actor_user, login_id, token, admin_of=None):
        with write() as s:
            return sessions.end_session(
                s,
                Actor(actor_user.id, IP, admin_of),
                session_id=login_id,
                current_token=token,
                admin_of=admin_of,
            ).id

    refused = [
        (therapist, own_id, own_token, None),  # the session in use
        (therapist, parent_id, own_token, None),  # someone else's
        (therapist, 999_999, own_token, None),
        (other_admin, parent_id, other_admin_token, other_org.id),
    ]
    for actor_user, login_id, token, admin_of in refused:
        with pytest.raises(NotFound):
            end(actor_user, login_id, token, admin_of)

    assert end(therapist, second_id, own_token) == second_id
    assert end(admin, parent_id, admin_token, org.id) == parent_id
    with pytest.raises(NotFound):
        end(therapist, second_id, own_token)  # already ended
    assert sorted(_events(session, "session.ended"), key=lambda e: e[3]) == sorted(
        [
            (therapist.id, None, "user", therapist.id, IP, {"session_id": second_id}),
            (admin.id, org.id, "user", parent.id, IP, {"session_id": parent_id}),
        ],
        key=lambda e: e[3],
    )


def test_signing_out_everywhere_else_keeps_this_session_and_audits_the_count(
    app, factory, session, write
):
    """Ending one's other sessions ends every open one but this, says how many, audits
    that number, and writes nothing when there were none."""
    therapist, other = factory.therapist(), factory.therapist()
    this_id, this_token = _start(write, therapist)
    _start(write, therapist)
    _start(write, therapist)
    theirs_id, _ = _start(write, other)

    for expected in (2, 0):
        with write() as s:
            count = sessions.end_other_sessions(
                s, Actor(therapist.id, IP), user_id=therapist.id, current_token=this_token
            )
        assert count == expected
    assert session.get(UserSession, this_id).ended_at is None
    assert session.get(UserSession, theirs_id).ended_at is None
    assert _events(session, "session.ended_others") == [
        (therapist.id, None, "user", therapist.id, IP, {"count": 2})
    ]


def test_a_person_ends_their_own_session_whichever_organization_is_named(
    app, factory, session, write
):
    """One's own session can always be ended: naming an organization to act for (as an
    admin does) never takes that away, even one the person has nothing to do with."""
    parent = factory.caregiver(factory.child(factory.org()))
    elsewhere = factory.org()
    _, this_token = _start(write, parent)
    other_id, _ = _start(write, parent)
    with write() as s:
        ended = sessions.end_session(
            s,
            Actor(parent.id, IP),
            session_id=other_id,
            current_token=this_token,
            admin_of=elsewhere.id,
        )
    assert ended.id == other_id
    assert session.get(UserSession, other_id).ended_at is not None

"""Invite rules at the service: who may join by an invite, what each refusal says, what the
staff see as open, and what the audit trail keeps. (Holes found by ``make mutation``.)"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from homeprogram.extensions import db
from homeprogram.models import AuditEvent, CareTeamMember, Invite, OrgMembership, User
from homeprogram.models.base import utcnow
from homeprogram.services import invites
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound, ValidationFailed

IP = "203.0.113.7"
WEEK = timedelta(days=7)
NEW_ACCOUNT = {"email": "new@example.org", "name": "Robin", "password": "a-long-passphrase"}


@pytest.fixture
def write(app):
    """A write transaction of its own, as a request or a job has."""

    @contextmanager
    def transaction():
        with app.app_context(), db.transaction() as own:
            yield own

    return transaction


def _invite(write, actor, org, child=None, role="caregiver", **kw) -> tuple[int, str]:
    with write() as s:
        invite, token = invites.create_invite(
            s,
            actor,
            organization_id=org.id,
            role=role,
            child_id=child.id if child else None,
            valid_for=WEEK,
            **kw,
        )
        return invite.id, token


def _accept(write, invite_id, **kw):
    with write() as s:
        user = kw.pop("user", None)
        if user is not None:
            user = s.merge(user)
        return invites.accept_invite(
            s, Actor(None, IP), s.get(Invite, invite_id), user=user, **kw
        ).id


def _refusal(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.errors


def _events(session, action: str) -> list[tuple]:
    return session.execute(
        select(
            AuditEvent.actor_id,
            AuditEvent.organization_id,
            AuditEvent.child_id,
            AuditEvent.target_type,
            AuditEvent.target_id,
            AuditEvent.ip,
            AuditEvent.detail,
        ).where(AuditEvent.action == action)
    ).all()


def _invite_count(session) -> int:
    return len(session.scalars(select(Invite.id)).all())


def test_invalid_invites_say_which_field_is_wrong_and_create_nothing(app, factory, session, write):
    """A staff invite for a caregiver, a child invite for an unknown role and a label over
    120 characters are refused with a message on the field; no invite is made."""
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist)
    actor = Actor(therapist.id, IP, org.id)

    assert _refusal(lambda: _invite(write, actor, org, role="caregiver")) == {
        "role": "Staff invites are for therapists."
    }
    assert _refusal(lambda: _invite(write, actor, org, child, role="admin")) == {
        "role": "Choose caregiver, teacher or therapist."
    }
    assert _refusal(lambda: _invite(write, actor, org, child, label="x" * 121)) == {
        "label": "Use at most 120 characters."
    }
    assert _invite_count(session) == 0

    _invite(write, actor, org, child, label="x" * 120)
    assert _invite_count(session) == 1


def test_a_new_invite_keeps_its_author_and_is_audited_under_its_organization(
    app, factory, session, write
):
    """The invite remembers who made it; an empty label is stored as none; the audit event
    names the author, the organization, the child, the invite and the role (also when the
    actor carries no organization, as the command line does)."""
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist)

    invite_id, _ = _invite(write, Actor(therapist.id, IP), org, child, role="teacher")
    staff_id, _ = _invite(write, Actor(therapist.id, IP), org, role="therapist", label=" OT ")

    invite = session.get(Invite, invite_id)
    assert (invite.created_by_id, invite.label) == (therapist.id, None)
    assert session.get(Invite, staff_id).label == "OT"
    assert sorted(_events(session, "invite.created"), key=lambda e: e[4]) == [
        (therapist.id, org.id, child.id, "invite", invite_id, IP, {"role": "teacher"}),
        (therapist.id, org.id, None, "invite", staff_id, IP, {"role": "therapist"}),
    ]


def test_open_invites_are_the_usable_ones_of_that_child_newest_first(
    app, factory, session, write, clock
):
    """Staff see as open only their organization's invites for that child (or for staff)
    that are not used, withdrawn or expired (an invite expiring this instant is expired),
    the newest first."""
    org, other_org = factory.org(), factory.org()
    therapist = factory.therapist(org)
    child, sibling = factory.child(org, therapist=therapist), factory.child(org)
    actor = Actor(therapist.id, IP, org.id)

    older, _ = _invite(write, actor, org, child)
    clock.advance(timedelta(minutes=5))
    newer, _ = _invite(write, actor, org, child)
    used, _ = _invite(write, actor, org, child)
    revoked, _ = _invite(write, actor, org, child)
    expiring, _ = _invite(write, actor, org, child)
    _invite(write, actor, org, sibling)
    staff, _ = _invite(write, actor, org, role="therapist")
    _invite(write, Actor(None), other_org, role="therapist")
    now = utcnow()
    session.execute(update(Invite).where(Invite.id == used).values(used_at=now))
    session.execute(update(Invite).where(Invite.id == revoked).values(revoked_at=now))
    session.execute(update(Invite).where(Invite.id == expiring).values(expires_at=now))

    with write() as s:
        for_child = [i.id for i in invites.open_invites(s, org.id, child.id, now)]
        for_staff = [i.id for i in invites.open_invites(s, org.id, None, now)]
    assert for_child == [newer, older]
    assert for_staff == [staff]


def test_an_invite_is_revoked_only_by_its_own_organization_and_the_revoke_is_audited(
    app, factory, session, write
):
    """Another organization's admin gets NotFound for a staff invite (and for an id that
    does not exist); the invite's own organization withdraws it, and the audit event says
    who, where, which child and which invite."""
    org, other_org = factory.org(), factory.org()
    admin = factory.therapist(org, admin=True)
    stranger = factory.therapist(other_org, admin=True)
    child = factory.child(org)
    staff_invite, _ = _invite(write, Actor(admin.id, IP, org.id), org, role="therapist")
    child_invite, _ = _invite(write, Actor(admin.id, IP, org.id), org, child)

    for invite_id in (staff_invite, 999_999):
        with pytest.raises(NotFound), write() as s:
            invites.revoke_invite(
                s, Actor(stranger.id, IP, other_org.id), other_org.id, invite_id, None
            )
    assert session.get(Invite, staff_invite).revoked_at is None

    with write() as s:
        invites.revoke_invite(s, Actor(admin.id, IP), org.id, child_invite, child.id)
    session.expire_all()
    assert session.get(Invite, child_invite).status(utcnow()) == "revoked"
    assert _events(session, "invite.revoked") == [
        (admin.id, org.id, child.id, "invite", child_invite, IP, {})
    ]


def test_only_staff_of_the_organization_join_a_care_team_as_therapist(app, factory, session, write):
    """A therapist invite for a child is for active staff of the child's organization: a
    parent's account, staff of another organization and deactivated staff are refused
    with the reason, and an active therapist of the organization joins as therapist."""
    org, other_org = factory.org(), factory.org()
    inviter = factory.therapist(org)
    child = factory.child(org, therapist=inviter)
    parent = factory.user(email="parent@example.org")
    outsider = factory.therapist(other_org, email="outsider@example.org")
    former = factory.therapist(org, email="former@example.org")
    session.execute(
        update(OrgMembership).where(OrgMembership.user_id == former.id).values(active=False)
    )
    colleague = factory.therapist(org, email="colleague@example.org")
    invite_id, _ = _invite(write, Actor(inviter.id, IP, org.id), org, child, role="therapist")

    for user in (parent, outsider, former):
        assert _refusal(lambda user=user: _accept(write, invite_id, user=user)) == {
            "invite": "Only staff of this organization can join as therapist."
        }
    assert session.get(Invite, invite_id).used_at is None

    _accept(write, invite_id, user=colleague)
    role = session.scalar(
        select(CareTeamMember.role).where(
            CareTeamMember.child_id == child.id, CareTeamMember.user_id == colleague.id
        )
    )
    assert role == "therapist"


def test_an_invite_refuses_someone_already_staff_or_already_on_the_team(
    app, factory, session, write
):
    """A staff invite refuses an account that is staff of an organization already; a child
    invite refuses someone already on that child's care team. Both say why."""
    org, other_org = factory.org(), factory.org()
    admin = factory.therapist(org, admin=True)
    child = factory.child(org)
    parent = factory.caregiver(child, email="parent@example.org")
    elsewhere = factory.therapist(other_org, email="elsewhere@example.org")
    staff_invite, _ = _invite(write, Actor(admin.id, IP, org.id), org, role="therapist")
    child_invite, _ = _invite(write, Actor(admin.id, IP, org.id), org, child, role="caregiver")

    assert _refusal(lambda: _accept(write, staff_invite, user=elsewhere)) == {
        "invite": "This account already belongs to an organization's staff."
    }
    assert _refusal(lambda: _accept(write, child_invite, user=parent)) == {
        "invite": "You are already on this child's care team."
    }
    assert session.get(Invite, staff_invite).used_at is None
    assert session.get(Invite, child_invite).used_at is None

    # A parent's account (no staff membership) may join the staff.
    _accept(write, staff_invite, user=parent)
    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == parent.id))
    assert (member.organization_id, member.role) == (org.id, "therapist")


def test_accepting_a_closed_invite_or_without_account_details_says_why(
    app, factory, session, write
):
    """An invite that is used, withdrawn or expired is refused in one sentence; accepting
    an open one without the new account's details names each missing field (the time zone
    defaults to UTC) and uses nothing up."""
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist)
    actor = Actor(therapist.id, IP, org.id)
    closed = {
        "used_at": utcnow() - timedelta(hours=1),
        "revoked_at": utcnow() - timedelta(hours=1),
        "expires_at": utcnow() - timedelta(seconds=1),
    }
    for column, value in closed.items():
        invite_id, _ = _invite(write, actor, org, child)
        session.execute(update(Invite).where(Invite.id == invite_id).values({column: value}))
        assert _refusal(lambda invite_id=invite_id: _accept(write, invite_id, **NEW_ACCOUNT)) == {
            "invite": "This invite can no longer be used."
        }

    invite_id, _ = _invite(write, actor, org, child)
    assert _refusal(lambda: _accept(write, invite_id)) == {
        "name": "Enter your name.",
        "email": "Enter an email address.",
        "password": "Use at least 10 characters.",
    }
    assert session.get(Invite, invite_id).used_at is None
    user_id = _accept(write, invite_id, **NEW_ACCOUNT)
    assert (
        session.scalar(
            select(CareTeamMember.user_id)
            .where(CareTeamMember.child_id == child.id)
            .where(CareTeamMember.role == "caregiver")
        )
        == user_id
    )
    assert session.get(User, user_id).timezone == "UTC"


def test_accepting_uses_up_that_invite_only_and_is_audited_as_the_new_member(
    app, factory, session, write
):
    """Accepting marks that invite used by the new person (another open invite stays
    open), and the audit event is the new person's, from their address, under the
    invite's organization, child and role."""
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist)
    actor = Actor(therapist.id, IP, org.id)
    invite_id, _ = _invite(write, actor, org, child, role="teacher")
    other_id, _ = _invite(write, actor, org, child)

    user_id = _accept(write, invite_id, **NEW_ACCOUNT)

    invite, other = session.get(Invite, invite_id), session.get(Invite, other_id)
    assert (invite.status(utcnow()), invite.used_by_id) == ("used", user_id)
    assert other.status(utcnow()) == "open"
    assert _events(session, "invite.accepted") == [
        (user_id, org.id, child.id, "invite", invite_id, IP, {"role": "teacher"})
    ]


@pytest.mark.parametrize("closed_by", ["used_at", "revoked_at"])
def test_an_invite_closed_while_being_accepted_lets_nobody_in(
    app, factory, session, write, closed_by
):
    """Two people opening one link: when the invite is used or withdrawn by someone else
    after this request read it, accepting it is refused instead of letting a second
    person in."""
    org = factory.org()
    therapist = factory.therapist(org)
    child = factory.child(org, therapist=therapist)
    first = factory.user(email="first@example.org")
    invite_id, _ = _invite(write, Actor(therapist.id, IP, org.id), org, child)

    with write() as s:
        invite = s.get(Invite, invite_id)
        assert invite.status(utcnow()) == "open"  # what this request read
        # Meanwhile another request closes it (a plain UPDATE: this request's copy is stale).
        s.execute(
            update(Invite.__table__)
            .where(Invite.id == invite_id)
            .values({closed_by: utcnow(), "used_by_id": first.id})
        )
        assert _refusal(
            lambda: invites.accept_invite(s, Actor(None, IP), invite, **NEW_ACCOUNT)
        ) == {"invite": "This invite can no longer be used."}

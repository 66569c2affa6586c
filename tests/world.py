"""A small world of people and records for the authorization and fuzz tests.

Organization A: admin, therapist (on the child), a colleague, child "Maya" with caregiver
and teacher, a classroom assignment, an open invite; a second child with its own caregiver;
a deactivated therapist. Organization B: a therapist with a child of their own.
"""

import base64
import io
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import PIL.Image
from flask import Flask
from sqlalchemy import select

from homeprogram.models import (
    AssessmentResult,
    AssignmentPause,
    Child,
    ClipStatus,
    CoachingNote,
    CompletionLog,
    CopmAssessment,
    CopmProblem,
    CopmScore,
    Goal,
    Invite,
    MediaClip,
    OrgMembership,
    User,
)
from homeprogram.models.base import utcnow
from homeprogram.models.passkeys import Passkey
from homeprogram.models.push import InboxMessage, PushSubscription
from homeprogram.models.templates import ProgramTemplate
from homeprogram.services import (
    accounts,
    classroom,
    instruments,
    invites,
    media_storage,
    password_reset,
    pictures,
    tokens,
)
from homeprogram.services.audit import SYSTEM

# A valid uncompressed P-256 point (the generator), base64url: what a browser sends as p256dh.
P256DH = (
    base64.urlsafe_b64encode(
        bytes.fromhex(
            "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
        )
    )
    .decode()
    .rstrip("=")
)

PERSONAS = (
    "admin",
    "therapist",
    "colleague",
    "caregiver",
    "teacher",
    "other_caregiver",
    "other_therapist",
    "deactivated",
)


@dataclass
class World:
    users: dict[str, User]
    objects: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.objects[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.objects.get(key, default)


def build_world(factory: Any, session: Any, app: Flask) -> World:
    org = factory.org(name="Org A")
    admin = factory.therapist(org, admin=True, email="admin@a.test", name="Ada")
    therapist = factory.therapist(org, email="therapist@a.test", name="Theo")
    colleague = factory.therapist(org, email="colleague@a.test", name="Cole")
    deactivated = factory.therapist(org, email="gone@a.test", name="Gone")
    child = factory.child(org, therapist=therapist, name="Maya")
    factory.member(child, deactivated, "therapist")
    caregiver = factory.caregiver(child, email="parent@a.test", name="Pat")
    teacher = factory.teacher(child, email="teacher@a.test", name="Tess")
    other_child = factory.child(org, therapist=colleague, name="Noor")
    other_caregiver = factory.caregiver(other_child, email="parent2@a.test", name="Quinn")
    org_b = factory.org(name="Org B")
    other_therapist = factory.therapist(org_b, admin=True, email="x@b.test", name="Xavi")
    child_b = factory.child(org_b, therapist=other_therapist, name="Bea")
    today = classroom.today_for(child, utcnow())
    custom = factory.activity(org, title="Movement break", classroom_ok=True)
    custom.picture = _store_picture(app)
    session.commit()
    assignment = factory.assignment(
        child,
        custom,
        start_date=today - timedelta(days=1),
        setting="classroom",
    )
    invite, invite_token = invites.create_invite(
        session,
        SYSTEM,
        organization_id=org.id,
        role="caregiver",
        child_id=child.id,
        valid_for=timedelta(days=3),
    )
    staff_invite, _ = invites.create_invite(
        session,
        SYSTEM,
        organization_id=org.id,
        role="therapist",
        child_id=None,
        valid_for=timedelta(days=3),
    )
    _, reset_token = password_reset.issue(session, SYSTEM, user=colleague)
    # A second browser of the therapist's, for "end another session".
    other_session = accounts.start_session(session, therapist, ip="10.0.0.9", user_agent="Tablet")
    paused = factory.assignment(
        child, factory.activity(title="Button practice"), start_date=today - timedelta(days=5)
    )
    session.add(AssignmentPause(assignment_id=paused.id, start_date=today - timedelta(days=1)))
    device = PushSubscription(
        user_id=caregiver.id,
        endpoint="https://push.invalid/device-1",
        p256dh=P256DH,
        auth=base64.urlsafe_b64encode(b"0123456789abcdef").decode().rstrip("="),
        device_name="Pat's phone",
    )
    message = InboxMessage(user_id=therapist.id, kind="summary", title="Weekly", body="All good")
    session.add_all([device, message])
    home = factory.assignment(
        child,
        factory.activity(title="Sock practice", easier="Start with a loose sock."),
        start_date=today - timedelta(days=3),
        setting="home",
    )
    log = CompletionLog(
        client_id=str(uuid.uuid4()),
        assignment_id=home.id,
        child_id=child.id,
        logged_by_id=caregiver.id,
        occurred_at=utcnow(),
        local_date=today,
    )
    note = CoachingNote(child_id=child.id, author_id=therapist.id, body="Try it after snack")
    session.add_all([log, note])
    api_token, _ = tokens.create_token(session, SYSTEM, user_id=caregiver.id, name="Script")
    goal = Goal(
        child_id=child.id,
        statement="Puts on socks without help",
        measure="seconds",
        baseline=120,
        target=30,
        shared_with_school=True,
        gas_levels=["Needs help", "Starts alone", "Both socks", "Socks and shoes", "Dresses"],
        gas_baseline=-1,
    )
    session.add(goal)
    template = ProgramTemplate(organization_id=org.id, name="Starter", created_by_id=therapist.id)
    session.add(template)
    passkey = Passkey(
        user_id=therapist.id,
        credential_id="d29ybGQtcGFzc2tleQ",
        public_key=b"not used by the authorization tests",
        user_handle=b"theo",
        name="Theo's phone",
    )
    session.add(passkey)
    instruments.seed(session, org.id)
    instruments.seed(session, org_b.id)
    instrument = instruments.active(session, org.id)[0]
    assessment_result = AssessmentResult(
        child_id=child.id,
        instrument_id=instrument.id,
        taken_on=today - timedelta(days=7),
        score_type="standard",
        value=95,
    )
    session.add(assessment_result)
    copm_problem = CopmProblem(child_id=child.id, description="Dressing for school", importance=8)
    session.add(copm_problem)
    session.flush()
    copm_assessment = CopmAssessment(
        child_id=child.id,
        assessed_on=today - timedelta(days=28),
        scores=[CopmScore(problem_id=copm_problem.id, performance=4, satisfaction=5)],
    )
    session.add(copm_assessment)
    session.commit()
    # Ready clips: Maya's home activity (not the teacher's), her classroom activity, and
    # the custom activity's own (every child who has it).
    home_clip = _ready_clip(app, session, org, child, home.activity_id)
    classroom_clip = _ready_clip(app, session, org, child, custom.id)
    library_clip = _ready_clip(app, session, org, None, custom.id)
    session.commit()
    member = session.scalar(select(OrgMembership).where(OrgMembership.user_id == colleague.id))
    gone_member = session.scalar(
        select(OrgMembership).where(OrgMembership.user_id == deactivated.id)
    )
    users = {
        "admin": admin,
        "therapist": therapist,
        "colleague": colleague,
        "caregiver": caregiver,
        "teacher": teacher,
        "other_caregiver": other_caregiver,
        "other_therapist": other_therapist,
        "deactivated": deactivated,
    }
    objects: dict[str, Any] = {
        "org": org,
        "child": child,
        "other_child": other_child,
        "child_b": child_b,
        "assignment": assignment,
        "activity": custom,
        "template": template,
        "paused": paused,
        "home": home,
        "goal": goal,
        "log": log,
        "note": note,
        "api_token": api_token,
        "device": device,
        "message": message,
        "today": today,
        "invite": invite,
        "staff_invite": staff_invite,
        "member": member,
        "gone_member": gone_member,
        "session": other_session,
        "passkey": passkey,
        "home_clip": home_clip,
        "classroom_clip": classroom_clip,
        "library_clip": library_clip,
        "instrument": instrument,
        "assessment_result": assessment_result,
        "copm_problem": copm_problem,
        "copm_assessment": copm_assessment,
    }
    return World(users, objects, {"invite": invite_token, "reset": reset_token})


def _store_picture(app: Flask) -> str:
    image = io.BytesIO()
    PIL.Image.new("RGB", (8, 8), "teal").save(image, "PNG")
    folder = Path(app.instance_path) / "pictures"
    return pictures.store(folder, pictures.reencode(image.getvalue()))


def _ready_clip(app: Flask, session: Any, org: Any, child: Any, activity_id: int) -> MediaClip:
    """A clip as processing leaves it (its files stand in: access is what is tested here)."""
    store = media_storage.storage(app)
    with store.new_upload_file() as upload:
        upload.write(b"upload")
    key = media_storage.new_key()
    store.adopt(Path(upload.name), key)
    store.path(key, "upload").rename(store.path(key, "mp4"))
    store.path(key, "jpg").write_bytes(b"poster")
    clip = MediaClip(
        organization_id=org.id,
        child_id=child.id if child is not None else None,
        activity_id=activity_id,
        key=key,
        title="How to hold it",
        status=ClipStatus.READY,
        width=640,
        height=360,
        duration_seconds=12.0,
        stored_bytes=12,
    )
    session.add(clip)
    session.flush()
    return clip


def deactivate(session: Any, world: World) -> None:
    """Deactivate the "deactivated" persona (after it signed in: its session ends)."""
    accounts.deactivate_member(session, SYSTEM, world["org"].id, world["gone_member"].id)
    session.commit()


def refresh(session: Any, world: World) -> None:
    for obj in [*world.users.values(), *world.objects.values()]:
        if isinstance(obj, User | Child | Invite | OrgMembership):
            session.refresh(obj)


def signed_in_client(app: Flask, session: Any, user: User) -> Any:
    """A test client signed in as ``user`` through a real server-side session (no password
    check, which would make the exhaustive tests slow)."""
    login = accounts.start_session(session, user, ip="127.0.0.1", user_agent="pytest")
    session.commit()
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = login.token
        cookie["_fresh"] = True
        cookie.permanent = True
    return client

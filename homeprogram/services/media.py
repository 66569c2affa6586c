"""Therapists' video clips: who may add and watch them, consent, processing and clean-up.

A clip belongs to one child's activity (it may show that child, with the family's consent)
or to a custom activity (every child it is assigned to sees it; it never shows a child).
The upload is stored as it came (``queued``); a background job probes and transcodes it
(services.video) and it becomes ``ready`` or ``refused`` with a reason.
"""

import logging
import tempfile
import time
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from flask_babel import gettext
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from homeprogram.models import (
    Activity,
    Assignment,
    CareRole,
    Child,
    ClipStatus,
    MediaClip,
    Setting,
    VideoConsent,
)
from homeprogram.models.base import utcnow
from homeprogram.services import access, audit, library, video
from homeprogram.services.audit import SYSTEM, Actor
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.services.media_storage import MediaStorage

log = logging.getLogger(__name__)

# A clip claimed this long ago whose worker never finished is claimed again.
CLAIM_LEASE = timedelta(minutes=30)
# Files of a hidden clip (consent revoked) are deleted by the next housekeeping run after it.
HIDDEN_GRACE = timedelta(minutes=10)
PROGRESS_EVERY_SECONDS = 1.0
MAX_TITLE = 120

Transaction = Callable[[], AbstractContextManager[Session]]


# --- Consent ----------------------------------------------------------------------------------


def consent_of(session: Session, child_id: int) -> VideoConsent | None:
    """The consent in force for clips that show the child, or None."""
    return session.scalar(
        select(VideoConsent)
        .where(VideoConsent.child_id == child_id, VideoConsent.revoked_at.is_(None))
        .order_by(VideoConsent.given_at.desc())
        .limit(1)
    )


def give_consent(session: Session, actor: Actor, child: Child) -> VideoConsent:
    current = consent_of(session, child.id)
    if current is not None:
        return current
    consent = VideoConsent(child_id=child.id, given_by_id=actor.user_id, given_at=utcnow())
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        "media.consent_given",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="video_consent",
        target_id=consent.id,
    )
    return consent


def revoke_consent(session: Session, actor: Actor, child: Child) -> int:
    """End the consent; the clips that show the child are hidden at once (their files go
    at the next housekeeping run). Returns how many clips were hidden."""
    now = utcnow()
    current = consent_of(session, child.id)
    if current is None:
        return 0
    current.revoked_at = now
    current.revoked_by_id = actor.user_id
    hidden = session.execute(
        update(MediaClip)
        .where(
            MediaClip.child_id == child.id,
            MediaClip.shows_child.is_(True),
            MediaClip.hidden_at.is_(None),
        )
        .values(hidden_at=now)
    ).rowcount
    audit.record(
        session,
        actor,
        "media.consent_revoked",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="video_consent",
        target_id=current.id,
        clips_hidden=hidden,
    )
    return hidden


def audit_clip(session: Session, actor: Actor, action: str, clip: MediaClip, **detail: Any) -> None:
    """An audit row about one clip (its organisation and child)."""
    audit.record(
        session,
        actor,
        action,
        organization_id=clip.organization_id,
        child_id=clip.child_id,
        target_type="media_clip",
        target_id=clip.id,
        **detail,
    )


# --- Adding a clip ----------------------------------------------------------------------------


def quota_bytes(quota_mb: int) -> int:
    return max(0, quota_mb) * 1024 * 1024


def organization_usage(session: Session, organization_id: int) -> int:
    """Bytes the organisation's clips keep in storage."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(MediaClip.stored_bytes), 0)).where(
                MediaClip.organization_id == organization_id
            )
        )
        or 0
    )


@dataclass(frozen=True)
class NewClip:
    activity: Activity
    child: Child | None  # None: a custom activity's clip, for every child
    title: str
    shows_child: bool
    upload_bytes: int


def check_new_clip(
    session: Session, new: NewClip, organization_id: int, quota_mb: int
) -> dict[str, str]:
    """Field messages for a clip that cannot be added (empty when it can)."""
    errors: dict[str, str] = {}
    if len(new.title) > MAX_TITLE:
        errors["title"] = gettext("Use at most %(num)d characters.", num=MAX_TITLE)
    if new.upload_bytes <= 0:
        errors["video"] = gettext("Choose a video to upload.")
    elif new.upload_bytes > video.MAX_BYTES:
        errors["video"] = video.reason_text("too_large")
    elif organization_usage(session, organization_id) + new.upload_bytes > quota_bytes(quota_mb):
        errors["video"] = gettext(
            "Your organisation's video storage is full. Delete clips you no longer need, "
            "or ask your administrator to raise the quota."
        )
    if new.shows_child:
        if new.child is None:
            errors["shows_child"] = gettext(
                "A video for the whole library cannot show a child. Add it to one child's "
                "activity instead, with the family's consent."
            )
        elif consent_of(session, new.child.id) is None:
            errors["shows_child"] = gettext(
                "The family has not agreed to videos that show %(name)s. Ask them to give "
                "consent in the app first, or record a video that does not show the child.",
                name=new.child.display_name,
            )
    return errors


def add_clip(
    session: Session,
    actor: Actor,
    new: NewClip,
    *,
    organization_id: int,
    key: str,
    quota_mb: int,
) -> MediaClip:
    """Record a stored upload as a queued clip (ValidationFailed changes nothing)."""
    errors = check_new_clip(session, new, organization_id, quota_mb)
    if errors:
        raise ValidationFailed(errors)
    clip = MediaClip(
        organization_id=organization_id,
        child_id=new.child.id if new.child else None,
        activity_id=new.activity.id,
        uploaded_by_id=actor.user_id,
        key=key,
        title=" ".join(new.title.split()),
        shows_child=new.shows_child,
        status=ClipStatus.QUEUED,
        progress=0,
        upload_bytes=new.upload_bytes,
        stored_bytes=new.upload_bytes,
        created_at=utcnow(),
    )
    session.add(clip)
    session.flush()
    audit_clip(
        session,
        actor,
        "media.uploaded",
        clip,
        activity_id=new.activity.id,
        shows_child=new.shows_child,
        bytes=new.upload_bytes,
    )
    return clip


# --- Processing -------------------------------------------------------------------------------


def claim(session: Session, clip_id: int | None, now: datetime) -> MediaClip | None:
    """Claim one clip to process (``clip_id``, or the oldest waiting); None if taken.

    The conditional UPDATE is the lock: of two processes only one changes the row.
    """
    waiting = or_(
        MediaClip.status == ClipStatus.QUEUED,
        (MediaClip.status == ClipStatus.PROCESSING) & (MediaClip.claimed_at < now - CLAIM_LEASE),
    )
    if clip_id is None:
        clip_id = session.scalar(
            select(MediaClip.id)
            .where(waiting, MediaClip.hidden_at.is_(None))
            .order_by(MediaClip.id)
            .limit(1)
        )
        if clip_id is None:
            return None
    changed = session.execute(
        update(MediaClip)
        .where(MediaClip.id == clip_id, waiting)
        .values(status=ClipStatus.PROCESSING, claimed_at=now, progress=0)
    ).rowcount
    if not changed:
        return None
    return session.get(MediaClip, clip_id)


def process(transaction: Transaction, store: MediaStorage, clip_id: int | None = None) -> bool:
    """Claim and transcode one clip; False when there was none to claim."""
    with transaction() as s:
        clip = claim(s, clip_id, utcnow())
        if clip is None:
            return False
        clip_id, key = clip.id, clip.key
    source = store.path(key, "upload")
    last = [0.0]

    def progress(fraction: float) -> None:
        if time.monotonic() - last[0] < PROGRESS_EVERY_SECONDS and fraction < 1:
            return
        last[0] = time.monotonic()
        with transaction() as s:
            s.execute(
                update(MediaClip)
                .where(MediaClip.id == clip_id)
                .values(progress=int(min(fraction, 1.0) * 100))
            )

    try:
        done = video.transcode(source, store.path(key, "mp4"), store.path(key, "jpg"), progress)
    except video.VideoRefused as refused:
        _finish_refused(transaction, store, clip_id, key, refused.code)
        return True
    except Exception:
        # Not the clip's fault as far as we know (disk, codec library): leave it claimed;
        # the lease runs out and another run tries again. Logged with its id.
        log.exception("media clip %s: processing failed; it will be tried again", clip_id)
        return True
    source.unlink(missing_ok=True)
    with transaction() as s:
        clip = s.get(MediaClip, clip_id)
        if clip is None:  # deleted while it was processed
            store.delete(key)
            return True
        clip.status = ClipStatus.READY
        clip.progress = 100
        clip.duration_seconds = done.duration
        clip.width, clip.height = done.width, done.height
        clip.stored_bytes = store.size(key)
        clip.ready_at = utcnow()
    log.info("media clip %s ready: %.1f s, %d×%d", clip_id, done.duration, done.width, done.height)
    return True


def _finish_refused(
    transaction: Transaction, store: MediaStorage, clip_id: int, key: str, code: str
) -> None:
    store.delete(key)
    with transaction() as s:
        clip = s.get(MediaClip, clip_id)
        if clip is not None:
            clip.status = ClipStatus.REFUSED
            clip.reason = code
            clip.stored_bytes = 0
            audit_clip(s, SYSTEM, "media.refused", clip, reason=code)
    log.info("media clip %s refused: %s", clip_id, code)


def process_waiting(transaction: Transaction, store: MediaStorage, limit: int = 20) -> int:
    """Process waiting clips one after another (the scheduler's job); returns how many."""
    done = 0
    while done < limit and process(transaction, store):
        done += 1
    return done


# --- Who sees what ----------------------------------------------------------------------------


def can_view(session: Session, user_id: int | None, clip: MediaClip) -> bool:
    """Staff of the child (or the organisation, for a library clip), the child's caregivers,
    and teachers when the activity is part of the child's classroom program."""
    if user_id is None or clip.hidden_at is not None:
        return False
    if clip.child_id is None:
        activity = session.get(Activity, clip.activity_id)
        return activity is not None and library.can_view_picture(session, user_id, activity)
    child = session.get(Child, clip.child_id)
    if child is None:
        return False
    roles = access.child_roles(session, user_id, child)
    if any(role in access.STAFF_ROLES or role in access.FAMILY_ROLES for role in roles):
        return True
    if CareRole.TEACHER.value in roles:
        return _in_classroom_program(session, clip.child_id, clip.activity_id)
    return False


def _in_classroom_program(session: Session, child_id: int, activity_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Assignment.child_id == child_id,
                    Assignment.activity_id == activity_id,
                    Assignment.setting.in_([Setting.CLASSROOM, Setting.BOTH]),
                )
            )
        )
    )


def viewable_clip(session: Session, user_id: int | None, clip_id: int) -> MediaClip:
    """A ready clip the user may watch, or NotFound (no existence leak)."""
    clip = session.get(MediaClip, clip_id)
    if clip is None or clip.status != ClipStatus.READY or not can_view(session, user_id, clip):
        raise NotFound()
    return clip


def clips_by_activity(session: Session, child_id: int) -> dict[int, list[MediaClip]]:
    """Ready, visible clips of a child's program by activity: the child's own and those of
    the custom activities in the program; one query."""
    in_program = select(Assignment.activity_id).where(Assignment.child_id == child_id)
    rows = session.scalars(
        select(MediaClip)
        .where(
            or_(
                MediaClip.child_id == child_id,
                MediaClip.child_id.is_(None) & MediaClip.activity_id.in_(in_program),
            ),
            MediaClip.status == ClipStatus.READY,
            MediaClip.hidden_at.is_(None),
        )
        .order_by(MediaClip.child_id.is_(None), MediaClip.id)
    )
    found: dict[int, list[MediaClip]] = {}
    for clip in rows:
        found.setdefault(clip.activity_id, []).append(clip)
    return found


def child_clips(session: Session, child_id: int) -> list[MediaClip]:
    """Every clip of the child's own (any status, not hidden), newest first: the staff list."""
    return list(
        session.scalars(
            select(MediaClip)
            .where(MediaClip.child_id == child_id, MediaClip.hidden_at.is_(None))
            .order_by(MediaClip.id.desc())
        )
    )


def activity_clips(session: Session, activity_id: int) -> list[MediaClip]:
    return list(
        session.scalars(
            select(MediaClip)
            .where(MediaClip.activity_id == activity_id, MediaClip.child_id.is_(None))
            .order_by(MediaClip.id.desc())
        )
    )


def get_clip_for_staff(
    session: Session, user_id: int, organization_id: int | None, clip_id: int
) -> MediaClip:
    """A clip a staff member may manage: of a child they are staff for, or of a custom
    activity of their organisation (``organization_id``)."""
    clip = session.get(MediaClip, clip_id)
    if clip is None or clip.hidden_at is not None:
        raise NotFound()
    if clip.child_id is not None:
        access.child_access(session, user_id, clip.child_id, access.STAFF_ROLES)
    elif clip.organization_id != organization_id:
        raise NotFound()
    return clip


# --- Deleting ---------------------------------------------------------------------------------


def delete_clip(session: Session, actor: Actor, clip: MediaClip) -> None:
    """Remove a clip's row; the caller deletes its files after the commit (else
    :func:`sweep` does)."""
    audit_clip(session, actor, "media.deleted", clip)
    session.delete(clip)
    session.flush()


def keys_of_child(session: Session, child_id: int) -> list[str]:
    """The storage keys of every clip of the child's own (for deleting their files)."""
    return list(session.scalars(select(MediaClip.key).where(MediaClip.child_id == child_id)))


def delete_for_activity_of_child(session: Session, child_id: int, activity_id: int) -> int:
    """The child's clips for an activity that is no longer in their program at all."""
    still = session.scalar(
        select(
            exists().where(Assignment.child_id == child_id, Assignment.activity_id == activity_id)
        )
    )
    if still:
        return 0
    clips = list(
        session.scalars(
            select(MediaClip).where(
                MediaClip.child_id == child_id, MediaClip.activity_id == activity_id
            )
        )
    )
    for clip in clips:
        session.delete(clip)
    session.flush()
    return len(clips)


def sweep(transaction: Transaction, store: MediaStorage, older_than_seconds: float = 3600) -> int:
    """Housekeeping: delete hidden clips (consent revoked) and files no clip owns.

    Rows are the index of the files: deleting a child, an assignment or a clip deletes
    rows, and their files go here. Returns the number of keys whose files were deleted.
    """
    now = utcnow()
    with transaction() as s:
        hidden = list(
            s.scalars(
                select(MediaClip).where(
                    MediaClip.hidden_at.is_not(None), MediaClip.hidden_at <= now - HIDDEN_GRACE
                )
            )
        )
        for clip in hidden:
            audit_clip(s, SYSTEM, "media.deleted", clip, reason="consent_revoked")
            s.delete(clip)
    deleted = 0
    strays = list(store.stray_keys(older_than_seconds))
    with transaction() as s:
        known = set(s.scalars(select(MediaClip.key).where(MediaClip.key.in_(strays))))
    for key in strays:
        if key not in known:
            store.delete(key)
            deleted += 1
    if deleted:
        log.info("media: deleted the files of %d clips no longer kept", deleted)
    return deleted


def export_archive(session: Session, actor: Actor, child: Child, store: MediaStorage) -> IO[bytes]:
    """The child's ready clips as a ZIP in a temporary file (deleted when closed).

    Stored, not compressed: the videos are compressed already.
    """
    clips = [c for c in child_clips(session, child.id) if c.status == ClipStatus.READY]
    archive = tempfile.TemporaryFile()  # noqa: SIM115  (send_file closes it)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as out:
        for clip in clips:
            for kind in ("mp4", "jpg"):
                path = store.path(clip.key, kind)
                if path.is_file():
                    out.write(path, f"clip-{clip.id}.{kind}")
    archive.seek(0)
    audit.record(
        session,
        actor,
        "media.exported",
        organization_id=child.organization_id,
        child_id=child.id,
        target_type="child",
        target_id=child.id,
        clips=len(clips),
    )
    return archive

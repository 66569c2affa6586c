"""Therapists' video clips, and each family's consent to clips that show their child."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from homeprogram.models.base import Base, utcnow


class ClipStatus:
    QUEUED = "queued"  # stored as uploaded, waiting for the background job
    PROCESSING = "processing"
    READY = "ready"
    REFUSED = "refused"  # not a video within the limits; ``reason`` says why


class MediaClip(Base):
    """A short video for one child's activity, or for a custom activity (every child).

    The files live in the media storage under ``key`` (services.media_storage); rows are
    the only index of them, so a file without a row is removed by housekeeping.
    """

    __tablename__ = "media_clip"
    __table_args__ = (Index("ix_media_clip_child_activity", "child_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    # Set: the clip belongs to this child's program for ``activity_id``. None: it belongs to
    # the custom activity and shows to every child it is assigned to (never shows a child).
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    key: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    shows_child: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=ClipStatus.QUEUED, index=True)
    reason: Mapped[str | None] = mapped_column(String(24))
    progress: Mapped[int] = mapped_column(default=0)  # percent, while processing
    upload_bytes: Mapped[int] = mapped_column(default=0)
    # Bytes kept in storage (the upload while queued; the video and poster when ready).
    stored_bytes: Mapped[int] = mapped_column(default=0)
    duration_seconds: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    claimed_at: Mapped[datetime | None]
    # Set when the family's consent was revoked: no longer shown, files deleted soon after.
    hidden_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None]


class VideoConsent(Base):
    """A caregiver's consent to clips that show the child; revoking keeps the row."""

    __tablename__ = "video_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    given_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None]

"""media: library illustrations, therapists' video clips, families' video consent

``activity.illustration`` is the version of a built-in activity's SVG illustration;
``picture_alt`` and ``step_picture_alts`` (on activities and their translations) are the
text alternatives of the picture and of each step's picture. ``media_clip`` indexes the
video files in the media storage; ``video_consent`` records a caregiver's consent to clips
that show their child. Existing rows: no illustration (the next ``library sync`` adds it),
no clips, no consent.

Revision ID: 0014_media
Revises: 0013_languages
Create Date: 2026-11-30 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import homeprogram.models.base

revision: str = "0014_media"
down_revision: str | Sequence[str] | None = "0013_languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = homeprogram.models.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("illustration", sa.String(16), nullable=True))
        batch.add_column(sa.Column("picture_alt", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("step_picture_alts", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("activity_translation") as batch:
        batch.add_column(sa.Column("picture_alt", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("step_picture_alts", sa.JSON(), nullable=False, server_default="[]")
        )
    op.create_table(
        "media_clip",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column(
            "child_id", sa.Integer(), sa.ForeignKey("child.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "activity_id",
            sa.Integer(),
            sa.ForeignKey("activity.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "uploaded_by_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("shows_child", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(24), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("upload_bytes", sa.Integer(), nullable=False),
        sa.Column("stored_bytes", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("claimed_at", UTC(), nullable=True),
        sa.Column("hidden_at", UTC(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("ready_at", UTC(), nullable=True),
    )
    op.create_index("ix_media_clip_organization_id", "media_clip", ["organization_id"])
    op.create_index("ix_media_clip_activity_id", "media_clip", ["activity_id"])
    op.create_index("ix_media_clip_status", "media_clip", ["status"])
    op.create_index("ix_media_clip_child_activity", "media_clip", ["child_id", "activity_id"])
    op.create_table(
        "video_consent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "child_id", sa.Integer(), sa.ForeignKey("child.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "given_by_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("given_at", UTC(), nullable=False),
        sa.Column(
            "revoked_by_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("revoked_at", UTC(), nullable=True),
    )
    op.create_index("ix_video_consent_child_id", "video_consent", ["child_id"])


def downgrade() -> None:
    op.drop_table("video_consent")
    op.drop_table("media_clip")
    with op.batch_alter_table("activity_translation") as batch:
        batch.drop_column("step_picture_alts")
        batch.drop_column("picture_alt")
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("step_picture_alts")
        batch.drop_column("picture_alt")
        batch.drop_column("illustration")

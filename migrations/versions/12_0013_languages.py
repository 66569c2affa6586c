"""languages: activity translations, the family's language, an invite's language

``activity_translation`` holds the family-facing text of an activity in another language
(the library's Spanish files, or a therapist's version of a custom activity);
``child.family_language`` is the language the therapist records for the family;
``invite.language`` the language an invite opens in. Existing rows: no translations, no
recorded family language, invites in the browser's language.

Revision ID: 0013_languages
Revises: 0012_activity_safety
Create Date: 2026-11-30 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import homeprogram.models.base

revision: str = "0013_languages"
down_revision: str | Sequence[str] | None = "0012_activity_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_translation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "activity_id",
            sa.Integer(),
            sa.ForeignKey("activity.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("easier", sa.Text(), nullable=False),
        sa.Column("harder", sa.Text(), nullable=False),
        sa.Column("default_dose", sa.String(120), nullable=False),
        sa.Column("stop_if", sa.JSON(), nullable=False),
        sa.Column("safety_notes", sa.JSON(), nullable=False),
        sa.Column("classroom_summary", sa.Text(), nullable=False),
        sa.Column("classroom_steps", sa.JSON(), nullable=False),
        sa.Column("updated_at", homeprogram.models.base.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("activity_id", "language"),
    )
    with op.batch_alter_table("child") as batch:
        batch.add_column(sa.Column("family_language", sa.String(16), nullable=True))
    with op.batch_alter_table("invite") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("child") as batch:
        batch.drop_column("family_language")
    op.drop_table("activity_translation")

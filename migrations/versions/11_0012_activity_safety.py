"""activity safety, classroom wording and rationale

Structured safety for every activity (small parts, balloons, supervision level, "show
first", when to stop, notes) as one JSON object, the teacher's wording for classroom
activities and the therapist's rationale. Existing rows get the defaults: an empty safety
object (read as "no small parts, no balloons, adult nearby"), empty wording; the next
``homeprogram library sync`` fills the built-ins.

Revision ID: 0012_activity_safety
Revises: 0011_reminder_claims
Create Date: 2026-11-29 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_activity_safety"
down_revision: str | Sequence[str] | None = "0011_reminder_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(
            sa.Column("safety", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(
            sa.Column("classroom_summary", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("classroom_steps", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("rationale", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("rationale")
        batch.drop_column("classroom_steps")
        batch.drop_column("classroom_summary")
        batch.drop_column("safety")

"""reminder claims with leases, jitter and the message's count

``reminder_delivery`` rows are now planned (``pending``) before they are sent, and a
scheduler leases a batch of them (``lease_owner``, ``lease_until``); ``not_before`` holds
the due time plus jitter, ``attempts`` counts leases taken, ``activities`` the count the
notification shows. Existing rows keep their status; their new columns stay empty.
``reminder_planning`` records which range of plans was planned for which minute.

Revision ID: 0011_reminder_claims
Revises: 0010_passkeys
Create Date: 2026-11-29 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import homeprogram.models.base

revision: str = "0011_reminder_claims"
down_revision: str | Sequence[str] | None = "0010_passkeys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminder_delivery") as batch:
        batch.add_column(
            sa.Column("not_before", homeprogram.models.base.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("lease_until", homeprogram.models.base.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("activities", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index(
            "ix_reminder_delivery_status_not_before", ["status", "not_before"], unique=False
        )
    op.create_table(
        "reminder_planning",
        sa.Column("minute", homeprogram.models.base.UTCDateTime(), nullable=False),
        sa.Column("range_start", sa.Integer(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "range_start", name=op.f("pk_reminder_planning")),
    )


def downgrade() -> None:
    op.drop_table("reminder_planning")
    with op.batch_alter_table("reminder_delivery") as batch:
        batch.drop_index("ix_reminder_delivery_status_not_before")
        batch.drop_column("activities")
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
        batch.drop_column("not_before")

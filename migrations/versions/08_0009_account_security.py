"""account security: self-service password links, known devices

``password_reset.kind`` tells an admin-issued link ("admin") from one asked for by email
("self"); ``known_device`` keeps, per staff member, the hash of each browser's device
cookie; ``user_session.new_device`` marks a sign-in from a browser not seen before.

Revision ID: 0009_account_security
Revises: 0008_adherence_cache
Create Date: 2026-11-29 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import homeprogram.models.base

revision: str = "0009_account_security"
down_revision: str | Sequence[str] | None = "0008_adherence_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", homeprogram.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_known_device_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_device")),
        sa.UniqueConstraint(
            "user_id", "token_hash", name=op.f("uq_known_device_user_id_token_hash")
        ),
    )
    with op.batch_alter_table("known_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_known_device_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("password_reset", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(length=16), server_default=sa.text("'admin'"), nullable=False
            )
        )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("new_device", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("new_device")
    with op.batch_alter_table("password_reset", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("known_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_device_user_id"))
    op.drop_table("known_device")

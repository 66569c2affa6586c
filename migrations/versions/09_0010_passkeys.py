"""passkeys: WebAuthn credentials, ceremony challenges, the organization's passkey policy

Revision ID: 0010_passkeys
Revises: 0009_account_security
Create Date: 2026-11-29 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_passkeys"
down_revision: str | Sequence[str] | None = "0009_account_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "passkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(length=64), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_passkey_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkey_credential_id")),
    )
    with op.batch_alter_table("passkey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passkey_user_id"), ["user_id"], unique=False)

    op.create_table(
        "passkey_challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("challenge", sa.LargeBinary(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_passkey_challenge_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey_challenge")),
        sa.UniqueConstraint("handle", name=op.f("uq_passkey_challenge_handle")),
    )
    with op.batch_alter_table("passkey_challenge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passkey_challenge_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_passkey_challenge_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("passkey_policy", sa.String(length=16), server_default="none", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("passkey_policy")
    with op.batch_alter_table("passkey_challenge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passkey_challenge_user_id"))
        batch_op.drop_index(batch_op.f("ix_passkey_challenge_expires_at"))
    op.drop_table("passkey_challenge")
    with op.batch_alter_table("passkey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passkey_user_id"))
    op.drop_table("passkey")

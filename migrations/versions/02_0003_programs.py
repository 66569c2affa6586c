"""programs: program templates (per organization) and their items

Revision ID: 0003_programs
Revises: 0001_foundation
Create Date: 2026-11-27 02:43:03.021294
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import homeprogram.models.base

revision: str = "0003_programs"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "program_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", homeprogram.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", homeprogram.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_program_template_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_program_template_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_template")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_program_template_organization_id_name")
        ),
    )
    with op.batch_alter_table("program_template", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_template_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "program_template_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("dose_amount", sa.Integer(), nullable=True),
        sa.Column("dose_unit", sa.String(length=16), nullable=False),
        sa.Column("dose_text", sa.String(length=120), nullable=False),
        sa.Column("minutes_per_session", sa.Integer(), nullable=False),
        sa.Column("days_of_week", sa.JSON(), nullable=False),
        sa.Column("times_per_day", sa.Integer(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("setting", sa.String(length=16), nullable=False),
        sa.Column("anchor", sa.String(length=60), nullable=False),
        sa.Column("caregiver_note", sa.Text(), nullable=False),
        sa.Column("measure_name", sa.String(length=80), nullable=True),
        sa.Column("measure_unit", sa.String(length=30), nullable=True),
        sa.Column("measure_higher_is_better", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_program_template_item_activity_id_activity"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["program_template.id"],
            name=op.f("fk_program_template_item_template_id_program_template"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_template_item")),
    )
    with op.batch_alter_table("program_template_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_template_item_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_program_template_item_template_id"), ["template_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("program_template_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_template_item_template_id"))
        batch_op.drop_index(batch_op.f("ix_program_template_item_activity_id"))

    op.drop_table("program_template_item")
    with op.batch_alter_table("program_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_template_organization_id"))

    op.drop_table("program_template")

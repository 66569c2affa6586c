"""outcomes: GAS levels and follow-up ratings, COPM, standardised assessment results

A goal's single ``gas_level`` becomes a dated ``gas_rating`` row (rated on the day it was
saved, in UTC); the goal gains its five written levels, the level at baseline and a weight.
``copm_problem``/``copm_assessment``/``copm_score`` hold COPM scores;
``assessment_instrument`` is each organisation's list of instruments (names only, seeded
with common pediatric OT instruments) and ``assessment_result`` the scores recorded.

Revision ID: 0015_outcomes
Revises: 0014_media
Create Date: 2026-11-30 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import homeprogram.models.base

revision: str = "0015_outcomes"
down_revision: str | Sequence[str] | None = "0014_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = homeprogram.models.base.UTCDateTime

# The seed list as of this migration (homeprogram.services.instruments.SEEDED may grow).
SEEDED = (
    "Beery-Buktenica Developmental Test of Visual-Motor Integration (Beery VMI)",
    "Bruininks-Oseretsky Test of Motor Proficiency (BOT-2)",
    "Peabody Developmental Motor Scales (PDMS)",
    "Sensory Profile 2",
    "Sensory Processing Measure (SPM-2)",
    "Movement Assessment Battery for Children (MABC)",
    "Developmental Test of Visual Perception (DTVP)",
    "Test of Visual Perceptual Skills (TVPS)",
    "Pediatric Evaluation of Disability Inventory (PEDI-CAT)",
    "School Function Assessment (SFA)",
    "Evaluation Tool of Children's Handwriting (ETCH)",
    "Miller Function and Participation Scales (M-FUN)",
    "Assessment of Motor and Process Skills (AMPS)",
    "Vineland Adaptive Behavior Scales",
)


def _user_fk(name: str) -> sa.Column:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )


def upgrade() -> None:
    op.create_table(
        "assessment_instrument",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id",
            sa.Integer(),
            sa.ForeignKey("organization.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("archived_at", UTC(), nullable=True),
        sa.UniqueConstraint("organization_id", "name"),
    )
    op.create_index(
        "ix_assessment_instrument_organization_id", "assessment_instrument", ["organization_id"]
    )
    op.create_table(
        "assessment_result",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "child_id", sa.Integer(), sa.ForeignKey("child.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("assessment_instrument.id"),
            nullable=False,
        ),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("score_type", sa.String(16), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("subtest", sa.String(120), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        _user_fk("by_id"),
        sa.Column("created_at", UTC(), nullable=False),
    )
    op.create_index("ix_assessment_result_child_day", "assessment_result", ["child_id", "taken_on"])
    op.create_table(
        "gas_rating",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "goal_id", sa.Integer(), sa.ForeignKey("goal.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        _user_fk("by_id"),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.UniqueConstraint("goal_id", "rated_on"),
    )
    op.create_table(
        "copm_problem",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "child_id", sa.Integer(), sa.ForeignKey("child.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("importance", sa.Integer(), nullable=False),
        _user_fk("created_by_id"),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("archived_at", UTC(), nullable=True),
    )
    op.create_index("ix_copm_problem_child_id", "copm_problem", ["child_id"])
    op.create_table(
        "copm_assessment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "child_id", sa.Integer(), sa.ForeignKey("child.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        _user_fk("by_id"),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
    )
    op.create_index("ix_copm_assessment_child_day", "copm_assessment", ["child_id", "assessed_on"])
    op.create_table(
        "copm_score",
        sa.Column(
            "assessment_id",
            sa.Integer(),
            sa.ForeignKey("copm_assessment.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "problem_id",
            sa.Integer(),
            sa.ForeignKey("copm_problem.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("performance", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("goal") as batch:
        batch.add_column(sa.Column("gas_levels", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("gas_baseline", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("gas_weight", sa.Double(), nullable=True))
        batch.add_column(
            sa.Column(
                "baseline_result_id",
                sa.Integer(),
                sa.ForeignKey(
                    "assessment_result.id",
                    name="fk_goal_baseline_result_id_assessment_result",
                    ondelete="SET NULL",
                ),
                nullable=True,
            )
        )

    conn = op.get_bind()
    goal = sa.table(
        "goal",
        sa.column("id", sa.Integer()),
        sa.column("gas_level", sa.Integer()),
        sa.column("gas_rated_at", UTC()),
        sa.column("created_by_id", sa.Integer()),
    )
    rating = sa.table(
        "gas_rating",
        sa.column("goal_id", sa.Integer()),
        sa.column("level", sa.Integer()),
        sa.column("rated_on", sa.Date()),
        sa.column("by_id", sa.Integer()),
        sa.column("note", sa.Text()),
        sa.column("created_at", UTC()),
    )
    rows = conn.execute(
        sa.select(goal.c.id, goal.c.gas_level, goal.c.gas_rated_at).where(
            goal.c.gas_level.is_not(None), goal.c.gas_rated_at.is_not(None)
        )
    ).all()
    if rows:
        conn.execute(
            rating.insert(),
            [
                {
                    "goal_id": goal_id,
                    "level": level,
                    "rated_on": rated_at.date(),
                    "by_id": None,
                    "note": "",
                    "created_at": rated_at,
                }
                for goal_id, level, rated_at in rows
            ],
        )
    with op.batch_alter_table("goal") as batch:
        batch.drop_column("gas_rated_at")
        batch.drop_column("gas_level")

    organization = sa.table("organization", sa.column("id", sa.Integer()))
    instrument = sa.table(
        "assessment_instrument",
        sa.column("organization_id", sa.Integer()),
        sa.column("name", sa.String()),
    )
    org_ids = conn.execute(sa.select(organization.c.id)).scalars().all()
    if org_ids:
        conn.execute(
            instrument.insert(),
            [{"organization_id": org, "name": name} for org in org_ids for name in SEEDED],
        )


def downgrade() -> None:
    with op.batch_alter_table("goal") as batch:
        batch.add_column(sa.Column("gas_level", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("gas_rated_at", UTC(), nullable=True))
    conn = op.get_bind()
    # The latest rating of each goal becomes its single level again.
    conn.execute(
        sa.text(
            "UPDATE goal SET gas_level = (SELECT r.level FROM gas_rating r"
            " WHERE r.goal_id = goal.id ORDER BY r.rated_on DESC, r.id DESC LIMIT 1),"
            " gas_rated_at = (SELECT r.created_at FROM gas_rating r"
            " WHERE r.goal_id = goal.id ORDER BY r.rated_on DESC, r.id DESC LIMIT 1)"
        )
    )
    with op.batch_alter_table("goal") as batch:
        batch.drop_constraint("fk_goal_baseline_result_id_assessment_result", type_="foreignkey")
        batch.drop_column("baseline_result_id")
        batch.drop_column("gas_weight")
        batch.drop_column("gas_baseline")
        batch.drop_column("gas_levels")
    op.drop_table("copm_score")
    op.drop_table("copm_assessment")
    op.drop_table("copm_problem")
    op.drop_table("gas_rating")
    op.drop_table("assessment_result")
    op.drop_table("assessment_instrument")

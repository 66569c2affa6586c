"""levels and the child's screen: assignment levels, level-suggestion settings, rewards

``assignment.level`` is easier, standard (every existing assignment) or harder; an
organisation's ``level_*`` settings say when a level change is suggested; a
``level_suggestion_dismissal`` silences a suggestion; a ``reward`` is a family's jar of stars.

Revision ID: 0016_levels
Revises: 0015_outcomes
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import homeprogram.models.base

revision: str = "0016_levels"
down_revision: str | Sequence[str] | None = "0015_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = homeprogram.models.base.UTCDateTime


def _user_fk(name: str) -> sa.Column:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, not batch mode: rebuilding ``assignment`` on SQLite would
    # trip over the adherence cache's triggers (see 0008_adherence_cache).
    op.add_column(
        "assignment", sa.Column("level", sa.String(16), nullable=False, server_default="standard")
    )
    for name, default in (
        ("level_hard_count", "3"),
        ("level_hard_window", "4"),
        ("level_easy_streak", "5"),
    ):
        op.add_column(
            "organization", sa.Column(name, sa.Integer(), nullable=False, server_default=default)
        )
    op.create_table(
        "reward",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "child_id", sa.Integer(), sa.ForeignKey("child.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("prize", sa.String(80), nullable=False),
        sa.Column("stars_needed", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC(), nullable=False),
        sa.Column("ended_at", UTC(), nullable=True),
        _user_fk("created_by_id"),
    )
    op.create_index("ix_reward_child_open", "reward", ["child_id", "ended_at"])
    op.create_table(
        "level_suggestion_dismissal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("assignment.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        _user_fk("by_id"),
        sa.Column("created_at", UTC(), nullable=False),
    )
    op.create_index(
        "ix_level_dismissal_assignment", "level_suggestion_dismissal", ["assignment_id", "kind"]
    )


def downgrade() -> None:
    op.drop_table("level_suggestion_dismissal")
    op.drop_table("reward")
    for name in ("level_easy_streak", "level_hard_window", "level_hard_count"):
        op.drop_column("organization", name)
    op.drop_column("assignment", "level")  # SQLite 3.35+ drops a column in place

"""adherence day cache, index for recent responses

``adherence_day`` keeps the dashboard's per-day figures. Triggers delete the rows that a
write makes stale, whatever code writes: a log's row for its day when the log is added,
undone, moved or deleted; all of a child's rows when one of their assignments or pauses
changes. On PostgreSQL the triggers first lock the child's row (FOR NO KEY UPDATE), and
the code that refills the cache locks the same rows FOR SHARE before it reads: a refill
either sees the write or runs before it and has its rows deleted by it.

SQLite drops a table's triggers when batch mode rebuilds the table: a later migration
that rebuilds ``completion_log``, ``assignment`` or ``assignment_pause`` must create them
again (``create_triggers`` below).

The columns of a log that decide which day it counts on, and whether it counts, are
``assignment_id, child_id, local_date, deleted_at``: a change to its details does not
touch the cache.

Revision ID: 0008_adherence_cache
Revises: 0007_hardening
Create Date: 2026-11-27 05:14:34.265319
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_adherence_cache"
down_revision: str | Sequence[str] | None = "0007_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_SQLITE = (
    """CREATE TRIGGER adherence_day_log_insert AFTER INSERT ON completion_log
    BEGIN
        DELETE FROM adherence_day
        WHERE child_id = NEW.child_id AND local_date = NEW.local_date;
    END""",
    """CREATE TRIGGER adherence_day_log_update AFTER UPDATE OF assignment_id, child_id, local_date, deleted_at ON completion_log
    BEGIN
        DELETE FROM adherence_day
        WHERE (child_id = OLD.child_id AND local_date = OLD.local_date)
           OR (child_id = NEW.child_id AND local_date = NEW.local_date);
    END""",
    """CREATE TRIGGER adherence_day_log_delete AFTER DELETE ON completion_log
    BEGIN
        DELETE FROM adherence_day
        WHERE child_id = OLD.child_id AND local_date = OLD.local_date;
    END""",
    """CREATE TRIGGER adherence_day_assignment_insert AFTER INSERT ON assignment
    BEGIN
        DELETE FROM adherence_day WHERE child_id = NEW.child_id;
    END""",
    """CREATE TRIGGER adherence_day_assignment_update AFTER UPDATE ON assignment
    BEGIN
        DELETE FROM adherence_day WHERE child_id IN (OLD.child_id, NEW.child_id);
    END""",
    """CREATE TRIGGER adherence_day_assignment_delete AFTER DELETE ON assignment
    BEGIN
        DELETE FROM adherence_day WHERE child_id = OLD.child_id;
    END""",
    """CREATE TRIGGER adherence_day_pause_insert AFTER INSERT ON assignment_pause
    BEGIN
        DELETE FROM adherence_day
        WHERE child_id = (SELECT child_id FROM assignment WHERE id = NEW.assignment_id);
    END""",
    """CREATE TRIGGER adherence_day_pause_update AFTER UPDATE ON assignment_pause
    BEGIN
        DELETE FROM adherence_day WHERE child_id IN (
            SELECT child_id FROM assignment WHERE id IN (OLD.assignment_id, NEW.assignment_id)
        );
    END""",
    """CREATE TRIGGER adherence_day_pause_delete AFTER DELETE ON assignment_pause
    BEGIN
        DELETE FROM adherence_day
        WHERE child_id = (SELECT child_id FROM assignment WHERE id = OLD.assignment_id);
    END""",
)
_SQLITE_NAMES = [s.split()[2] for s in _SQLITE]

_POSTGRES = """
CREATE FUNCTION adherence_day_forget(p_child integer, p_day date) RETURNS void AS $$
BEGIN
    IF p_child IS NULL THEN
        RETURN;
    END IF;
    PERFORM 1 FROM child WHERE id = p_child FOR NO KEY UPDATE;
    IF p_day IS NULL THEN
        DELETE FROM adherence_day WHERE child_id = p_child;
    ELSE
        DELETE FROM adherence_day WHERE child_id = p_child AND local_date = p_day;
    END IF;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION adherence_day_log() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM adherence_day_forget(OLD.child_id, OLD.local_date);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM adherence_day_forget(NEW.child_id, NEW.local_date);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER adherence_day_log
    AFTER INSERT OR DELETE OR UPDATE OF assignment_id, child_id, local_date, deleted_at ON completion_log
    FOR EACH ROW EXECUTE FUNCTION adherence_day_log();

CREATE FUNCTION adherence_day_assignment() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM adherence_day_forget(OLD.child_id, NULL);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM adherence_day_forget(NEW.child_id, NULL);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER adherence_day_assignment AFTER INSERT OR UPDATE OR DELETE ON assignment
    FOR EACH ROW EXECUTE FUNCTION adherence_day_assignment();

CREATE FUNCTION adherence_day_pause() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM adherence_day_forget(
            (SELECT child_id FROM assignment WHERE id = OLD.assignment_id), NULL);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM adherence_day_forget(
            (SELECT child_id FROM assignment WHERE id = NEW.assignment_id), NULL);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER adherence_day_pause AFTER INSERT OR UPDATE OR DELETE ON assignment_pause
    FOR EACH ROW EXECUTE FUNCTION adherence_day_pause();
"""


def create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(_POSTGRES)
    else:
        raise RuntimeError(f"no adherence cache triggers for {dialect}")


def drop_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS adherence_day_log ON completion_log")
        op.execute("DROP TRIGGER IF EXISTS adherence_day_assignment ON assignment")
        op.execute("DROP TRIGGER IF EXISTS adherence_day_pause ON assignment_pause")
        for function in ("adherence_day_log", "adherence_day_assignment", "adherence_day_pause"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        op.execute("DROP FUNCTION IF EXISTS adherence_day_forget(integer, date)")


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "adherence_day",
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
            name=op.f("fk_adherence_day_child_id_child"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("child_id", "local_date", name=op.f("pk_adherence_day")),
    )
    with op.batch_alter_table("completion_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completion_log_assignment_id"))
        batch_op.create_index(
            "ix_completion_log_recent",
            ["assignment_id", "occurred_at", "id", "deleted_at", "local_date", "response"],
            unique=False,
        )

    # ### end Alembic commands ###
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("completion_log", schema=None) as batch_op:
        batch_op.drop_index("ix_completion_log_recent")
        batch_op.create_index(
            batch_op.f("ix_completion_log_assignment_id"), ["assignment_id"], unique=False
        )

    op.drop_table("adherence_day")
    # ### end Alembic commands ###

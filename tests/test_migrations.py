"""Migrations build exactly the models' schema and can be undone."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from homeprogram.db import make_engine
from homeprogram.migrations_runner import alembic_config, downgrade, upgrade
from homeprogram.models import Base


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def test_single_linear_history():
    """The migrations form one line (no unmerged branches)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_migration_files_are_listed_in_the_order_they_run():
    """Sorted by name, the files in migrations/versions are the order Alembic runs them in
    (the revision ids, already applied on servers, stay as they were)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    run_order = [Path(rev.path).name for rev in reversed(list(script.walk_revisions()))]
    on_disk = sorted(path.name for path in Path(script.versions).glob("*.py"))
    assert on_disk == run_order


def test_upgrade_matches_models_and_downgrade_empties(database_url):
    """Upgrading an empty database gives the models' schema; downgrading removes it all."""
    # database_url is already at head (the fixture migrated it).
    assert _diff(database_url) == []
    downgrade(database_url, "base")
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
    upgrade(database_url)
    assert _diff(database_url) == []

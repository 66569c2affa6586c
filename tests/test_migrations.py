"""Migrations build exactly the models' schema and can be undone."""

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

"""Absolute locations of templates, static files, migrations and the instance folder.

In a wheel, templates/, static/ and migrations/ are packaged inside ``homeprogram/``;
in a source checkout they sit at the top level beside the package.
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


def _resource(name: str) -> Path:
    packaged = PACKAGE_DIR / name
    if packaged.is_dir():
        return packaged
    return SOURCE_ROOT / name


TEMPLATES_DIR = _resource("templates")
STATIC_DIR = _resource("static")
MIGRATIONS_DIR = _resource("migrations")


def instance_dir() -> Path:
    """The runtime data folder: ``HOMEPROGRAM_INSTANCE_PATH`` or ``./instance``."""
    configured = os.environ.get("HOMEPROGRAM_INSTANCE_PATH")
    path = Path(configured) if configured else Path.cwd() / "instance"
    return path.resolve()

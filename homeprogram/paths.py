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


# Children's data: readable by the account that runs the app and nobody else.
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
_GROUP_OR_OTHERS = 0o077


def private_folder(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700 folders (existing ones stay as they
    are: ``serve`` warns about those)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # another process made it first
            continue
    return path


def private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True when created here.

    SQLite gives a database's -wal, -shm and -journal files the mode of the database file,
    so a database created this way keeps all of them private.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def readable_by_others(*places: Path) -> list[Path]:
    """The files and folders in ``places`` (folders walked) that group or others may use."""
    found = []
    for place in places:
        if not place.exists():
            continue
        paths = [place, *place.rglob("*")] if place.is_dir() else [place]
        found += [p for p in paths if p.lstat().st_mode & _GROUP_OR_OTHERS and not p.is_symlink()]
    return found

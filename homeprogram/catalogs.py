"""Compiling the message catalogs (``translations/<lang>/LC_MESSAGES/messages.po``).

Compiled ``.mo`` files are never committed: the wheel's build hook (``hatch_build.py``),
``make`` (before demo, serve and test) and the test suite compile them from the ``.po``
files. Imports nothing but Babel, so the build hook can load this file on its own.
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    return sorted(directory.glob("*/LC_MESSAGES/*.po"))


def compile_all(directory: Path = TRANSLATIONS, *, only_stale: bool = True) -> list[Path]:
    """Write each catalog's ``.mo`` beside it (fuzzy entries left out); the ones written."""
    written = []
    for po in catalogs(directory):
        mo = po.with_suffix(".mo")
        if only_stale and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written.append(mo)
    return written


if __name__ == "__main__":  # make catalogs
    for path in compile_all(Path(sys.argv[1]) if len(sys.argv) > 1 else TRANSLATIONS):
        print(f"compiled {path}")

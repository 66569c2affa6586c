"""The strings in the code, extracted as `make messages` does (the translation tests use it)."""

from functools import cache
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

ROOT = Path(__file__).resolve().parent.parent
# Babel's own keywords (gettext, ngettext, N_...) and the lazy ones, as the Makefile gives.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**.html", "jinja2")]


@cache
def source_messages() -> tuple[str | tuple[str, str], ...]:
    """Every msgid (a plural as (singular, plural)) in homeprogram/ and templates/."""
    found: dict[str | tuple[str, str], None] = {}
    for folder in ("homeprogram", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=METHODS, keywords=KEYWORDS
        ):
            if isinstance(message, tuple):
                if message[0]:
                    found[(message[0], message[1])] = None
            elif message:
                found[message] = None
    return tuple(found)

"""Every shipped catalog is complete and well-formed: each string of the code is in it and
translated, nothing is fuzzy, placeholders match, plurals have every form."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from homeprogram import catalogs
from tests.catalog_source import source_messages

PO_FILES = catalogs.catalogs()
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")
TAG = re.compile(r"</?[a-z]+\b[^>]*>")


def _read(path: Path):
    with path.open("rb") as source:
        return read_po(source, locale=path.parent.parent.name)


def test_there_is_a_spanish_catalog():
    assert [p.parent.parent.name for p in PO_FILES] == ["es"]


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_every_string_of_the_code_is_translated(path):
    catalog = _read(path)
    missing, untranslated, fuzzy = [], [], []
    for message in source_messages():
        key = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(key)
        if entry is None:
            missing.append(key)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            untranslated.append(key)
        if entry.fuzzy:
            fuzzy.append(key)
    # `make messages` adds new strings; a translator fills them in.
    assert not missing, f"not in the catalog (run `make messages`): {missing[:20]}"
    assert not untranslated, f"empty translations: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy (check and clear the flag): {fuzzy[:20]}"


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: p.parent.parent.name)
def test_placeholders_tags_and_plural_forms_match(path):
    catalog = _read(path)
    problems = [
        f"{message.id!r}: {error}" for message, errors in catalog.check() for error in errors
    ]
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            problems.append(f"{ids[0]!r}: {len(strings)} plural forms, not {catalog.num_plurals}")
        wanted = {p for source in ids for p in PLACEHOLDER.findall(source)}
        for text in strings:
            if not text:
                continue
            used = set(PLACEHOLDER.findall(text))
            if not used <= wanted:
                problems.append(f"{ids[0]!r}: unknown placeholder in {text!r}")
            # A singular may say "una sesión" without the number; the other forms keep all.
            if text is not strings[0] and set(PLACEHOLDER.findall(ids[-1])) - used:
                problems.append(f"{ids[0]!r}: a placeholder is missing in {text!r}")
            if not isinstance(message.id, tuple) and set(PLACEHOLDER.findall(ids[0])) != used:
                problems.append(f"{ids[0]!r}: placeholders differ in {text!r}")
            if sorted(TAG.findall(ids[0])) != sorted(TAG.findall(text)):
                problems.append(f"{ids[0]!r}: HTML tags differ in {text!r}")
    assert not problems, "\n".join(problems)


def test_the_check_notices_a_wrong_placeholder(tmp_path):
    po = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        '#, python-format\nmsgid "Hello %(name)s"\nmsgstr "Hola %(nombre)s"\n',
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match="placeholders differ"):
        test_placeholders_tags_and_plural_forms_match(po)

"""Nothing a family or teacher reads is left untranslated by accident.

Every string in the code is extracted afresh and put in a pseudo-locale catalog that wraps
each one as ``⟦ŧŗåñšƒőŗɱéð⟧``. Every caregiver, teacher and public page of the route table
is rendered in that locale, as its rightful user, with a full world of data; after taking
out the wrapped strings, everything the database holds (names, activities, notes), digits and
the locale's own date words, any word left is a string that never went through the catalog.
"""

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import url_for
from sqlalchemy import select

from homeprogram import models
from homeprogram.models import Base
from tests.catalog_source import source_messages
from tests.page_text import visible_text
from tests.route_table import PUBLIC, TABLE
from tests.world import build_world, signed_in_client

# A locale Babel knows (dates and plurals work) that the app does not ship.
PSEUDO = "eo"
OPEN, CLOSE = "⟦", "⟧"
_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀçđéƒğĥîĵķłɱñöþqŗšŧüvŵxýžÅƁÇĐÉƑĞĤÎĴĶŁMÑÖÞQŔŠŦÜVŴXÝŽ",
)
_PLACEHOLDER = re.compile(r"(%\([a-z_]+\)[sd]|%%|<[^>]+>|&[a-z]+;)")
# Pages for families, teachers and everyone; staff pages are marked but may stay English.
FAMILY_PERSONAS = ("caregiver", "teacher", "other_caregiver")


def pseudo(text: str) -> str:
    """Accent every letter outside placeholders and tags, and wrap the result."""
    parts = _PLACEHOLDER.split(text)
    return (
        OPEN
        + "".join(p if _PLACEHOLDER.fullmatch(p) else p.translate(_ACCENTED) for p in parts)
        + CLOSE
    )


def _pseudo_catalog(directory: Path) -> int:
    catalog = Catalog(locale=PSEUDO)
    for message in source_messages():
        if isinstance(message, tuple):
            catalog.add(message, (pseudo(message[0]), pseudo(message[1])))
        else:
            catalog.add(message, pseudo(message))
    target = directory / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as out:
        write_mo(out, catalog)
    return len(catalog)


@pytest.fixture(scope="module")
def pseudo_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pseudo")
    assert _pseudo_catalog(directory) > 500
    return directory


@pytest.fixture
def app_config(pseudo_translations: Path) -> dict[str, Any]:
    return {
        "LANGUAGES": ("en", "es", PSEUDO),
        "BABEL_TRANSLATION_DIRECTORIES": f"translations;{pseudo_translations}",
    }


def test_the_pseudo_transform_keeps_placeholders_and_tags():
    assert pseudo("Log in") == "⟦Łöğ îñ⟧"
    assert (
        pseudo("%(num)d of <strong>%(name)s</strong>") == "⟦%(num)d öƒ <strong>%(name)s</strong>⟧"
    )


def _database_strings(session: Any) -> list[str]:
    """Every string the database holds, longest first: data, never to be translated."""
    found: set[str] = set()
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            for value in row:
                values = value if isinstance(value, list) else [value]
                if isinstance(value, dict):
                    values = [
                        v for v in value.values() for v in (v if isinstance(v, list) else [v])
                    ]
                found.update(v.strip() for v in values if isinstance(v, str) and len(v.strip()) > 1)
    return sorted(found - CODES, key=len, reverse=True)


def _locale_words() -> set[str]:
    """Month and day names, era and day-period words of the pseudo locale (Babel's own)."""
    locale = Locale.parse(PSEUDO)
    words: set[str] = set()
    for table in (locale.months, locale.days):
        for context in table.values():
            for width in context.values():
                words.update(str(name) for name in width.values())
    for width in locale.day_periods.get("format", {}).values():
        words.update(str(name) for name in width.values())
    return {w for name in words for w in re.findall(r"[^\W\d_]+", name)}


# Words that are not translated on purpose: the product's name, each language's name in
# itself (the language switch), and what the world's data put into the page in other forms.
# "pytest" is the test client's user agent, shown as the device on the sessions page.
ALLOWED = {"homeprogram", "English", "Español", "Esperanto", "pytest"}
# Codes (enum values such as "home", "just_right", "caregiver") are not data a page may
# show as they are: a page showing one untranslated must fail.
CODES = {
    member.value
    for kind in vars(models).values()
    if isinstance(kind, type) and issubclass(kind, StrEnum) and kind is not StrEnum
    for member in kind
}


def leftover_words(text: str, data: list[str], locale_words: set[str]) -> list[str]:
    while True:
        stripped = re.sub(rf"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", " ", text)
        if stripped == text:
            break
        text = stripped
    for value in data:
        if value in text:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    words = re.findall(r"[^\W\d_]{2,}", text)
    return sorted({w for w in words if w not in locale_words and w not in ALLOWED})


def test_every_family_and_teacher_page_is_translated(app, factory, session):
    world = build_world(factory, session, app)
    for persona in FAMILY_PERSONAS:
        world.users[persona].locale = PSEUDO
    session.commit()
    data = _database_strings(session)
    locale_words = _locale_words()
    clients: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    checked = 0
    for endpoint, entry in sorted(TABLE.items()):
        if "GET" not in entry.methods or entry.json:
            continue
        if entry.who == PUBLIC:
            persona = "anonymous"
        else:
            candidates = [p for p in FAMILY_PERSONAS if p in entry.who]
            if not candidates:
                continue
            persona = candidates[0]
        if persona not in clients:
            clients[persona] = (
                app.test_client()
                if persona == "anonymous"
                else signed_in_client(app, session, world.users[persona])
            )
        with app.test_request_context():
            url = url_for(endpoint, **entry.args(world))
        headers = {"Accept-Language": PSEUDO, **entry.headers}
        response = clients[persona].get(url, headers=headers)
        body = response.get_data()
        response.close()
        assert response.status_code < 500, url
        if response.mimetype != "text/html" or 300 <= response.status_code < 400:
            continue  # files, JSON and redirects (nobody reads a redirect's body)
        checked += 1
        page = body.decode()
        assert f'<html lang="{PSEUDO}"' in page or not page.lstrip().startswith("<!doctype"), url
        words = leftover_words(visible_text(page, for_translation=True), data, locale_words)
        if words:
            problems[f"{url} as {persona}"] = words
    assert checked > 20
    assert not problems, "\n".join(f"{page}: {words}" for page, words in problems.items())


def test_the_check_finds_a_string_that_skipped_the_catalog():
    data = ["Sam", "Button practice"]
    text = f"{pseudo('Today')} Sam Button practice 3 {pseudo('of %(num)d')} Forgotten words"
    assert leftover_words(text, data, set()) == ["Forgotten", "words"]
    assert leftover_words(pseudo("Fine"), data, set()) == []


def test_error_pages_form_messages_and_empty_states_are_translated(app, factory, session):
    """What the route table's happy paths do not show: a missing page, a form sent with
    mistakes (the forms' and the services' messages), a family with no child yet."""
    world = build_world(factory, session, app)
    caregiver = world.users["caregiver"]
    caregiver.locale = PSEUDO
    lonely = factory.user(name="Nobody yet", locale=PSEUDO)
    session.commit()
    data = _database_strings(session)
    locale_words = _locale_words()
    family = signed_in_client(app, session, caregiver)
    anonymous = app.test_client()
    log = world["log"]
    pages = {
        "404 (anonymous)": anonymous.get("/no-such-page", headers={"Accept-Language": PSEUDO}),
        "404 (family)": family.get("/no-such-page"),
        "login with mistakes": anonymous.post(
            "/login", data={"email": "", "password": ""}, headers={"Accept-Language": PSEUDO}
        ),
        "details with mistakes": family.post(
            f"/children/{world['child'].id}/logs/{log.id}/details",
            data={f"log{log.id}-minutes": "-4", f"log{log.id}-response": "nonsense"},
        ),
        "no child yet": signed_in_client(app, session, lonely).get("/today"),
    }
    problems = {}
    for name, response in pages.items():
        assert response.status_code < 500, name
        words = leftover_words(
            visible_text(response.get_data(as_text=True), for_translation=True), data, locale_words
        )
        if words:
            problems[name] = words
    assert pages["details with mistakes"].status_code == 400
    assert not problems, problems

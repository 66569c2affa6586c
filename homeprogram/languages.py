"""The languages people can read the app in, and which one a request uses.

``LANGUAGES`` (configuration) lists them; English is the source language and every other
one needs a compiled catalog in a translation directory (``make catalogs``). A request's
language is, in order: the page's own (an invite in the family's language, a handout
printed in a chosen language), the signed-in person's setting, the choice made on the login
page (a cookie), the browser's ``Accept-Language``, English.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_babel
from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user

from homeprogram import config
from homeprogram.config import ConfigError

SOURCE = "en"
COOKIE = "hp_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def supported() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def supported_or_none(code: str | None) -> str | None:
    """``code`` when it is a configured language, else None."""
    return code if code and code in supported() else None


def native_name(code: str) -> str:
    """ "Español", "English": each language named in itself, for switches and choices."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def name_in_viewer_language(code: str) -> str:
    viewer = flask_babel.get_locale() or Locale.parse(SOURCE)
    return Locale.parse(code).get_display_name(viewer) or code


def html_lang() -> str:
    """The page's language as a BCP 47 tag for ``<html lang>`` ("pt-BR", not "pt_BR")."""
    return str(flask_babel.get_locale() or SOURCE).replace("_", "-")


def choices() -> list[tuple[str, str]]:
    return [(code, native_name(code)) for code in supported()]


def select_locale() -> str:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # scheduler jobs and CLI: force_locale where it matters
        return default
    page = g.get("page_language")
    if page:
        return str(page)
    if current_user and current_user.is_authenticated:
        chosen = supported_or_none(current_user.locale)
        if chosen:
            return chosen
    chosen = supported_or_none(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    return request.accept_languages.best_match(supported()) or default


def use_for_page(code: str | None) -> None:
    """Render this page in ``code`` (when configured), whoever reads it."""
    code = supported_or_none(code)
    if code:
        g.page_language = code
        flask_babel.refresh()


@contextmanager
def rendering_in(code: str | None) -> Iterator[None]:
    """Text made inside is in ``code`` (a configured language) or the default: jobs, emails."""
    code = supported_or_none(code) or current_app.config["BABEL_DEFAULT_LOCALE"]
    with flask_babel.force_locale(code):
        yield


def _catalog_exists(app: Flask, code: str) -> bool:
    directories = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations").split(";")
    for directory in directories:
        base = Path(directory) if Path(directory).is_absolute() else Path(app.root_path, directory)
        if list(base.glob(f"{code}/LC_MESSAGES/*.mo")):
            return True
    return False


def init_app(app: Flask) -> None:
    """Refuse to start with a configured language that has no compiled catalog."""
    app.config["LANGUAGES"] = config._parse(
        config.LANGUAGE_LIST, app.config["LANGUAGES"], "LANGUAGES"
    )
    for code in app.config["LANGUAGES"]:
        try:
            Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            raise ConfigError(f"LANGUAGES: {code!r} is not a language code such as 'es'.") from None
        if code != SOURCE and not _catalog_exists(app, code):
            raise ConfigError(
                f"LANGUAGES lists {code!r} but no compiled catalog was found for it: add "
                f"homeprogram/translations/{code}/LC_MESSAGES/messages.po and run `make "
                "catalogs` (docs/translating.md)."
            )
    app.jinja_env.globals.update(
        language_choices=choices, native_language_name=native_name, html_lang=html_lang
    )

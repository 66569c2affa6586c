"""Helpers every blueprint shares: the request's session and actor, child access, responses."""

from typing import Any

import flask_babel
from flask import Flask, abort, current_app, render_template, request
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from homeprogram import formatting
from homeprogram.extensions import db, htmx
from homeprogram.services import access, audit
from homeprogram.services.audit import Actor
from homeprogram.services.errors import NotFound


def session() -> Session:
    return db.session


def client_ip() -> str | None:
    return request.remote_addr


def actor() -> Actor:
    if current_user.is_authenticated:
        return Actor(current_user.id, client_ip(), current_user.organization_id)
    return Actor(None, client_ip())


def child_or_404(
    child_id: int, allowed: frozenset[str] = access.ANY_ROLE, *, audit_read: bool = False
) -> access.ChildAccess:
    """The access helper for every child-scoped view: 404 unless the user may see the child.

    ``audit_read``: a staff member opening the child's record is written to the audit trail
    (``child.viewed``), in a write transaction of its own so the page's reads stay reads.
    """
    if not current_user.is_authenticated:
        abort(404)
    try:
        grant = access.child_access(session(), current_user.id, child_id, allowed)
    except NotFound:
        abort(404)
    if audit_read and grant.is_staff:
        with db.transaction() as w:
            audit.record(
                w,
                actor(),
                "child.viewed",
                organization_id=grant.child.organization_id,
                child_id=grant.child.id,
                target_type="child",
                target_id=grant.child.id,
                page=request.endpoint,
            )
    return grant


def apply_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Show a service's validation messages next to the form's fields."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def render(template: str, fragment: str | None = None, **context: Any) -> Any:
    """Render a page, or only its fragment for an htmx request (never for history restore)."""
    if fragment is not None and htmx and not htmx.history_restore_request:
        body = render_template(fragment, **context)
    else:
        body = render_template(template, **context)
    response = current_app.make_response(body)
    if fragment is not None:
        response.vary.add("HX-Request")
    return response


# Roles as people read them; templates call role_name(role).
ROLE_NAMES = {
    "caregiver": lazy_gettext("caregiver"),
    "teacher": lazy_gettext("teacher"),
    "therapist": lazy_gettext("therapist"),
    "admin": lazy_gettext("admin"),
}


RESPONSE_NAMES = {
    "easy": lazy_gettext("easy"),
    "just_right": lazy_gettext("just right"),
    "hard": lazy_gettext("hard"),
}


def response_name(response: str) -> str:
    name = RESPONSE_NAMES.get(response)
    return str(name) if name is not None else response


def role_name(role: str) -> str:
    name = ROLE_NAMES.get(role)
    return str(name) if name is not None else role


def _no_store(response: Any) -> Any:
    # Pages may carry child data: keep them out of shared and disk caches unless a view
    # (static files, the service worker) chose its own caching.
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_no_store)
    formatting.init_app(app)  # dates and times: the |day, |moment, ... filters
    app.jinja_env.globals.update(
        format_number=flask_babel.format_decimal,
        get_locale=flask_babel.get_locale,
        role_name=role_name,
        response_name=response_name,
    )

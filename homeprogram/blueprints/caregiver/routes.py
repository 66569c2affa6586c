"""The caregiver's phone pages: today, one-tap logging with details and undo, the week."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user

from homeprogram.access_control import caregiver_required
from homeprogram.blueprints.caregiver import pwa, settings  # noqa: F401 (registers routes)
from homeprogram.blueprints.caregiver.blueprint import bp
from homeprogram.blueprints.caregiver.display import anchor_label, dose_label, local_time
from homeprogram.blueprints.caregiver.family import child_today as _today
from homeprogram.blueprints.caregiver.family import family_child as _family_child
from homeprogram.blueprints.caregiver.family import picture_url as _picture_url
from homeprogram.blueprints.caregiver.forms import (
    DetailsFields,
    DetailsForm,
    DoneForm,
    details_labels,
    details_prefix,
)
from homeprogram.blueprints.progress.forms import BarrierForm
from homeprogram.extensions import db, htmx
from homeprogram.inputs import date_range_message, parse_date, parse_datetime, parse_id
from homeprogram.models import Child, CompletionLog
from homeprogram.models.base import utcnow
from homeprogram.services import access, activity_text, barriers, logs, programs
from homeprogram.services import today as plans
from homeprogram.services.errors import Conflict, NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, render

__all__ = ["bp"]

# Times a phone sends with "Done" are trusted within this distance of the server's clock.
CLIENT_CLOCK_SLACK = timedelta(hours=12)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "anchor_label": anchor_label,
        "details_labels": details_labels,
        "dose_label": dose_label,
        "local_time": local_time,
        "new_client_id": lambda: str(uuid.uuid4()),
        "picture_url": _picture_url,
    }


def _details(card: plans.Card) -> dict[int, DetailsFields]:
    return {log.id: DetailsFields.of_log(log) for log in card.my_logs}


def _card_response(
    child: Child,
    assignment_id: int,
    *,
    just_logged: int | None = None,
    typed: dict[int, DetailsFields] | None = None,
    announce: str = "",
) -> Any:
    """The card fragment for htmx (with a message for the live region), else the today page
    at that card, its sessions shown (a done card would fold them)."""
    if not htmx:
        response = redirect(
            url_for(
                "caregiver.child_today",
                child_id=child.id,
                logs=assignment_id,
                _anchor=f"card-{assignment_id}",
            )
        )
        response.vary.add("HX-Request")  # the same URL answers htmx with a fragment
        return response
    try:
        card = plans.card_for(
            db.session, child, assignment_id, _today(child), user_id=current_user.id
        )
    except NotFound:
        # Not on today's plan (any more): the whole page is the honest answer.
        response = render("caregiver/partials/live.html", announce=announce)
        response.headers["HX-Refresh"] = "true"
        return response
    response = render(
        "caregiver/partials/card.html",
        child=child,
        card=card,
        logs_open=True,  # the card answers a tap on it: its sessions stay in view
        just_logged=just_logged,
        details={**_details(card), **(typed or {})},
        announce=announce,
    )
    response.vary.add("HX-Request")
    return response


def _today_page(
    child: Child,
    children: list[Child] | None = None,
    open_steps: int | None = None,
    open_logs: int | None = None,
) -> Any:
    """The today page of ``child``; ``children`` are the caregiver's, when already read;
    ``open_steps`` and ``open_logs``: the assignment whose steps, or sessions, are shown
    open (a done card's, without JS)."""
    s = db.session
    day = _today(child)
    if children is None:
        children = access.children_for(s, current_user.id, "caregiver")
    page = plans.today_page(s, child, day, user_id=current_user.id)
    return render(
        "caregiver/today.html",
        children=children,
        child=child,
        open_steps=open_steps,
        open_logs=open_logs,
        plan=page.plan,
        notes=programs.open_notes(s, child.id),
        week=page.week,
        streak=page.streak,
        # The barrier prompt partial uses these rather than computing the flags again.
        barrier_prompt=barriers.barrier_prompt_given(s, current_user.id, child, day, page.flags),
        barrier_form=BarrierForm(formdata=None),
    )


@bp.get("/today")
@caregiver_required
def today():
    """The first child's today page; ``?child=<id>`` (links in reminders sent before each
    child had its own address) leads to that child's page, 404 for a child not one's own."""
    if "child" in request.args:
        child_id = parse_id(request.args["child"])
        if child_id is None:
            abort(404)
        child = _family_child(child_id)
        return redirect(url_for("caregiver.child_today", child_id=child.id))
    kids = access.children_for(db.session, current_user.id, "caregiver")
    if not kids:
        return render("caregiver/no_children.html")
    response = _today_page(kids[0], kids)
    # The same page is the first child's own today page: the service worker keeps it there
    # too, so a reminder for that child opens offline.
    response.headers["Content-Location"] = url_for("caregiver.child_today", child_id=kids[0].id)
    return response


@bp.get("/children/<int:child_id>/today")
@caregiver_required
def child_today(child_id: int):
    return _today_page(
        _family_child(child_id),
        open_steps=parse_id(request.args.get("steps", "")),
        open_logs=parse_id(request.args.get("logs", "")),
    )


@bp.get("/children/<int:child_id>/today/cards/<int:assignment_id>")
@caregiver_required
def card(child_id: int, assignment_id: int):
    child = _family_child(child_id)
    if htmx and "steps" in request.args:
        # A card done for the day loads its steps when they are opened.
        try:
            shown = plans.card_for(
                db.session, child, assignment_id, _today(child), user_id=current_user.id
            )
        except NotFound:
            abort(404)
        response = render("caregiver/partials/steps.html", a=shown.assignment, child=child)
        response.vary.add("HX-Request")
        return response
    if htmx and "logs" in request.args:
        # A card done for the day loads its sessions when they are opened.
        try:
            shown = plans.card_for(
                db.session, child, assignment_id, _today(child), user_id=current_user.id
            )
        except NotFound:
            abort(404)
        response = render(
            "caregiver/partials/my_logs.html",
            a=shown.assignment,
            card=shown,
            child=child,
            details=_details(shown),
        )
        response.vary.add("HX-Request")
        return response
    return _card_response(child, assignment_id)


def _client_time(raw: str | None) -> datetime:
    """The moment the phone says "Done" was tapped, if believable; else now."""
    now = utcnow()
    tapped = parse_datetime(raw)
    if tapped is not None and tapped.tzinfo is not None and abs(tapped - now) <= CLIENT_CLOCK_SLACK:
        return tapped
    return now


@bp.post("/children/<int:child_id>/logs")
@caregiver_required
def log_done(child_id: int):
    child = _family_child(child_id)
    form = DoneForm()
    valid = form.validate_on_submit()
    assignment_id = parse_id(form.assignment_id.data)
    if not valid or assignment_id is None:
        abort(400)
    s = db.session
    try:
        log, _created = logs.record_log(
            s,
            actor(),
            client_id=form.client_id.data,
            assignment_id=assignment_id,
            occurred_at=_client_time(form.occurred_at.data),
            user_id=current_user.id,
            child_id=child.id,
        )
        just_logged: int | None = log.id
    except NotFound:
        abort(404)
    except Conflict:
        s.rollback()
        if form.occurred_at.data or not _same_form_again(form.client_id.data, assignment_id):
            return _not_saved(child)
        just_logged = None
    except ValidationFailed:
        abort(400)
    s.commit()
    return _card_response(child, assignment_id, just_logged=just_logged, announce=gettext("Saved."))


def _same_form_again(client_id: str, assignment_id: int) -> bool:
    """Whether a Done sent without a tap time (a page without JavaScript) is the same form
    sent twice: its id is stored for this user and this activity. The server's clock gave
    each copy its time, so their times differ; the person tapped once."""
    stored = logs.find_by_client_id(db.session, logs.canonical_client_id(client_id))
    return (
        stored is not None
        and stored.logged_by_id == current_user.id
        and stored.assignment_id == assignment_id
    )


def _not_saved(child: Child) -> Any:
    """A Done whose id is taken by another session (409): nothing is stored, and it says so.
    The page makes a new id for every tap, so this is never the same tap sent again."""
    message = gettext(
        "Not saved: another session is already stored under this tap's code. Please tap Done again."
    )
    if htmx:
        return render("caregiver/partials/live.html", announce=message), 409
    flash(message, "error")
    return redirect(url_for("caregiver.child_today", child_id=child.id))


def _own_log_today(child: Child, log_id: int) -> CompletionLog:
    try:
        log = logs.own_log(db.session, current_user.id, log_id)
    except NotFound:
        abort(404)
    if log.child_id != child.id or log.local_date != _today(child):
        abort(404)  # undo and details are offered for the rest of the day
    return log


@bp.post("/children/<int:child_id>/logs/<int:log_id>/undo")
@caregiver_required
def undo(child_id: int, log_id: int):
    child = _family_child(child_id)
    log = _own_log_today(child, log_id)
    s = db.session
    logs.undo_log(s, actor(), log_id=log.id, user_id=current_user.id)
    s.commit()
    return _card_response(child, log.assignment_id, announce=gettext("Undone."))


def _decimal_to_float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


@bp.route("/children/<int:child_id>/logs/<int:log_id>/details", methods=["GET", "POST"])
@caregiver_required
def details(child_id: int, log_id: int):
    child = _family_child(child_id)
    log = _own_log_today(child, log_id)
    if log.deleted_at is not None:
        abort(404)
    if request.method == "GET":
        return _details_form(child, log)
    s = db.session
    form = DetailsForm(prefix=details_prefix(log.id))
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            logs.update_details(
                s,
                actor(),
                log_id=log.id,
                user_id=current_user.id,
                minutes=form.minutes.data,
                response=form.response.data or None,
                note=form.note.data or None,
                measure_value=_decimal_to_float(form.measure_value.data),
            )
        except ValidationFailed as failed:
            s.rollback()
            errors = failed.errors
        else:
            s.commit()
    if errors or form.errors:
        apply_errors(form, errors)
        typed = DetailsFields.of_form(log.id, form)
        if not htmx:
            return render("caregiver/details.html", child=child, log=log, fields=typed), 400
        # htmx swaps only 2xx answers: the card comes back with the messages in place.
        return _card_response(
            child,
            log.assignment_id,
            just_logged=log.id,
            typed={log.id: typed},
            announce=gettext("Please check the details."),
        )
    return _card_response(child, log.assignment_id, announce=gettext("Details saved."))


def _details_form(child: Child, log: CompletionLog) -> Any:
    """A log's details form: the fragment Today's card loads when its details are opened
    (htmx), else a page of its own (the link a phone without JavaScript follows)."""
    fields = DetailsFields.of_log(log)
    if not htmx:
        response = render("caregiver/details.html", child=child, log=log, fields=fields)
    else:
        response = render(
            "caregiver/partials/details_form.html",
            child=child,
            log=log,
            fields=fields,
            labels=details_labels(log.assignment),
            loaded=True,
        )
    response.vary.add("HX-Request")
    return response


@bp.get("/week")
@caregiver_required
def first_week():
    """The phone tab bar's "Week" on pages that show no child: the first child's week."""
    kids = access.children_for(db.session, current_user.id, "caregiver")
    if not kids:
        return render("caregiver/no_children.html")
    return redirect(url_for("caregiver.week", child_id=kids[0].id))


@bp.get("/children/<int:child_id>/week")
@caregiver_required
def week(child_id: int):
    child = _family_child(child_id)
    day = _today(child)
    raw = request.args.get("start", "")
    shown = parse_date(raw) if raw else day
    status = 200
    if shown is None:
        # A hand-edited or stale link: say so, and show this week instead.
        flash(gettext("That week cannot be shown. %(rule)s", rule=date_range_message()), "error")
        shown, status = day, 400
    s = db.session
    view, streak = plans.week_and_streak(s, child, shown, today=day)
    response = render(
        "caregiver/week.html",
        child=child,
        children=access.children_for(s, current_user.id, "caregiver"),
        week=view,
        texts=activity_text.texts_by_id(
            s, (row.activity_id for row in view.rows), str(get_locale())
        ),
        streak=streak,
        previous_start=view.start - timedelta(days=7),
        next_start=view.start + timedelta(days=7)
        if view.start + timedelta(days=7) <= day
        else None,
    )
    response.status_code = status
    return response


@bp.post("/children/<int:child_id>/notes/<int:note_id>/dismiss")
@caregiver_required
def dismiss_note(child_id: int, note_id: int):
    child = _family_child(child_id)
    s = db.session
    try:
        programs.dismiss_note(s, actor(), note_id, child.id)
    except NotFound:
        abort(404)
    s.commit()
    if htmx:
        return render("caregiver/partials/live.html", announce=gettext("Note dismissed."))
    return redirect(url_for("caregiver.child_today", child_id=child.id))
